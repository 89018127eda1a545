"""Faults of the processes around a job: its runner SIGKILLed (the watchdog stops the container at its
timeout and keeps its log; or the command ends first), the runner and its watchdog both killed (the next
command recovers, keeping the log tail), the container killed, the fork server's child killed, and the
FUSE connection of an input aborted mid-read (what a dead FUSE daemon looks like to the job).

For each: the final status, nothing lost that was flushed, no container, mount or partial file left
behind, and one clear message."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_support import db_record, one_clear_message, std_log, wait_db
from jobs_support import (
    RUNNER,
    assert_no_leftovers,
    cli,
    containers_of,
    create_azure_datastore,
    datastore_file,
    show,
    write_job,
)

from mounts.fuse.lifecycle import abort_connection
from runner.forkserver import server_pids
from runner.jobs.recovery import process_start_time
from runner.launch import ENV_SWITCH, server_paths

pytestmark = pytest.mark.docker

TICKING = """
    command: >-
      echo flushed > ${{{{outputs.o}}}}/part.txt;
      i=0; while [ $i -lt {ticks} ]; do i=$((i+1)); echo tick $i; sleep 0.2; done
    limits:
      timeout: {timeout}
    outputs:
      o: {{mode: upload}}
    environment:
      image: runner/busybox:latest
    """


def ticks_in(log: str) -> list[int]:
    return [int(line.split()[1]) for line in log.splitlines() if line.startswith("tick ")]


def start_ticking(ws: Path, tmp_path: Path, name: str, *, ticks: int = 100000,
                  timeout: int = 8) -> dict[str, Any]:
    """A background job printing ``tick N`` every 0.2 s; its record once a few ticks are logged."""
    job = write_job(tmp_path, TICKING.format(ticks=ticks, timeout=timeout), name=f"{name}.yml")
    cli(ws, "job", "create", "--file", str(job), "--name", name, check=True)
    return wait_db(ws, name, lambda r: ticking(ws, name, r), what="the job to run")


def ticking(ws: Path, name: str, record: dict[str, Any]) -> bool:
    return record["status"] == "Running" and len(ticks_in(std_log(ws, name))) >= 3


def watchdog_pids(ws: Path, name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if any(b"runner.jobs.watchdog" in arg for arg in argv) and str(ws).encode() in argv and \
                    name.encode() in argv:
                found.append(int(entry))
    return found


def assert_whole_log(log: str, after: int) -> None:
    """Every tick once, in order, and ticks printed after ``after`` (when the runner died) kept."""
    ticks = ticks_in(log)
    assert ticks == list(range(1, len(ticks) + 1)), "a line of the log was lost or written twice"
    assert ticks[-1] > after + 5, f"the log stops at tick {ticks[-1]}: its tail was lost"


def test_runner_killed_the_watchdog_stops_the_container_at_its_timeout(ws: Path, tmp_path: Path,
                                                                       docker_client: Any) -> None:
    record = start_ticking(ws, tmp_path, "orphan1", timeout=8)
    os.kill(record["runner_pid"], signal.SIGKILL)
    at_kill = ticks_in(std_log(ws, "orphan1"))[-1]
    # no runner command runs from here on: only the watchdog can stop the container and end the job
    final = wait_db(ws, "orphan1", lambda r: r["status"] == "Failed", timeout=60, what="the watchdog")
    assert containers_of(docker_client, "orphan1") == []
    error = final["error"]
    assert f"the runner process (pid {record['runner_pid']}) died while the job was Running" in error
    assert "the job's watchdog stopped its container at its limits.timeout (8 s)" in error
    staged = ws / "jobs" / "orphan1" / "outputs" / "o"
    assert str(staged) in error and (staged / "part.txt").read_text() == "flushed\n"  # kept, named
    one_clear_message(error)
    assert_whole_log(std_log(ws, "orphan1"), at_kill)
    assert_no_leftovers(docker_client, ws, "orphan1")
    deadline = time.monotonic() + 30
    while watchdog_pids(ws, "orphan1"):  # it exits once it recorded the end
        assert time.monotonic() < deadline, "the watchdog did not exit"
        time.sleep(0.1)


def test_runner_killed_the_command_ends_on_its_own_and_the_watchdog_records_it(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    record = start_ticking(ws, tmp_path, "orphan2", ticks=25, timeout=600)
    os.kill(record["runner_pid"], signal.SIGKILL)
    at_kill = ticks_in(std_log(ws, "orphan2"))[-1]
    final = wait_db(ws, "orphan2", lambda r: r["status"] == "Failed", timeout=60, what="the watchdog")
    assert "its command ran on and exited with code 0" in final["error"]
    assert_whole_log(std_log(ws, "orphan2"), at_kill)
    assert ticks_in(std_log(ws, "orphan2"))[-1] == 25  # to the last line
    assert_no_leftovers(docker_client, ws, "orphan2")


def test_runner_and_watchdog_killed_the_next_command_recovers_and_keeps_the_log_tail(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    record = start_ticking(ws, tmp_path, "orphan3", timeout=600)
    watchdogs = watchdog_pids(ws, "orphan3")
    assert len(watchdogs) == 1
    for pid in (*watchdogs, record["runner_pid"]):
        os.kill(pid, signal.SIGKILL)
    at_kill = ticks_in(std_log(ws, "orphan3"))[-1]
    time.sleep(2.5)  # the container prints on, with nobody reading
    assert len(containers_of(docker_client, "orphan3")) == 1
    assert (db_record(ws, "orphan3") or {})["status"] == "Running"
    listed = cli(ws, "job", "list", check=True)  # the next runner command recovers the job
    assert "orphan3" in listed.stdout
    final = show(ws, "orphan3")
    assert final["status"] == "Failed" and "died while the job was Running" in final["error"]
    assert_whole_log(std_log(ws, "orphan3"), at_kill)  # the tail reached the log before removal
    assert_no_leftovers(docker_client, ws, "orphan3")


HOST_JOB = """
    command: >-
      echo flushed > ${{outputs.o}}/part.txt;
      trap 'echo TERM > ${{outputs.o}}/term.txt; exit 143' TERM;
      (trap '' TERM; exec sleep 600) & echo $! > ${{outputs.o}}/child.pid;
      echo started; wait
    outputs:
      o: {mode: upload}
    environment:
      image: runner/busybox:latest
    """


def test_runner_killed_its_host_process_job_is_stopped_by_the_watchdog(ws: Path, tmp_path: Path) -> None:
    """A process-backend job's output goes through a pipe to its runner: once the runner is SIGKILLed,
    the watchdog stops the job's whole process group (SIGTERM, then SIGKILL for what ignores it) and
    records the end, with no runner command run; what the job staged is kept."""
    job = write_job(tmp_path, HOST_JOB)
    cli(ws, "job", "create", "--file", str(job), "--name", "host1", "--backend", "process", check=True)
    record = wait_db(ws, "host1", lambda r: r["status"] == "Running" and "started" in std_log(ws, "host1"),
                     what="the job to run")
    staged = ws / "jobs" / "host1" / "outputs" / "o"
    child = int((staged / "child.pid").read_text())  # in the job's process group, ignoring SIGTERM
    assert process_start_time(child) is not None
    os.kill(record["runner_pid"], signal.SIGKILL)
    try:
        final = wait_db(ws, "host1", lambda r: r["status"] == "Failed", timeout=60, what="the watchdog")
    finally:  # a test that fails here must not leave the job's processes running
        if process_start_time(int(record["container_id"])) == record["extra"]["process_start"]:
            os.killpg(int(record["container_id"]), signal.SIGKILL)
    assert f"the runner process (pid {record['runner_pid']}) died while the job was Running" in final["error"]
    assert "the job's watchdog stopped its command" in final["error"]
    one_clear_message(final["error"])
    assert (staged / "term.txt").read_text() == "TERM\n"  # asked to stop first
    assert process_start_time(child) is None  # and what ignored that was killed
    assert process_start_time(int(final["container_id"])) is None
    assert (staged / "part.txt").read_text() == "flushed\n" and str(staged) in final["error"]  # kept


def test_container_killed_fails_the_job_and_finalizes_what_it_wrote(ws: Path, tmp_path: Path,
                                                                     docker_client: Any) -> None:
    record = start_ticking(ws, tmp_path, "killed1", timeout=600)
    (container,) = containers_of(docker_client, "killed1")
    container.kill()
    final = wait_db(ws, "killed1", lambda r: r["status"] in ("Failed", "Completed"), timeout=60)
    assert final["status"] == "Failed" and final["exit_code"] == 137
    assert "the command exited with code 137" in final["error"]
    one_clear_message(final["error"])
    assert datastore_file(ws, "azureml/killed1/o/part.txt").read_text() == "flushed\n"  # uploaded
    assert final["outputs_partial"] is True
    assert_no_leftovers(docker_client, ws, "killed1")
    deadline = time.monotonic() + 30
    while watchdog_pids(ws, "killed1"):  # told "done" by its runner, it exits
        assert time.monotonic() < deadline, "the watchdog did not exit"
        time.sleep(0.1)
    assert record["runner_pid"]


@pytest.fixture
def forkserver(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fork server of this test alone (its own XDG_RUNTIME_DIR); the environment its clients use."""
    runtime = Path(tempfile.mkdtemp(prefix="rff-", dir="/tmp"))  # a socket path is <= 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv(ENV_SWITCH, raising=False)
    paths = server_paths()
    assert paths is not None
    server = subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock],
                              env=dict(os.environ), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(paths.socket):
            assert time.monotonic() < deadline, "the fork server did not start"
            time.sleep(0.05)
        yield dict(os.environ)
    finally:
        server.terminate()
        server.wait(timeout=30)
        for pid in server_pids(str(runtime)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(runtime, ignore_errors=True)


def test_fork_server_child_killed_the_watchdog_ends_the_job(ws: Path, tmp_path: Path, docker_client: Any,
                                                           forkserver: dict[str, str]) -> None:
    job = write_job(tmp_path, TICKING.format(ticks=100000, timeout=6))
    client = subprocess.Popen([*RUNNER, "--workspace", str(ws), "job", "create", "--file", str(job),
                               "--stream", "--name", "forked1"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=forkserver)
    record = wait_db(ws, "forked1", lambda r: ticking(ws, "forked1", r))
    assert record["runner_pid"] != client.pid  # the command runs in a child of the server
    os.kill(record["runner_pid"], signal.SIGKILL)
    at_kill = ticks_in(std_log(ws, "forked1"))[-1]
    client.communicate(timeout=60)
    assert client.returncode == -signal.SIGKILL  # the client dies as its command did
    final = wait_db(ws, "forked1", lambda r: r["status"] == "Failed", timeout=60, what="the watchdog")
    assert "the job's watchdog stopped its container at its limits.timeout (6 s)" in final["error"]
    assert_whole_log(std_log(ws, "forked1"), at_kill)
    assert_no_leftovers(docker_client, ws, "forked1")


@pytest.mark.fuse
@pytest.mark.azure
def test_fuse_connection_aborted_mid_read_fails_the_job_and_leaves_no_mount(
        ws: Path, tmp_path: Path, docker_client: Any, azure_container: Any, fuse_available: bool) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    for name in ("a.bin", "b.bin"):
        service.get_blob_client(azure_container.name, f"m/{name}").upload_blob(os.urandom(4 << 20))
    create_azure_datastore(ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: >-
          head -c 1 ${{inputs.m}}/a.bin > /dev/null && echo opened;
          while [ ! -e ${{inputs.ctl}}/go ]; do sleep 0.1; done;
          cat ${{inputs.m}}/b.bin > /dev/null
        inputs:
          m: {type: uri_folder, path: azureml://datastores/az/paths/m, mode: ro_mount}
          ctl: {type: uri_folder, path: ctl, mode: direct}
        environment:
          image: runner/busybox:latest
        """)
    (tmp_path / "ctl").mkdir()
    client = subprocess.Popen([*RUNNER, "--workspace", str(ws), "job", "create", "--file", str(job),
                               "--stream", "--name", "fuse1"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    wait_db(ws, "fuse1", lambda r: "opened" in std_log(ws, "fuse1"), what="the input to be read")
    mountpoint = ws / "jobs" / "fuse1" / "inputs" / "m" / "mnt"
    assert abort_connection(os.stat(mountpoint).st_dev)  # the FUSE daemon is gone, to the kernel
    (tmp_path / "ctl" / "go").touch()
    _out, err = client.communicate(timeout=120)
    final = show(ws, "fuse1")
    assert final["status"] == "Failed" and final["exit_code"] == 1
    assert "the command exited with code 1" in final["error"]
    assert "b.bin" in std_log(ws, "fuse1")  # cat says which file it could not read, and why
    one_clear_message(err + final["error"])
    assert_no_leftovers(docker_client, ws, "fuse1")


NON_ROOT_ARTIFACTS = """
    command: >-
      mkdir -p /mnt/runner/artifacts/m && echo art > /mnt/runner/artifacts/m/a.txt && {output}
      echo started && sleep 600
    resources:
      docker_args: --user 1234:1234
    limits:
      timeout: {timeout}
    {outputs}
    environment:
      image: runner/busybox:latest
    """


def start_non_root(ws: Path, tmp_path: Path, name: str, *, timeout: int, output: bool) -> dict[str, Any]:
    """A background container job as user 1234 that writes its MLflow artifact location (staged in its
    job's folder) and, with ``output``, an upload output ``o``, then sleeps; its record once it did."""
    job = write_job(tmp_path, NON_ROOT_ARTIFACTS.format(
        timeout=timeout, output="echo flushed > ${{outputs.o}}/part.txt &&" if output else "",
        outputs="outputs: {o: {mode: upload}}" if output else ""), name=f"{name}.yml")
    cli(ws, "job", "create", "--file", str(job), "--name", name, check=True)
    return wait_db(ws, name, lambda r: r["status"] == "Running" and "started" in std_log(ws, name),
                   what="the job to run")


def test_runner_killed_the_watchdog_moves_the_artifacts_in_and_download_all_gets_them(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    """The artifacts are logs, not a named output: the watchdog's takeover moves them into place as the
    runner would have; the named output stays staged. `job download --all` downloads the artifacts and
    names the held-back output with where it is (exit 1: not everything was downloaded)."""
    record = start_non_root(ws, tmp_path, "orphan4", timeout=6, output=True)
    os.kill(record["runner_pid"], signal.SIGKILL)
    final = wait_db(ws, "orphan4", lambda r: r["status"] == "Failed", timeout=60, what="the watchdog")
    assert "the job's watchdog stopped its container at its limits.timeout (6 s)" in final["error"]
    assert datastore_file(ws, "ExperimentRun/dcid.orphan4/m/a.txt").read_text() == "art\n"
    staged = ws / "jobs" / "orphan4" / "outputs"
    assert final["extra"]["held_back_outputs"] == {"o": str(staged / "o")}
    assert str(staged / "artifacts") not in final["error"] and str(staged / "o") in final["error"]
    dl = tmp_path / "dl"
    download = cli(ws, "job", "download", "--name", "orphan4", "--all", "--download-path", str(dl))
    assert download.returncode == 1
    assert (dl / "artifacts" / "m" / "a.txt").read_text() == "art\n"
    assert f"never uploaded and stayed staged (o in {staged / 'o'})" in download.stderr
    assert f"downloaded: {dl / 'artifacts'}" in download.stderr
    one_clear_message(download.stderr + final["error"])
    assert_no_leftovers(docker_client, ws, "orphan4")


def test_runner_and_watchdog_killed_recovery_moves_the_artifacts_in_and_download_all_succeeds(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    record = start_non_root(ws, tmp_path, "orphan5", timeout=600, output=False)
    for pid in (*watchdog_pids(ws, "orphan5"), record["runner_pid"]):
        os.kill(pid, signal.SIGKILL)
    final = show(ws, "orphan5")  # the runner command recovers the job
    assert final["status"] == "Failed" and "died while the job was Running" in final["error"]
    assert "staged outputs kept" not in final["error"] and "held_back_outputs" not in final["extra"]
    dl = tmp_path / "dl"
    download = cli(ws, "job", "download", "--name", "orphan5", "--all", "--download-path", str(dl))
    assert download.returncode == 0, download.stderr
    assert (dl / "artifacts" / "m" / "a.txt").read_text() == "art\n"
    assert not (ws / "jobs" / "orphan5" / "outputs" / "artifacts" / "m" / "a.txt").exists()
    assert_no_leftovers(docker_client, ws, "orphan5")
