"""Recovery beside a live watchdog. A container job's watchdog holds the job's log (a ``flock`` on
``user_logs/std_log.txt``) for as long as it lives, from the moment its runner started it: a runner
command's recovery then leaves the container and the job's end to it (and says so), and does as before
once the watchdog is dead too. Whoever copies the log into the artifacts (a cancel, a recovery) waits,
bounded, until nobody appends to it, so the copy has its tail; past the bound the record says the copy
may lack it.

A child process holding the ``flock`` stands in for the watchdog; the backend is a stand-in that records
what it is asked to remove. Every file is made in this test's own ``tmp_path``."""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.backends.base import JOB_LABEL, Capabilities
from runner.jobs import recovery
from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, mark_lost, reconcile
from runner.jobs.watchdog import start_watchdog
from runner.workspace.db import JobRecord, JobStatus, Workspace

ARTIFACTS_AT = Path("datastores") / "workspaceblobstore" / "ExperimentRun"
# the watchdog's stand-in: holds the log locked until told, then (``append``) appends its last line and exits
KEEPER = """
import fcntl, sys
log = open(sys.argv[1], "ab")
fcntl.flock(log, fcntl.LOCK_EX)
print("held", flush=True)
if sys.stdin.readline().strip() == "append":
    log.write(b"last line\\n")
    log.flush()
"""


class StandInBackend:
    """What recovery asks of a container backend, recorded."""

    def __init__(self, host_process_group: bool = False) -> None:
        self.capabilities = Capabilities(in_container=not host_process_group, read_only_binds=True,
                                         host_process_group=host_process_group, docker_args=False,
                                         gpus=False, network_isolation=False)
        self.removed: list[dict[str, str]] = []

    def remove_leftovers(self, labels: dict[str, str], log_to: Any = None) -> list[str]:
        self.removed.append(dict(labels))
        return ["c0ffee" * 4]


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> StandInBackend:
    stand_in = StandInBackend()
    monkeypatch.setattr(recovery, "get_backend", lambda name, **_: stand_in)
    return stand_in


