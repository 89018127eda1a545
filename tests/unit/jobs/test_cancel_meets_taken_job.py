"""A ``job cancel`` that meets a job a new runner has just taken is not lost: the cancel is recorded in the
job's record (``extra["cancel_requested"]``, one merged write) before anything else, so whichever runner
holds the job stops it at its next check; and a cancel whose end (``end_lost``) finds the job taken since
it judged it signals the runner that took it, as it signals any live runner, and the job ends Canceled.

Deterministic: the new runner's taking of the job is written by hand right after the cancel's last read
(where it asks whether a watchdog follows the job); the new runner is a stand-in process that says when it
is ready and, on SIGTERM, leaves a file and exits (as a runner that had not recorded its end yet). What
would be released is recorded, not done; everything in this test's tmp_path."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.jobs import operations
from runner.jobs.cancel_request import CANCEL_REQUESTED, record_cancel_request
from runner.jobs.operations import JobOperations
from runner.jobs.recovery import process_start_time
from runner.workspace.db import JobRecord, JobStatus, Workspace

# a stand-in runner: ready once its SIGTERM handler is set; on SIGTERM it leaves ``signalled`` and exits
STAND_IN = ("import pathlib, signal, sys, time\n"
            "def stop(*_):\n"
            "    pathlib.Path(sys.argv[1]).write_text('signalled')\n"
            "    sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, stop)\n"
            "print('ready', flush=True)\n"
            "time.sleep(120)\n")


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> list[JobRecord]:
    records: list[JobRecord] = []

    def release(_ws: Workspace, record: JobRecord, **_: object) -> list[str]:
        records.append(record)
        return []

    monkeypatch.setattr(operations, "release_resources", release)
    return records


@pytest.fixture
def new_runner(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    signalled = tmp_path / "signalled"
    proc = subprocess.Popen([sys.executable, "-c", STAND_IN, str(signalled)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        yield proc, signalled
    finally:
        proc.kill()
        proc.wait()


def preparing_without_runner(ws: Workspace, name: str) -> None:
    """Preparing, the runner that took it gone (the recorded pid's start time is not this process's)."""
    ws.create_job(JobRecord(name=name, status=JobStatus.PREPARING, runner_pid=1, backend="process",
                            job_dir=str(ws.job_dir(name).root), extra={"runner_start": "gone"}))


def taken_after_the_last_read(monkeypatch: pytest.MonkeyPatch, ws: Workspace, name: str, pid: int) -> None:
    """Once the cancel read the job for the last time, a new runner (``pid``) takes it: Running, its pid."""
    taken: list[bool] = []

    def no_watchdog(_ws: Workspace, _record: JobRecord) -> bool:
        if not taken:
            taken.append(True)
            ws.update_job(name, status=JobStatus.RUNNING, runner_pid=pid,
                          merge_extra={"runner_start": process_start_time(pid)})
        return False

    monkeypatch.setattr(operations, "watchdog_follows", no_watchdog)


def test_a_cancel_that_finds_the_job_taken_signals_the_new_runner_and_the_job_ends_canceled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, released: list[JobRecord],
        new_runner: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, signalled = new_runner
    ws = Workspace(tmp_path / "ws")
    ops = JobOperations(ws)  # (made first: making it reconciles, and would end the job itself)
    preparing_without_runner(ws, "t")
    taken_after_the_last_read(monkeypatch, ws, "t", proc.pid)
    returned = ops.cancel("t")
    assert signalled.exists(), f"the runner that took the job was not signalled (job {returned.status.value})"
    assert returned.status is JobStatus.CANCELED, f"the cancel was lost: the job is {returned.status.value}"
    record = ws.get_job("t")
    assert record.status is JobStatus.CANCELED and CANCEL_REQUESTED in record.extra
    assert record.error is not None and f"the runner (pid {proc.pid}) stopped on the cancel" in record.error
    assert [r.runner_pid for r in released] == [proc.pid]  # released as the record is now, once


def test_the_cancel_is_recorded_in_the_job_before_its_runner_is_signalled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, released: list[JobRecord],
        new_runner: tuple[subprocess.Popen[bytes], Path]) -> None:
    """The signal is the fast path; the record is what a runner that missed it (or took the job since)
    sees at its next check."""
    proc, _ = new_runner
    ws = Workspace(tmp_path / "ws")
    ops = JobOperations(ws)
    ws.create_job(JobRecord(name="r", status=JobStatus.RUNNING, runner_pid=proc.pid, backend="process",
                            job_dir=str(ws.job_dir("r").root),
                            extra={"runner_start": process_start_time(proc.pid), "kept": 1}))
    seen: list[dict[str, object]] = []
    kill = operations.os.kill

    def signal_after_looking(pid: int, sig: int) -> None:
        seen.append(dict(ws.get_job("r").extra))
        kill(pid, sig)

    monkeypatch.setattr(operations.os, "kill", signal_after_looking)
    assert ops.cancel("r").status is JobStatus.CANCELED
    assert seen and CANCEL_REQUESTED in seen[0] and seen[0]["kept"] == 1


def test_a_request_is_recorded_only_while_the_job_is_active_and_keeps_its_first_time(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="a", status=JobStatus.RUNNING, extra={"kept": 1}))
    first = record_cancel_request(ws, "a")
    assert first is not None and first.extra["kept"] == 1
    again = record_cancel_request(ws, "a")
    assert again is not None and again.extra[CANCEL_REQUESTED] == first.extra[CANCEL_REQUESTED]
    ws.create_job(JobRecord(name="q", status=JobStatus.QUEUED))  # a Queued job is ended, not asked
    ws.create_job(JobRecord(name="c", status=JobStatus.COMPLETED))
    assert record_cancel_request(ws, "q") is None and record_cancel_request(ws, "c") is None
    assert CANCEL_REQUESTED not in ws.get_job("q").extra and CANCEL_REQUESTED not in ws.get_job("c").extra
