"""The process backend (`--backend process` / `compute: local-process`): the same materialization, the
command run as a host subprocess with host paths; exit codes, env vars, outputs, cancel."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, make_tree, sha256_tree, show, spawn, wait_for_status, write_job

FILES = {"x.txt": b"x" * 1000, "nested/y.bin": os.urandom(70_000)}


@pytest.mark.fuse  # its local inputs reach the host process through read-only FUSE views
def test_process_backend_runs_with_host_paths(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    expected = make_tree(datastore_file(ws, "pdata"), FILES)
    (tmp_path / "one.txt").write_text("single file\n")
    job = write_job(tmp_path, """
        command: >-
          cp -r ${{inputs.folder}}/. ${{outputs.copy}}/ &&
          cp -r ${{inputs.dl}}/. ${{outputs.copy2}}/ &&
          cat ${{inputs.single}} && echo "cwd=$(pwd) var=$GREETING in=$AZURE_ML_INPUT_folder" &&
          echo done > outputs/marker.txt
        inputs:
          folder:
            path: azureml://datastores/workspaceblobstore/paths/pdata
            mode: ro_mount
          dl:
            path: azureml://datastores/workspaceblobstore/paths/pdata
            mode: download
          single:
            type: uri_file
            path: one.txt
        outputs:
          copy:
            mode: rw_mount
          copy2:
            mode: upload
        environment_variables:
          GREETING: hi
        compute: local-process
        environment:
          image: does-not-matter:1
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "proc1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "single file" in result.stdout
    code_dir = ws / "jobs" / "proc1" / "code"
    assert f"cwd={code_dir} var=hi in=" in result.stdout
    host_input = result.stdout.split(" in=", 1)[1].split()[0]
    # a read-only view under the job's folder, never the datastore's own folder
    assert host_input.startswith(str(ws / "jobs" / "proc1" / "inputs" / "folder") + "/")
    assert "/mnt/runner" not in host_input
    assert sha256_tree(datastore_file(ws, "azureml/proc1/copy")) == expected
    assert sha256_tree(datastore_file(ws, "azureml/proc1/copy2")) == expected
    assert datastore_file(ws, "ExperimentRun/dcid.proc1/outputs/marker.txt").read_text() == "done\n"
    record = show(ws, "proc1")
    assert record["backend"] == "process" and record["status"] == "Completed"


def test_process_backend_exit_code_and_cancel(workspace_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace_dir
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    failing = write_job(tmp_path, """
        command: echo failing; exit 5
        environment:
          image: runner/busybox:latest
        """, name="fail.yml")
    result = cli(ws, "job", "create", "--file", str(failing), "--stream", "--backend", "process",
                 "--name", "pfail")
    assert result.returncode == 1
    assert show(ws, "pfail")["exit_code"] == 5

    slow = write_job(tmp_path, """
        command: echo started; sleep 120
        environment:
          image: runner/busybox:latest
        """, name="slow.yml")
    proc = spawn(ws, "job", "create", "--file", str(slow), "--stream", "--backend", "process",
                 "--name", "pslow")
    log = ws / "jobs" / "pslow" / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 120
    while not (log.exists() and "started" in log.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 3
    record = show(ws, "pslow")
    assert record["status"] == "Canceled"
    pid = int(record["container_id"])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the job's process group is gone


def test_a_link_out_of_an_output_is_not_followed(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST SECRET\n")
    job = write_job(tmp_path, f"""
        command: >-
          echo weights > ${{{{outputs.out}}}}/model.bin &&
          ln -s model.bin ${{{{outputs.out}}}}/latest &&
          ln -s {secret} ${{{{outputs.out}}}}/leak.txt
        outputs:
          out:
            mode: upload
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name="links.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "links1")
    assert result.returncode == 0, result.stdout + result.stderr
    stored = datastore_file(ws, "azureml/links1/out")
    assert sorted(p.name for p in stored.iterdir()) == ["latest", "model.bin"]
    assert (stored / "latest").read_text() == "weights\n" and not (stored / "latest").is_symlink()
    assert "leak.txt" in result.stderr and "not uploaded" in result.stderr
    downloaded = tmp_path / "dl"
    cli(ws, "job", "download", "--name", "links1", "--all", "--download-path", str(downloaded), check=True)
    assert not any("HOST SECRET" in p.read_text() for p in downloaded.rglob("*") if p.is_file())


def test_download_all_of_a_job_that_failed_before_writing_an_output(workspace_dir: Path,
                                                                    tmp_path: Path) -> None:
    ws = workspace_dir
    job = write_job(tmp_path, """
        command: mkdir -p outputs && echo kept > outputs/log.txt && exit 4
        outputs:
          never:
            mode: upload
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name="early.yml")
    assert cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "early1").returncode == 1
    out = tmp_path / "dl"
    result = cli(ws, "job", "download", "--name", "early1", "--all", "--download-path", str(out))
    assert result.returncode == 1
    assert "output(s) never were not written" in result.stderr and "ended Failed" in result.stderr
    assert (out / "artifacts" / "outputs" / "log.txt").read_text() == "kept\n"  # what exists is copied
    one = cli(ws, "job", "download", "--name", "early1", "--output-name", "never",
              "--download-path", str(out))
    assert one.returncode == 1 and "ended Failed before writing it" in one.stderr


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_process_backend_timeout_and_runner_sigkill(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    timed = write_job(tmp_path, """
        command: echo begin; sleep 60
        limits:
          timeout: 2
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name="timed.yml")
    result = cli(ws, "job", "create", "--file", str(timed), "--stream", "--name", "ptime")
    assert result.returncode == 1 and "begin" in result.stdout
    record = show(ws, "ptime")
    assert record["status"] == "Failed" and "timed out after 2 s" in record["error"]
    assert _gone(int(record["container_id"]))  # the job's process group was stopped

    slow = write_job(tmp_path, """
        command: echo started; sleep 120
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name="slow.yml")
    cli(ws, "job", "create", "--file", str(slow), "--name", "pkill", check=True)
    record = wait_for_status(ws, "pkill", {"Running"})
    deadline = time.monotonic() + 30
    while not record.get("container_id"):  # (the process group is recorded once it started)
        assert time.monotonic() < deadline, "the job's process was never recorded"
        time.sleep(0.2)
        record = show(ws, "pkill")
    os.kill(record["runner_pid"], signal.SIGKILL)
    group = int(record["container_id"])
    cli(ws, "job", "list", check=True)  # the next runner command finds the dead runner ...
    record = show(ws, "pkill")
    assert record["status"] == "Failed" and "died while the job was Running" in record["error"]
    deadline = time.monotonic() + 30
    while not _gone(group):  # ... and stops its orphaned command
        assert time.monotonic() < deadline, "the orphaned command is still running"
        time.sleep(0.2)
