"""``job cancel`` of a container job whose runner was SIGKILLed while its watchdog lives loses nothing the
container printed: the cancel stops the container (it ends as the user asked: its SIGTERM trap runs) and
leaves appending its output and removing it to the watchdog, then records the end once the watchdog let
the log go. The job's log and the copy in its artifacts both hold the line the container printed after
its runner died, and the one its trap printed on the cancel's stop.

Two orders: the watchdog frozen (SIGSTOP) before the runner is killed and let on only once the cancel
stopped the container (the cancel comes before the watchdog reattached: forced, not timed), and a cancel
run at once beside a watchdog left alone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import (
    RUNNER,
    assert_no_leftovers,
    cli,
    containers_of,
    datastore_file,
    show,
    wait_for_status,
    watchdog_pids,
    write_job,
)

from runner.jobs.recovery import process_start_time

pytestmark = pytest.mark.docker

AFTER = "printed after the runner died"
TRAPPED = "stopped by the cancel"
JOB = f"""
    command: >-
      trap 'echo {TRAPPED}; exit 143' TERM;
      echo started;
      until [ -e ${{{{inputs.ctl}}}}/go ]; do sleep 0.1; done;
      echo {AFTER};
      while true; do sleep 0.1; done
    inputs:
      ctl: {{type: uri_folder, path: ctl, mode: direct}}
    environment:
      image: runner/busybox:latest
    """


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "5")
    return workspace_dir


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def printed(docker_client: Any, job: str, text: str) -> bool:
    """Whether the job's container printed ``text`` (read from Docker: nothing of the runner's)."""
    return any(text in c.logs().decode() for c in containers_of(docker_client, job))


def not_running(docker_client: Any, job: str) -> bool:
    return all(c.status != "running" for c in containers_of(docker_client, job))


def start_and_kill_the_runner(ws: Path, tmp_path: Path, docker_client: Any, job: str, *,
                              freeze_watchdog: bool) -> list[int]:
    """The job runs; its runner is SIGKILLed (its watchdog, frozen first when asked, lives); then the
    container prints a line nobody has appended to the job's log yet. Returns the watchdog's pid(s)."""
    (tmp_path / "ctl").mkdir()
    cli(ws, "job", "create", "--file", str(write_job(tmp_path, JOB)), "--name", job, check=True)
    wait_for(lambda: printed(docker_client, job, "started"), "the command to start")
    runner_pid = wait_for_status(ws, job, {"Running"})["runner_pid"]
    watchdogs = watchdog_pids(ws, job)
    assert len(watchdogs) == 1, watchdogs
    if freeze_watchdog:
        os.kill(watchdogs[0], signal.SIGSTOP)
    os.kill(runner_pid, signal.SIGKILL)
    wait_for(lambda: process_start_time(runner_pid) is None, "the runner to die")
    (tmp_path / "ctl" / "go").touch()
    wait_for(lambda: printed(docker_client, job, AFTER), "the container to print its line")
    return watchdogs


def assert_every_line_kept(ws: Path, job: str) -> None:
    record = show(ws, job)
    assert record["status"] == "Canceled", record
    assert "may be missing" not in record["error"] and "may lack" not in record["error"], record["error"]
    whole = (ws / "jobs" / job / "user_logs" / "std_log.txt").read_text()
    assert AFTER in whole and TRAPPED in whole, whole
    copied = datastore_file(ws, f"ExperimentRun/dcid.{job}/user_logs/std_log.txt").read_text()
    assert copied == whole


def test_a_cancel_before_the_watchdog_reattached_loses_no_output(ws: Path, tmp_path: Path,
                                                                  docker_client: Any) -> None:
    (watchdog,) = start_and_kill_the_runner(ws, tmp_path, docker_client, "cw1", freeze_watchdog=True)
    try:
        cancel = subprocess.Popen([*RUNNER, "--workspace", str(ws), "job", "cancel", "--name", "cw1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # the cancel stopped the container (before this fix: removed it) while the watchdog is frozen
        wait_for(lambda: not_running(docker_client, "cw1"), "the cancel to stop the container")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(watchdog, signal.SIGCONT)  # it takes over now: reattaches, appends, removes, lets go
    out, err = cancel.communicate(timeout=240)
    assert cancel.returncode == 0 and "Traceback" not in err, (out, err)
    assert_every_line_kept(ws, "cw1")
    assert_no_leftovers(docker_client, ws, "cw1")


def test_a_cancel_at_once_beside_the_watchdog_loses_no_output(ws: Path, tmp_path: Path,
                                                             docker_client: Any) -> None:
    start_and_kill_the_runner(ws, tmp_path, docker_client, "cw2", freeze_watchdog=False)
    canceled = cli(ws, "job", "cancel", "--name", "cw2")
    assert canceled.returncode == 0 and "Traceback" not in canceled.stderr, canceled.stderr
    assert_every_line_kept(ws, "cw2")
    assert_no_leftovers(docker_client, ws, "cw2")
