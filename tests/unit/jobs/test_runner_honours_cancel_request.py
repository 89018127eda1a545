"""A cancel recorded in a job's record (``extra["cancel_requested"]``: what ``job cancel`` writes before it
signals anybody) is honoured by the runner that holds the job, at its next check, as a SIGTERM would be:
before the command started the preparation unwinds and the job ends Canceled, never started; once it runs,
the command is stopped and the job ends Canceled; a status write that finds the request asks for the
cancel too. The checks read two fields of the record, not the record (``StatusTracker.poll``). A Ray job's
follower honours it by stopping the Ray job.

Deterministic: the request is written by hand where the run stands (inside its preparation, or once its
command has left a file saying it started); the local runs use the process backend (a host process, no
Docker), the Ray dashboard is a stand-in client. Everything in this test's tmp_path."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.jobs import ray_follow
from runner.jobs import run as run_module
from runner.jobs.cancel_request import CANCEL_REQUESTED, record_cancel_request
from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.run import run_job
from runner.jobs.status import StatusTracker
from runner.jobs.submit import submit_job
from runner.jobs.supervise import CancelSignals, JobCanceled, supervise
from runner.spec.load import load_job_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow


def running(ws: Workspace, name: str) -> JobRecord:
    return ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, runner_pid=1))


def test_a_poll_before_the_command_started_unwinds_the_preparation(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    cancel = CancelSignals()
    tracker = StatusTracker(ws, running(ws, "j"), cancel)
    tracker.poll()
    assert not cancel.requested.is_set()  # nothing recorded: nothing asked
    record_cancel_request(ws, "j")
    with pytest.raises(JobCanceled):
        tracker.poll()
    assert cancel.requested.is_set() and not cancel.raise_now
    tracker.poll()  # asked once: it unwinds once


def test_a_poll_once_the_command_runs_only_asks(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    cancel = CancelSignals()
    cancel.raise_now = False
    tracker = StatusTracker(ws, running(ws, "j"), cancel)
    record_cancel_request(ws, "j")
    tracker.poll()
    assert cancel.requested.is_set() and tracker.ended_elsewhere is None


def test_a_status_write_that_finds_the_request_asks_for_the_cancel(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    cancel = CancelSignals()
    cancel.raise_now = False
    tracker = StatusTracker(ws, running(ws, "j"), cancel)
    record_cancel_request(ws, "j")
    written = tracker.set(JobStatus.FINALIZING)
    assert written.status is JobStatus.FINALIZING and CANCEL_REQUESTED in written.extra
    assert cancel.requested.is_set()


def test_a_poll_finds_an_end_written_elsewhere(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    cancel = CancelSignals()
    cancel.raise_now = False
    tracker = StatusTracker(ws, running(ws, "j"), cancel)
    ws.update_job("j", status=JobStatus.CANCELED, ended_at=utcnow(), error="ended elsewhere")
    tracker.poll()
    assert tracker.ended_elsewhere is not None and tracker.ended_elsewhere.status is JobStatus.CANCELED
    assert cancel.requested.is_set()


class _Run:
    """A run that ends only when it is stopped."""

    network = "none"
    ident = "stand-in"

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def logs(self) -> Iterator[bytes]:
        return iter(())

    def wait(self) -> int:
        self.stopped.wait(60)
        return 143

    def end_reason(self) -> str | None:
        return None

    def stop(self, grace_s: float) -> None:
        self.stopped.set()

    def remove(self) -> None:
        pass


def test_supervise_stops_the_run_when_its_check_finds_the_request(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    cancel = CancelSignals()
    cancel.raise_now = False
    tracker = StatusTracker(ws, running(ws, "j"), cancel)
    record_cancel_request(ws, "j")
    run = _Run()
    outcome = supervise(run, timeout_s=None, cancel=cancel, log_path=tmp_path / "log", check=tracker.poll)
    assert run.stopped.is_set() and outcome.reason == "canceled"


def queued_job(ws: Workspace, folder: Path, name: str, command: str) -> None:
    spec = folder / f"{name}.yml"
    spec.write_text(f"command: {command}\nenvironment:\n  image: does-not-matter:1\n")
    submit_job(ws, load_job_spec(spec), name=name, backend="process")


def test_a_request_recorded_while_the_job_prepares_means_it_never_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner took the job and prepares it; the cancel found it so and recorded the request (its
    signal went elsewhere, or came before the runner's): no command runs, the job ends Canceled."""
    ws = Workspace(tmp_path / "ws")
    marker = tmp_path / "ran"
    queued_job(ws, tmp_path, "p", f"echo ran > {marker}")
    resolve = run_module.resolve_stored_plan

    def resolved_then_asked(*args: Any) -> Any:
        found = resolve(*args)
        assert record_cancel_request(ws, "p") is not None
        return found

    monkeypatch.setattr(run_module, "resolve_stored_plan", resolved_then_asked)
    returned = run_job(ws, "p")
    record = ws.get_job("p")
    assert returned.status is record.status is JobStatus.CANCELED
    assert not marker.exists() and record.started_at is None and "Running" not in record.extra["status_times"]
    assert record.error == "canceled before the job's command started"


