"""A cancel, and a runner command's recovery, beside a live watchdog. A container job's watchdog holds the
job's log (a ``flock`` on ``user_logs/std_log.txt``) for as long as it follows the container.

* ``job cancel`` of such a job whose runner died stops its container (it ends as the user asked) and
  leaves appending what it printed and removing it to the watchdog; it records the end once the watchdog
  let the log go, so nothing the container printed is lost. A watchdog that does not let go in time: the
  cancel removes the container itself, and the record says what may be missing.
* ``reconcile`` keeps the pins of such a job (``mounts.pin``) and its FUSE mounts until the watchdog let
  it go; the pins of a dead runner nobody follows are swept as before.

A child process holding the ``flock`` stands in for the watchdog; the backend is a stand-in that records
what it is asked to stop and remove. Every file is made in this test's own ``tmp_path``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.backends.base import Capabilities
from runner.jobs import operations as jobs
from runner.jobs import recovery, takeover
from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, reconcile
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
CONTAINER = "c0ffee" * 4


class StoppedRun:
    """The stand-in's handle on a container: a stop is recorded."""

    def __init__(self, ident: str, stopped: list[str]) -> None:
        self.ident, self.stopped = ident, stopped

    def stop(self, grace_s: float) -> None:
        self.stopped.append(self.ident)


class StoppingBackend:
    """What a cancel and recovery ask of a container backend, recorded: containers stopped and removed."""

    def __init__(self) -> None:
        self.capabilities = Capabilities(in_container=True, read_only_binds=True, host_process_group=False,
                                         docker_args=False, gpus=False, network_isolation=False)
        self.removed: list[dict[str, str]] = []
        self.stopped: list[str] = []

    def remove_leftovers(self, labels: dict[str, str], log_to: Any = None) -> list[str]:
        self.removed.append(dict(labels))
        return [CONTAINER]

    def reattach(self, ident: str, log_offset: int = 0) -> StoppedRun:
        return StoppedRun(ident, self.stopped)


