"""Job lifecycle in real containers: timeout, cancel (CLI and Ctrl-C), background + stream, outputs of
failed jobs, and a runner killed with SIGKILL followed by recovery (no leaks, no lies)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import (
    assert_no_leftovers,
    cli,
    containers_of,
    datastore_file,
    show,
    spawn,
    wait_for_status,
    watchdog_pids,
    write_job,
)

pytestmark = pytest.mark.docker

SLOW_JOB = """
    command: echo started; echo partial > ${{outputs.o}}/part.txt; sleep 120; echo never
    outputs:
      o:
        mode: upload
    environment:
      image: runner/busybox:latest
    """


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "3")
    return workspace_dir


def wait_for_log(ws: Path, name: str, text: str, timeout: float = 120) -> None:
    log = ws / "jobs" / name / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + timeout
    while not (log.exists() and text in log.read_text()):
        assert time.monotonic() < deadline, f"'{text}' never appeared in {log}"
        time.sleep(0.3)


def test_timeout_fails_the_job(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: echo begin; sleep 60
        limits:
          timeout: 3
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "slow1")
    assert result.returncode == 1
    assert "begin" in result.stdout
    record = show(ws, "slow1")
    assert record["status"] == "Failed"
    assert "timed out after 3 s" in record["error"]
    assert_no_leftovers(docker_client, ws, "slow1")


def test_background_job_stream_and_cancel(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, SLOW_JOB)
    created = cli(ws, "job", "create", "--file", str(job), "--name", "bg1", check=True)
    assert created.stdout.strip() == "bg1"
    wait_for_log(ws, "bg1", "started")
    streamer = spawn(ws, "job", "stream", "--name", "bg1")
    assert show(ws, "bg1")["status"] == "Running"
    canceled = cli(ws, "job", "cancel", "--name", "bg1", check=True)
    assert "Canceled" in canceled.stdout
    out, err = streamer.communicate(timeout=60)
    assert streamer.returncode == 3
    assert "started" in out and "never" not in out
    record = show(ws, "bg1")
    assert record["status"] == "Canceled" and record["extra"]["status_times"].get("Finalizing")
    # the outputs were finalized (uploaded) on cancel
    assert datastore_file(ws, "azureml/bg1/o/part.txt").read_text() == "partial\n"
    assert_no_leftovers(docker_client, ws, "bg1")
    again = cli(ws, "job", "cancel", "--name", "bg1")
    assert again.returncode != 0 and "already Canceled" in again.stderr


def test_cancel_kills_a_command_that_ignores_sigterm_after_the_grace(ws: Path, tmp_path: Path,
                                                                      docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: trap 'echo got TERM' TERM; echo started; while true; do sleep 1; done
        environment:
          image: runner/busybox:latest
        """)
    cli(ws, "job", "create", "--file", str(job), "--name", "stubborn1", check=True)
    wait_for_log(ws, "stubborn1", "started")
    canceled = cli(ws, "job", "cancel", "--name", "stubborn1", check=True)
    assert "Canceled" in canceled.stdout
    log = (ws / "jobs" / "stubborn1" / "user_logs" / "std_log.txt").read_text()
    assert "got TERM" in log  # SIGTERM reached the command first, which carried on
    record = show(ws, "stubborn1")
    assert record["status"] == "Canceled" and record["exit_code"] == 137  # then SIGKILL
    assert_no_leftovers(docker_client, ws, "stubborn1")


def test_ctrl_c_on_stream_cancels(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, SLOW_JOB)
    proc = spawn(ws, "job", "create", "--file", str(job), "--stream", "--name", "int1")
    wait_for_log(ws, "int1", "started")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "Status: Canceled" in out
    assert show(ws, "int1")["status"] == "Canceled"
    assert datastore_file(ws, "azureml/int1/o/part.txt").read_text() == "partial\n"
    assert_no_leftovers(docker_client, ws, "int1")


