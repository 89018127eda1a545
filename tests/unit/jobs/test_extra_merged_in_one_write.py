"""What a writer adds to a job's ``extra`` is merged into the stored record in the write's own transaction
(``update_job(merge_extra=...)``), never written back whole from a record read earlier: a key another
process wrote between that read and the write survives. The pipeline's step workers recording their pid
(``StepOperations.start_worker``), a Ray job's follower taking the job up (``follow_ray_job``), and every
status change (``StatusTracker``). Deterministic: the other writer's key is written by hand, inside the
read (or the spawn) it must come after; everything in this test's tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner.jobs import ray_follow
from runner.jobs.recovery import mark_lost, process_start_time
from runner.jobs.status import StatusTracker
from runner.pipelines import step_ops
from runner.pipelines.step_ops import StepOperations
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow

THEIRS = {"written_meanwhile": "by another process"}


def read_then_written(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``ws.get_job`` returns the record as read, and another process then writes its key to it (before
    anything the reader writes next); the names read so are listed."""
    read = ws.get_job
    names: list[str] = []

    def get_job(name: str) -> JobRecord:
        record = read(name)
        if not names:  # the first read only: the one a write-back would build on
            ws.update_job(name, merge_extra=THEIRS)
        names.append(name)
        return record

    monkeypatch.setattr(ws, "get_job", get_job)
    return names


def queued(ws: Workspace, name: str, **fields: Any) -> JobRecord:
    times = {JobStatus.QUEUED.value: utc_text(utcnow())}
    return ws.create_job(JobRecord(name=name, status=JobStatus.QUEUED, job_dir=str(ws.job_dir(name).root),
                                   extra={"status_times": times, **fields.pop("extra", {})}, **fields))


def test_a_step_workers_pid_is_recorded_without_losing_a_key_written_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process writes a key once the worker is forked, and again once its record is read, if
    it is (a write-back would build on that read): every key written so is in the record."""
    ws = Workspace(tmp_path / "ws")
    queued(ws, "p-s")

    def forked(*_: Any, **__: Any) -> int:  # no worker: its pid only, and a key written meanwhile
        ws.update_job("p-s", merge_extra={"forked_meanwhile": True})
        return os.getpid()

    monkeypatch.setattr(step_ops, "fork_worker", forked)
    read = read_then_written(ws, monkeypatch)
    assert StepOperations(ws).start_worker("p-s") == os.getpid()
    record = Workspace(ws.root).get_job("p-s")
    theirs = {"forked_meanwhile": True, **(THEIRS if read else {})}
    assert {k: record.extra.get(k) for k in theirs} == theirs
    assert record.runner_pid == os.getpid()
    assert record.extra["runner_start"] == process_start_time(os.getpid())


def test_a_step_canceled_before_its_workers_pid_is_recorded_stays_canceled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pid is recorded only while the step is Queued (as ``JobOperations.start_worker`` records it):
    an end written meanwhile is kept whole (its status times too), the worker finds the step ended."""
    ws = Workspace(tmp_path / "ws")
    queued(ws, "p-c", runner_pid=1)
    ops = StepOperations(ws)

    def forked_then_canceled(*_: Any, **__: Any) -> int:
        mark_lost(ws, ws.get_job("p-c"), status=JobStatus.CANCELED, reason="canceled meanwhile")
        return os.getpid()

    monkeypatch.setattr(step_ops, "fork_worker", forked_then_canceled)
    ops.start_worker("p-c")
    record = ws.get_job("p-c")
    assert record.status is JobStatus.CANCELED and record.error == "canceled meanwhile"
    assert record.runner_pid == 1 and "runner_start" not in record.extra
    assert set(record.extra["status_times"]) == {"Queued", "Canceled"}


def test_a_ray_follower_taking_the_job_up_keeps_a_key_written_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    ray = {"address": "http://127.0.0.1:9", "submission_id": "r1", "control": "unused", "compute": "ray"}
    queued(ws, "r1", extra={"ray": ray})
    monkeypatch.setattr(ray_follow._Follower, "run", lambda self, _cancel: self.ws.get_job(self.record.name))
    names = read_then_written(ws, monkeypatch)
    record = ray_follow.follow_ray_job(ws, "r1")
    assert names[0] == "r1"
    assert record.extra["written_meanwhile"] == THEIRS["written_meanwhile"]
    assert record.runner_pid == os.getpid()
    assert record.extra["runner_start"] == process_start_time(os.getpid())
    assert record.extra["ray"] == ray


def test_a_ray_follower_writes_nothing_over_an_end_written_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    ray = {"address": "http://127.0.0.1:9", "submission_id": "r2", "control": "unused", "compute": "ray"}
    queued(ws, "r2", runner_pid=1, extra={"ray": ray})
    monkeypatch.setattr(ray_follow._Follower, "run", lambda self, _cancel: self.ws.get_job(self.record.name))
    read = ws.get_job

    def read_then_ended(name: str) -> JobRecord:
        record = read(name)
        if not record.status.is_terminal:
            ws.update_job(name, only_from={JobStatus.QUEUED}, status=JobStatus.CANCELED, ended_at=utcnow())
        return record

    monkeypatch.setattr(ws, "get_job", read_then_ended)
    record = ray_follow.follow_ray_job(ws, "r2")
    assert record.status is JobStatus.CANCELED and record.runner_pid == 1
    assert "runner_start" not in record.extra


def test_a_status_change_keeps_a_key_written_since_the_tracker_read_the_record(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    tracker = StatusTracker(ws, queued(ws, "t1"))
    ws.update_job("t1", merge_extra=THEIRS)
    tracker.timing("prepare", 0.5)
    assert tracker.set(JobStatus.PREPARING).extra["written_meanwhile"] == THEIRS["written_meanwhile"]
    ws.update_job("t1", merge_extra={"second": 2})
    ended = tracker.finish(JobStatus.COMPLETED)
    assert ended.status is JobStatus.COMPLETED
    assert ended.extra["written_meanwhile"] == THEIRS["written_meanwhile"] and ended.extra["second"] == 2
    assert ended.extra["timings_s"] == {"prepare": 0.5}
    assert list(ended.extra["status_times"]) == ["Queued", "Preparing", "Completed"]
    assert ws.get_job("t1") == ended
