"""`job cancel` against a runner that outlives the wait (still uploading): it is left alone, never
cleaned up under; against a runner that is gone: the job is cleaned up after and marked Canceled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.jobs import operations as jobs
from runner.jobs.recovery import process_start_time
from runner.workspace.db import JobRecord, JobStatus, Workspace

# a stand-in runner that ignores SIGTERM, as a runner finalizing its outputs carries on through it
STUBBORN = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); " \
           "time.sleep(60)"


def _active_job(ws: Workspace, name: str, pid: int, started: str | None) -> Path:
    inputs = ws.job_dir(name).inputs / "model"
    inputs.mkdir(parents=True)
    (inputs / "weights.bin").write_bytes(b"w")
    ws.create_job(JobRecord(name=name, backend="process", status=JobStatus.FINALIZING, runner_pid=pid,
                            job_dir=str(ws.job_dir(name)), extra={"runner_start": started}))
    return inputs


def test_a_runner_still_finalizing_is_not_cleaned_up_under(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "0.2")
    monkeypatch.setattr(jobs, "CANCEL_WAIT_AFTER_GRACE_S", 0.5)
    ws = Workspace(tmp_path / "ws")
    runner = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE)
    try:
        assert runner.stdout is not None and runner.stdout.readline()  # SIGTERM is ignored from here
        inputs = _active_job(ws, "slow", runner.pid, process_start_time(runner.pid))
        returned = jobs.JobOperations(ws).cancel("slow")
        assert returned.status is JobStatus.FINALIZING  # as it stands: the runner records the end
        assert ws.get_job("slow").status is JobStatus.FINALIZING
        assert (inputs / "weights.bin").exists() and runner.poll() is None
    finally:
        runner.kill()
        runner.wait()


def test_a_runner_that_is_gone_is_cleaned_up_after(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ops = jobs.JobOperations(ws)  # (made first: making it would also reconcile the dead job as Failed)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    inputs = _active_job(ws, "dead", gone.pid, "0")
    assert ops.cancel("dead").status is JobStatus.CANCELED
    assert not inputs.exists()


def test_a_runner_that_stops_on_the_cancel_is_recorded_as_such(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ops = jobs.JobOperations(ws)
    plain = "import time; print(1, flush=True); time.sleep(60)"  # ends on SIGTERM
    runner = subprocess.Popen([sys.executable, "-c", plain], stdout=subprocess.PIPE)
    try:
        assert runner.stdout is not None and runner.stdout.readline()
        _active_job(ws, "early", runner.pid, process_start_time(runner.pid))
        record = ops.cancel("early")
    finally:
        runner.kill()
        runner.wait()
    assert record.status is JobStatus.CANCELED
    assert record.error is not None and "stopped on the cancel before it recorded the end" in record.error
    assert "no longer running" not in record.error