def test_a_request_recorded_while_the_command_runs_stops_it(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    ws = Workspace(tmp_path / "ws")
    started, finished = tmp_path / "started", tmp_path / "finished"
    queued_job(ws, tmp_path, "r", f"touch {started}; sleep 60; touch {finished}")
    asked: list[JobRecord | None] = []

    def ask_once_started() -> None:
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.02)  # the command's own file says it runs
        asked.append(record_cancel_request(ws, "r"))

    asker = threading.Thread(target=ask_once_started, daemon=True)
    asker.start()
    returned = run_job(ws, "r")
    asker.join(5)
    assert asked and asked[0] is not None, "the command never started"
    record = ws.get_job("r")
    assert returned.status is record.status is JobStatus.CANCELED, record.error
    assert record.error is not None and record.error.startswith("canceled by the user")
    assert not finished.exists() and "late_cancel" not in record.extra


class _RayJob:
    """A stand-in for Ray's Jobs API of one job: RUNNING until it is stopped, then STOPPED; a job nobody
    stops ends SUCCEEDED after 20 polls (a follower that ignored the request ends it Failed, not hangs)."""

    def __init__(self, _address: str) -> None:
        self.polls = 0

    stops: list[str] = []

    def info(self, sid: str) -> dict[str, Any]:
        self.polls += 1
        if sid in self.stops:
            return {"status": "STOPPED", "message": "stopped by the user"}
        return {"status": "RUNNING" if self.polls < 20 else "SUCCEEDED", "message": ""}

    def stop(self, sid: str) -> None:
        self.stops.append(sid)

    def logs(self, _sid: str) -> str:
        return ""


def test_a_ray_jobs_follower_stops_the_ray_job_on_a_recorded_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_follow, "RayJobsClient", _RayJob)
    monkeypatch.setattr(ray_follow, "POLL_S", 0.01)
    monkeypatch.setattr(_RayJob, "stops", [])
    ws = Workspace(tmp_path / "ws")
    ray = {"address": "http://127.0.0.1:9", "submission_id": "rj", "compute": "ray",
           "control": "azureml://datastores/workspaceblobstore/paths/_ray/rj"}
    ws.create_job(JobRecord(name="rj", status=JobStatus.RUNNING, backend="docker",
                            job_dir=str(ws.job_dir("rj").root),
                            extra={"ray": json.loads(json.dumps(ray)),
                                   "status_times": {"Queued": utc_text(utcnow()),
                                                    "Running": utc_text(utcnow())}}))
    record_cancel_request(ws, "rj")
    returned = follow_ray_job(ws, "rj")
    assert _RayJob.stops == ["rj"], "the follower did not stop the Ray job"
    assert returned.status is JobStatus.CANCELED
