"""A container job whose runner was SIGKILLed while its watchdog lives: a runner command run then leaves
the container and the job's end to the watchdog (and says so in its debug log); the command runs on to
its last line, and the watchdog ends the job with its exit code and the whole log, in the job's folder and
in its artifacts. The order is forced, not timed: the command ends only once the test lets it. A cancel
then still stops it, and the log copied into its artifacts is the whole log, the watchdog's last lines
included."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
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
    wait_for_status,
    write_job,
)

from runner.jobs.recovery import process_start_time

pytestmark = pytest.mark.docker

FOLLOWED = """
    command: >-
      echo result > ./outputs/result.txt && echo started &&
      until [ -e ${{inputs.ctl}}/go ]; do sleep 0.1; done; echo last line
    inputs:
      ctl: {type: uri_folder, path: ctl, mode: direct}
    environment:
      image: runner/busybox:latest
    """

TICKING = """
    command: >-
      i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done
    environment:
      image: runner/busybox:latest
    """


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    return workspace_dir


def db_record(ws: Path, name: str) -> dict[str, Any]:
    """The job's record read from the database: no runner command, so no recovery runs."""
    with contextlib.closing(sqlite3.connect(f"file:{ws / 'runner.db'}?mode=ro", uri=True)) as db:
        return json.loads(db.execute("SELECT record FROM jobs WHERE name = ?", (name,)).fetchone()[0])


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def test_a_command_leaves_a_job_its_live_watchdog_follows_to_it(ws: Path, tmp_path: Path,
                                                                docker_client: Any) -> None:
    (tmp_path / "ctl").mkdir()
    job = write_job(tmp_path, FOLLOWED)
    cli(ws, "job", "create", "--file", str(job), "--name", "kept1", check=True)
    log = ws / "jobs" / "kept1" / "user_logs" / "std_log.txt"
    wait_for(lambda: log.exists() and "started" in log.read_text(), "the command to start")
    runner_pid = wait_for_status(ws, "kept1", {"Running"})["runner_pid"]
    os.kill(runner_pid, signal.SIGKILL)
    wait_for(lambda: process_start_time(runner_pid) is None, "the runner to die")

    listed = cli(ws, "--debug", "job", "list", check=True)  # a runner command, with its recovery
    assert "kept1" in listed.stdout
    assert "kept1" in listed.stderr and "watchdog" in listed.stderr and "left to it" in listed.stderr, \
        listed.stderr
    record = show(ws, "kept1")
    assert record["status"] == "Running" and record["error"] is None
    assert len(containers_of(docker_client, "kept1")) == 1  # the container runs on

    (tmp_path / "ctl" / "go").touch()  # the command prints its last line and exits 0
    wait_for(lambda: db_record(ws, "kept1")["status"] == "Failed", "the watchdog to end the job")
    final = db_record(ws, "kept1")
    assert f"the runner process (pid {runner_pid}) died while the job was Running" in final["error"]
    assert "its command ran on and exited with code 0" in final["error"], final["error"]
    assert log.read_text().splitlines()[-1] == "last line"
    dl = tmp_path / "dl"
    download = cli(ws, "job", "download", "--name", "kept1", "--all", "--download-path", str(dl))
    assert download.returncode == 0, download.stderr
    assert (dl / "artifacts" / "user_logs" / "std_log.txt").read_text().splitlines()[-1] == "last line"
    assert (dl / "artifacts" / "outputs" / "result.txt").read_text() == "result\n"
    assert_no_leftovers(docker_client, ws, "kept1")


def test_a_cancel_beside_a_live_watchdog_copies_the_whole_log_into_the_artifacts(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, TICKING)
    cli(ws, "job", "create", "--file", str(job), "--name", "kept2", check=True)
    log = ws / "jobs" / "kept2" / "user_logs" / "std_log.txt"
    wait_for(lambda: log.exists() and "tick 3" in log.read_text(), "the command to print")
    runner_pid = wait_for_status(ws, "kept2", {"Running"})["runner_pid"]
    os.kill(runner_pid, signal.SIGKILL)
    wait_for(lambda: process_start_time(runner_pid) is None, "the runner to die")
    canceled = cli(ws, "job", "cancel", "--name", "kept2")
    assert canceled.returncode == 0 and "Traceback" not in canceled.stderr, canceled.stderr
    wait_for(lambda: db_record(ws, "kept2")["status"] in ("Canceled", "Failed"), "the job to end")
    whole = log.read_text()
    assert "tick 3\n" in whole
    assert datastore_file(ws, "ExperimentRun/dcid.kept2/user_logs/std_log.txt").read_text() == whole
    assert "may lack its last lines" not in db_record(ws, "kept2")["error"]
    assert_no_leftovers(docker_client, ws, "kept2")