def test_failed_job_outputs_uploaded_or_kept(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: echo result > ${{outputs.o}}/r.txt; exit 2
        outputs:
          o:
            mode: upload
        environment:
          image: runner/busybox:latest
        """)
    cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "f1")
    record = show(ws, "f1")
    assert record["status"] == "Failed" and record["outputs_partial"] is True
    assert datastore_file(ws, "azureml/f1/o/r.txt").read_text() == "result\n"

    cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "f2", "--no-upload-on-failure")
    record = show(ws, "f2")
    # its data stayed staged: partial all the same (issue 20: was False)
    assert record["status"] == "Failed" and record["outputs_partial"] is True
    assert record["extra"]["outputs_with_data"] == ["o"]
    assert not datastore_file(ws, "azureml/f2/o").exists()
    assert (ws / "jobs" / "f2" / "outputs" / "o" / "r.txt").read_text() == "result\n"


def test_runner_sigkill_then_recovery(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, SLOW_JOB)
    cli(ws, "job", "create", "--file", str(job), "--name", "kill1", check=True)
    wait_for_log(ws, "kill1", "started")
    record = wait_for_status(ws, "kill1", {"Running"})
    for pid in (*watchdog_pids(ws, "kill1"), record["runner_pid"]):  # a live watchdog would keep the job
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert len(containers_of(docker_client, "kill1")) == 1  # the orphan is still there ...
    listed = cli(ws, "job", "list", check=True)  # ... until the next runner command
    assert "kill1" in listed.stdout
    record = show(ws, "kill1")
    assert record["status"] == "Failed"
    assert f"runner process (pid {record['runner_pid']}) died while the job was Running" in record["error"]
    staged = ws / "jobs" / "kill1" / "outputs" / "o"
    assert str(staged) in record["error"]
    assert (staged / "part.txt").read_text() == "partial\n"  # staged output kept
    assert_no_leftovers(docker_client, ws, "kill1")


def test_unknown_job_is_one_clear_error(ws: Path) -> None:
    result = cli(ws, "job", "show", "--name", "nope")
    assert result.returncode != 0
    assert "unknown job 'nope'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.root("makes a read-only bind mount")
def test_output_that_cannot_be_made_durable_fails_the_job(ws: Path, tmp_path: Path) -> None:
    """exit 0, but the output's store refuses writes: Failed (no lie), staged data kept and named."""
    store = tmp_path / "readonly-store"
    store.mkdir()
    datastore = write_job(tmp_path, f"""
        name: frozen
        type: local
        path: {store}
        """, name="datastore.yml")
    cli(ws, "datastore", "create", "--file", str(datastore), check=True)
    job = write_job(tmp_path, """
        command: echo precious > ${{outputs.o}}/data.txt
        outputs:
          o:
            mode: upload
            path: azureml://datastores/frozen/paths/out
        environment:
          image: runner/busybox:latest
        """)
    subprocess.run(["mount", "--bind", str(store), str(store)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(store)], check=True)
        result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "frozen1")
    finally:
        subprocess.run(["umount", str(store)], check=True)
    assert result.returncode == 1
    record = show(ws, "frozen1")
    assert record["status"] == "Failed" and record["exit_code"] == 0
    assert "outputs could not be made durable" in record["error"]
    staged = ws / "jobs" / "frozen1" / "outputs" / "o"
    assert str(staged) in record["error"]
    assert (staged / "data.txt").read_text() == "precious\n"