def dead_pid() -> int:
    """The pid of a process that ended (and was reaped): a runner that died."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def lost_job(ws: Workspace, name: str, backend: str = "docker") -> JobRecord:
    """A Running container job whose runner died: its log, ./outputs, staged artifacts and output."""
    job_dir = ws.job_dir(name)
    for folder, file, text in ((job_dir.code_outputs, "result.txt", "result"),
                               (job_dir.user_logs, "std_log.txt", "tick 1\n"),
                               (job_dir.outputs / "artifacts" / "m", "a.txt", "art"),
                               (job_dir.outputs / "o", "r.txt", "staged output")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file).write_text(text)
    return ws.create_job(JobRecord(
        name=name, status=JobStatus.RUNNING, runner_pid=dead_pid(), job_dir=str(job_dir), backend=backend,
        extra={NO_UPLOAD_ON_FAILURE: False},
        outputs={"o": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/o/"}))


@pytest.fixture
def keeper() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start the watchdog's stand-in on a log; every one started is ended with the test."""
    started: list[subprocess.Popen[str]] = []

    def start(log: Path) -> subprocess.Popen[str]:
        child = subprocess.Popen([sys.executable, "-c", KEEPER, str(log)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        started.append(child)
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        return child

    yield start
    for child in started:
        if child.poll() is None:
            child.kill()
        child.communicate()


def let_go(child: subprocess.Popen[str], command: str = "") -> None:
    """The stand-in appends its last line (``append``) or not, and exits: the lock is let go."""
    child.communicate(command + "\n", timeout=60)


def blocked_on_a_lock() -> bool:
    """Whether a thread of this process waits for a ``flock`` (``/proc/locks`` lists waiters as ``->``)."""
    pid = f" {os.getpid()} "
    return any("->" in line and pid in line for line in Path("/proc/locks").read_text().splitlines())


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def is_locked(path: Path) -> bool:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# ---- 1. a live watchdog keeps the job: recovery leaves its container and its end to it ------------------

def test_recovery_leaves_a_job_its_live_watchdog_follows_and_says_so(
        tmp_path: Path, backend: StandInBackend, keeper: Callable[[Path], subprocess.Popen[str]],
        caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    record = lost_job(ws, "followed")
    watchdog = keeper(ws.job_dir("followed").std_log)
    with caplog.at_level(logging.INFO, logger="runner.jobs.recovery"):
        assert reconcile(ws) == []
    assert backend.removed == []  # the container runs on: its watchdog follows it
    current = ws.get_job("followed")
    assert current.status is JobStatus.RUNNING and current.error is None
    assert (ws.job_dir("followed").outputs / "artifacts" / "m" / "a.txt").exists()  # nothing settled
    said = caplog.text
    assert "followed" in said and f"pid {record.runner_pid}" in said and "watchdog" in said, said
    assert "left to it" in said, said

    let_go(watchdog)  # the watchdog died too: the next command recovers the job, as before
    assert reconcile(ws) == ["followed"]
    assert len(backend.removed) == 1 and backend.removed[0][JOB_LABEL] == "followed"
    ended = ws.get_job("followed")
    assert ended.status is JobStatus.FAILED and ended.error is not None
    assert "died while the job was Running" in ended.error
    assert ended.extra["held_back_outputs"] == {"o": str(ws.job_dir("followed").outputs / "o")}
    assert (ws.root / ARTIFACTS_AT / "dcid.followed" / "m" / "a.txt").read_text() == "art"


def test_a_host_process_job_is_recovered_whatever_holds_its_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        keeper: Callable[[Path], subprocess.Popen[str]]) -> None:
    """A host process's output went to its runner: its watchdog has nothing to follow, and recovery
    stops its process group and ends it as before."""
    monkeypatch.setattr(recovery, "get_backend", lambda name, **_: StandInBackend(host_process_group=True))
    ws = Workspace(tmp_path / "ws")
    lost_job(ws, "hosted", backend="process")
    keeper(ws.job_dir("hosted").std_log)
    assert reconcile(ws) == ["hosted"]
    assert ws.get_job("hosted").status is JobStatus.FAILED


# ---- 2. the log is copied into the artifacts once nobody appends to it -----------------------------------

def test_the_artifacts_copy_of_the_log_waits_for_the_watchdogs_last_lines(
        tmp_path: Path, keeper: Callable[[Path], subprocess.Popen[str]]) -> None:
    """A cancel of a job whose runner died ends it while its watchdog appends the container's last lines:
    the copy waits until the watchdog let the log go, and holds every line. The order is forced: the
    last line is appended only once the end waits for the log."""
    ws = Workspace(tmp_path / "ws")
    record = lost_job(ws, "tail1")
    watchdog = keeper(ws.job_dir("tail1").std_log)
    ended: list[JobRecord] = []
    ender = threading.Thread(target=lambda: ended.append(mark_lost(ws, record, status=JobStatus.CANCELED)))
    ender.start()
    try:
        wait_until(lambda: blocked_on_a_lock() or not ender.is_alive(), "the end to wait for the log")
    finally:
        let_go(watchdog, "append")
        ender.join(60)
    copied = ws.root / ARTIFACTS_AT / "dcid.tail1" / "user_logs" / "std_log.txt"
    assert copied.read_text() == "tick 1\nlast line\n"
    assert ws.job_dir("tail1").std_log.read_text() == "tick 1\nlast line\n"  # the original stays whole
    assert ended and ended[0].status is JobStatus.CANCELED
    assert ended[0].error is not None and "last lines" not in ended[0].error


def test_a_log_held_past_the_wait_is_copied_and_the_record_says_it_may_lack_its_tail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        keeper: Callable[[Path], subprocess.Popen[str]]) -> None:
    # a watchdog that never lets go: the wait is bounded (shortened here)
    monkeypatch.setattr("runner.jobs.log_lock.LOG_WAIT_S", 0.2)
    ws = Workspace(tmp_path / "ws")
    record = lost_job(ws, "tail2")
    keeper(ws.job_dir("tail2").std_log)
    ended = mark_lost(ws, record, status=JobStatus.CANCELED)
    assert ended.status is JobStatus.CANCELED and ended.error is not None
    log = ws.job_dir("tail2").std_log
    assert "may lack its last lines" in ended.error and str(log) in ended.error, ended.error
    assert (ws.root / ARTIFACTS_AT / "dcid.tail2" / "user_logs" / "std_log.txt").read_text() == "tick 1\n"


# ---- 3. the watchdog holds the job's log from the moment its runner started it ----------------------------

def test_a_watchdog_holds_the_jobs_log_for_as_long_as_it_lives(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    job_dir = ws.job_dir("held")
    job_dir.user_logs.mkdir(parents=True)
    job_dir.std_log.write_text("")  # (the runner makes it as the container starts)
    watchdog = start_watchdog(ws.root, "held", "no-such-run", None, 1.0, job_dir.runner_log)
    assert watchdog.process is not None
    try:
        assert is_locked(job_dir.std_log)  # from its start: no window for recovery to take the job
    finally:
        watchdog.release()  # the runner ends the job: the watchdog exits
        watchdog.process.wait(timeout=60)
    assert not is_locked(job_dir.std_log)