def dead_pid() -> int:
    """The pid of a process that ended (and was reaped): a runner that died."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def lost_job(ws: Workspace, name: str) -> JobRecord:
    """A Running container job whose runner died: its log, ./outputs, staged artifacts and output."""
    job_dir = ws.job_dir(name)
    for folder, file, text in ((job_dir.code_outputs, "result.txt", "result"),
                               (job_dir.user_logs, "std_log.txt", "tick 1\n"),
                               (job_dir.outputs / "artifacts" / "m", "a.txt", "art"),
                               (job_dir.outputs / "o", "r.txt", "staged output")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file).write_text(text)
    return ws.create_job(JobRecord(
        name=name, status=JobStatus.RUNNING, runner_pid=dead_pid(), job_dir=str(job_dir), backend="docker",
        extra={NO_UPLOAD_ON_FAILURE: False}, container_id=CONTAINER,
        outputs={"o": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/o/"}))


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


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> StoppingBackend:
    stand_in = StoppingBackend()
    monkeypatch.setattr(recovery, "get_backend", lambda name, **_: stand_in)
    monkeypatch.setattr(takeover, "get_backend", lambda name, **_: stand_in)
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "0.2")
    return stand_in


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


# ---- 1. a cancel stops the container and leaves its output and its removal to the watchdog -------------

def test_a_cancel_beside_a_live_watchdog_stops_the_container_and_waits_for_its_output(
        tmp_path: Path, backend: StoppingBackend, keeper: Callable[[Path], subprocess.Popen[str]]) -> None:
    """The order is forced: the watchdog appends the container's last line (and lets the log go) only once
    the cancel stopped the container and waits for the log."""
    ws = Workspace(tmp_path / "ws")
    ops = jobs.JobOperations(ws)
    lost_job(ws, "stop1")
    watchdog = keeper(ws.job_dir("stop1").std_log)
    canceled: list[Any] = []
    canceler = threading.Thread(target=lambda: canceled.append(ops.cancel("stop1")))
    canceler.start()
    try:
        wait_until(lambda: blocked_on_a_lock() or not canceler.is_alive(), "the cancel to wait for the log")
        assert backend.stopped == [CONTAINER]  # stopped, so it ends as the user asked ...
        assert backend.removed == []  # ... and left to the watchdog: it appends its output, then removes it
    finally:
        let_go(watchdog, "append")
        canceler.join(60)
    assert canceled and canceled[0].status is JobStatus.CANCELED
    assert backend.removed == []
    whole = "tick 1\nlast line\n"
    assert ws.job_dir("stop1").std_log.read_text() == whole
    assert (ws.root / ARTIFACTS_AT / "dcid.stop1" / "user_logs" / "std_log.txt").read_text() == whole
    ended = ws.get_job("stop1")
    assert ended.status is JobStatus.CANCELED and ended.error is not None
    assert "last lines" not in ended.error and "watchdog" not in ended.error, ended.error


def test_a_watchdog_that_does_not_let_go_in_time_the_cancel_removes_the_container_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: StoppingBackend,
        keeper: Callable[[Path], subprocess.Popen[str]]) -> None:
    monkeypatch.setattr("runner.jobs.log_lock.LOG_WAIT_S", 0.2)  # the bounded wait, shortened here
    ws = Workspace(tmp_path / "ws")
    ops = jobs.JobOperations(ws)
    lost_job(ws, "stop2")
    keeper(ws.job_dir("stop2").std_log)  # never lets go
    ended = ops.cancel("stop2")
    assert ended.status is JobStatus.CANCELED
    assert backend.stopped == [CONTAINER]
    assert len(backend.removed) == 1  # today's behaviour, as the fallback
    error = ws.get_job("stop2").error
    log = ws.job_dir("stop2").std_log
    assert error is not None and "watchdog" in error and "stopped" in error and str(log) in error, error
    assert "may be missing" in error, error


def test_a_cancel_of_a_job_whose_runner_and_watchdog_are_dead_removes_its_container_as_before(
        tmp_path: Path, backend: StoppingBackend) -> None:
    ws = Workspace(tmp_path / "ws")
    ops = jobs.JobOperations(ws)
    lost_job(ws, "stop3")
    assert ops.cancel("stop3").status is JobStatus.CANCELED
    assert backend.stopped == [] and len(backend.removed) == 1
    error = ws.get_job("stop3").error
    assert error is not None and "watchdog" not in error, error


# ---- 2. pins and FUSE mounts are kept while the watchdog follows the job ---------------------------------

def test_reconcile_keeps_the_pins_and_mounts_of_a_job_its_watchdog_follows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: StoppingBackend,
        keeper: Callable[[Path], subprocess.Popen[str]]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # only root pins (and sweeps): as root here
    pin_root = tmp_path / "pins"  # (sweeps only here, never the machine's pins)
    sweep = recovery.sweep_stale_pins
    monkeypatch.setattr(recovery, "sweep_stale_pins", lambda *_, **kw: sweep(pin_root, **kw))
    unmounted: list[Path] = []

    def cleanup_stale_mounts(root: Path) -> list[Path]:
        unmounted.append(root)
        return []

    monkeypatch.setattr(recovery, "cleanup_stale_mounts", cleanup_stale_mounts)
    ws = Workspace(tmp_path / "ws")
    followed, orphan = lost_job(ws, "pinned"), lost_job(ws, "orphan")
    pins = {}
    for record in (followed, orphan):
        pins[record.name] = pin_root / f"{record.runner_pid}-12345-{record.name}"
        (pins[record.name] / "0").mkdir(parents=True)  # an (unmounted) pin's mountpoint
    watchdog = keeper(ws.job_dir("pinned").std_log)

    assert reconcile(ws) == ["orphan"]
    assert (pins["pinned"] / "0").is_dir()  # its container still runs: the watchdog follows it
    assert not pins["orphan"].exists()  # nobody follows that one: swept as before
    assert ws.job_dir("pinned").root not in unmounted
    assert ws.get_job("pinned").status is JobStatus.RUNNING

    let_go(watchdog)  # the watchdog let the job go: the next command releases them
    assert reconcile(ws) == ["pinned"]
    assert not pins["pinned"].exists()
    assert ws.job_dir("pinned").root in unmounted