def test_no_upload_on_failure_holds_back_the_artifacts_too(ws: Path, tmp_path: Path) -> None:
    """./outputs, ./logs and user_logs of a failed job stay staged with the named outputs; the record
    says what was held back and where. A job that completes gets its artifacts in place as usual."""
    job = write_job(tmp_path, """
        command: echo result > ${{outputs.o}}/r.txt; echo art > outputs/a.txt; echo log-line; exit 2
        outputs:
          o:
            mode: upload
        environment:
          image: runner/busybox:latest
        """)
    cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "h1", "--no-upload-on-failure")
    record = show(ws, "h1")
    assert record["status"] == "Failed" and record["outputs_partial"] is True  # o's data, held back
    assert not datastore_file(ws, "ExperimentRun/dcid.h1").exists()
    assert not datastore_file(ws, "azureml/h1/o").exists()
    staged = ws / "jobs" / "h1" / "outputs"
    assert (staged / "artifacts" / "outputs" / "a.txt").read_text() == "art\n"
    assert "log-line" in (staged / "artifacts" / "user_logs" / "std_log.txt").read_text()
    assert (staged / "o" / "r.txt").read_text() == "result\n"
    assert record["extra"]["held_back_outputs"] == {"artifacts": str(staged / "artifacts"),
                                                    "o": str(staged / "o")}
    assert "the command exited with code 2" in record["error"]
    assert (f"outputs not uploaded (--no-upload-on-failure); kept staged: artifacts in {staged / 'artifacts'}"
            f", o in {staged / 'o'}") in record["error"]
    download = cli(ws, "job", "download", "--name", "h1", "--output-name", "o", "--download-path",
                   str(tmp_path / "dl"))  # one clear error that says where the data is
    assert download.returncode == 1 and "Traceback" not in download.stderr
    assert f"never uploaded and stayed staged (o in {staged / 'o'})" in download.stderr

    ok = write_job(tmp_path, """
        command: echo art > outputs/a.txt
        environment:
          image: runner/busybox:latest
        """, name="ok.yml")
    cli(ws, "job", "create", "--file", str(ok), "--stream", "--name", "h2", "--no-upload-on-failure",
        check=True)
    assert datastore_file(ws, "ExperimentRun/dcid.h2/outputs/a.txt").read_text() == "art\n"
    assert not (ws / "jobs" / "h2" / "outputs" / "artifacts").exists()
    assert "held_back_outputs" not in show(ws, "h2")["extra"]


def _pending_signals(pid: int) -> int:
    """The signals pending for ``pid`` (its own and its thread group's), as a bit mask."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["SigPnd"], 16) | int(fields["ShdPnd"], 16)


def test_cancel_after_the_command_ended_does_not_interrupt_finalization(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    """The cancel arrives once the command has ended, before the outputs are finalized: nothing is
    interrupted, the job keeps the status its command earned (Completed), the record and `job cancel`
    say the cancel came too late. The order is forced, not timed: the workspace database is held so the
    runner waits to record Finalizing, the runner is stopped, and the cancel's SIGTERM is seen pending."""
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    job = write_job(tmp_path, """
        command: >-
          echo ready; until [ -e ${{inputs.ctl}}/go ]; do sleep 0.1; done;
          echo done > ${{outputs.o}}/f.txt
        inputs:
          ctl: {type: uri_folder, path: ctl, mode: direct}
        outputs:
          o: {mode: upload}
        environment:
          image: runner/busybox:latest
        """)
    cli(ws, "job", "create", "--file", str(job), "--name", "late1", check=True)
    wait_for_log(ws, "late1", "ready")
    runner_pid = wait_for_status(ws, "late1", {"Running"})["runner_pid"]
    db = sqlite3.connect(ws / "runner.db", isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # the runner cannot record Finalizing until this is released
    try:
        (ctl / "go").touch()
        while containers_of(docker_client, "late1"):  # the command ended; the container is removed
            time.sleep(0.2)
        os.kill(runner_pid, signal.SIGSTOP)
    finally:
        db.execute("ROLLBACK")
        db.close()
    try:
        canceler = spawn(ws, "job", "cancel", "--name", "late1")
        while not _pending_signals(runner_pid) & (1 << (signal.SIGTERM - 1)):
            assert canceler.poll() is None, canceler.communicate()
            time.sleep(0.1)
    finally:
        os.kill(runner_pid, signal.SIGCONT)
    out, err = canceler.communicate(timeout=120)
    assert canceler.returncode == 1
    assert "job 'late1' was not canceled: its command had already ended" in err
    assert "it ended Completed" in err and "Traceback" not in err
    record = show(ws, "late1")
    assert record["status"] == "Completed" and record["exit_code"] == 0 and record["error"] is None
    assert list(record["extra"]["status_times"]) == ["Queued", "Preparing", "Running", "Finalizing",
                                                     "Completed"]
    assert "a cancel arrived after the job's command had ended" in record["extra"]["late_cancel"]
    assert datastore_file(ws, "azureml/late1/o/f.txt").read_text() == "done\n"
    assert_no_leftovers(docker_client, ws, "late1")
    streamed = cli(ws, "job", "stream", "--name", "late1")
    assert streamed.returncode == 0 and "Note: a cancel arrived after the job's command had ended" in (
        streamed.stdout)
