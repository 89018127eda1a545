"""A pipeline's record is never written back whole from a record read earlier: what is added to its
``extra`` is merged in the write's own transaction (``update_job(merge_extra=...)``), so a key or an end
another process wrote between that read and the write stands. Here: ``start_orchestrator`` recording the
orchestrator's pid (only while the pipeline is still Queued, as ``JobOperations.start_worker`` records a
worker's), and a reader recording an ended pipeline's followed step rows (``follow_steps``,
``follow_all_steps``). Deterministic: the other process's write is made by hand inside the spawn, or the
read, it must come after; no orchestrator runs; everything in this test's tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.recovery import mark_lost, process_start_time
from runner.pipelines.step_rows import follow_all_steps, follow_steps
from runner.pipelines.submit import start_orchestrator, submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

THEIRS = {"written_meanwhile": "by another process"}
ONE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "s": {"command": "echo s", "environment": {"image": "unused:1"}}}}


class _Spawned:
    """What ``subprocess.Popen`` returns, for a process that is this one (its pid, a start time)."""

    def __init__(self, *_: Any, **__: Any) -> None:
        self.pid = os.getpid()


def queued_pipeline(ws: Workspace, base: Path, name: str) -> JobRecord:
    """Pipeline ``name`` Queued, its submitter recorded as a process other than the orchestrator."""
    submit_pipeline(ws, pipeline_from_data(ONE, base_dir=base), name=name)
    return ws.update_job(name, runner_pid=1, merge_extra={"runner_start": "submitter"})


def spawn_then(monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> None:
    """The orchestrator is spawned (not run: its pid is this process's), then ``meanwhile`` is done."""

    def spawned(*args: Any, **kwargs: Any) -> _Spawned:
        meanwhile()
        return _Spawned(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spawned)  # (runner.pipelines.submit imports it to spawn)


def read_then(ws: Workspace, monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> list[str]:
    """``ws.get_job`` returns the record as read; ``meanwhile`` is then done once, after the first read
    (the one a write-back would build on). The names read are listed."""
    read = ws.get_job
    names: list[str] = []

    def get_job(name: str) -> JobRecord:
        record = read(name)
        if not names:
            meanwhile()
        names.append(name)
        return record

    monkeypatch.setattr(ws, "get_job", get_job)
    return names


def test_the_orchestrators_pid_is_recorded_without_losing_a_key_written_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    queued = queued_pipeline(ws, tmp_path, "p")
    spawn_then(monkeypatch, lambda: ws.update_job("p", merge_extra={"spawned_meanwhile": True}))
    read = read_then(ws, monkeypatch, lambda: ws.update_job("p", merge_extra=THEIRS))
    assert start_orchestrator(ws, "p") == os.getpid()
    record = Workspace(ws.root).get_job("p")
    theirs = {"spawned_meanwhile": True, **(THEIRS if read else {})}  # a read is followed by a write
    assert {k: record.extra.get(k) for k in theirs} == theirs
    assert record.status is JobStatus.QUEUED and record.runner_pid == os.getpid()
    assert record.extra["runner_start"] == process_start_time(os.getpid())
    assert record.extra["pipeline"] == queued.extra["pipeline"]
    assert record.extra["steps"] == queued.extra["steps"]


def before_the_pid_write(ws: Workspace, monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> None:
    """``meanwhile`` is done once, right before the write that records a runner's pid (after any read
    that write may build on)."""
    write = ws.update_job
    done: list[bool] = []

    def update_job(name: str, **fields: Any) -> Any:
        if "runner_pid" in fields and not done:
            done.append(True)
            meanwhile()
        return write(name, **fields)

    monkeypatch.setattr(ws, "update_job", update_job)


@pytest.mark.parametrize("when", ["spawned", "before the write"])
def test_a_pipeline_canceled_before_its_orchestrators_pid_is_recorded_stays_canceled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """A cancel landing once the orchestrator is spawned, or between any read and the write of its pid,
    stands whole: its status time, its error, the pid it found (the orchestrator finds the pipeline
    ended)."""
    ws = Workspace(tmp_path / "ws")
    queued = queued_pipeline(ws, tmp_path, "p")
    other = Workspace(ws.root)  # the cancel's own process

    def cancel() -> None:
        mark_lost(other, other.get_job("p"), status=JobStatus.CANCELED, reason="canceled meanwhile")

    spawn_then(monkeypatch, cancel if when == "spawned" else lambda: None)
    if when == "before the write":
        before_the_pid_write(ws, monkeypatch, cancel)
    start_orchestrator(ws, "p")
    record = other.get_job("p")
    assert record.status is JobStatus.CANCELED and record.error == "canceled meanwhile"
    assert record.runner_pid == queued.runner_pid
    assert record.extra["runner_start"] == queued.extra["runner_start"]
    assert set(record.extra["status_times"]) == {"Queued", "Canceled"}


def _ended_with_a_step_running(ws: Workspace, base: Path, name: str) -> JobRecord:
    """Pipeline ``name`` Failed while its step ran; the step's job has completed since: the record, as a
    reader read it then."""
    queued = queued_pipeline(ws, base, name)
    ws.create_job(JobRecord(name=f"{name}-s", status=JobStatus.RUNNING, spec={"parent_job_name": name}))
    ws.update_job(name, status=JobStatus.FAILED, error="its orchestrator died",
                  merge_extra={"steps": {"s": {"job": f"{name}-s", "status": "Running"}}})
    read = ws.get_job(name)
    ws.update_job(f"{name}-s", status=JobStatus.COMPLETED)
    assert read.extra["pipeline"] == queued.extra["pipeline"]
    return read


def test_a_followed_step_row_is_recorded_without_losing_a_key_written_since_the_read(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    read = _ended_with_a_step_running(ws, tmp_path, "p")
    ws.update_job("p", merge_extra=THEIRS)  # by another process, after the reader's read
    returned = follow_steps(ws, read)
    stored = ws.get_job("p")
    assert stored.extra["steps"]["s"]["status"] == "Completed"
    assert stored.extra["written_meanwhile"] == THEIRS["written_meanwhile"]
    assert returned == stored


def test_followed_rows_of_a_listed_page_keep_a_key_written_since_the_read(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    listed = [_ended_with_a_step_running(ws, tmp_path, "p"), _ended_with_a_step_running(ws, tmp_path, "q")]
    ws.update_job("q", merge_extra=THEIRS)
    follow_all_steps(ws, listed)
    for name in ("p", "q"):
        assert ws.get_job(name).extra["steps"]["s"]["status"] == "Completed"
    assert ws.get_job("q").extra["written_meanwhile"] == THEIRS["written_meanwhile"]
