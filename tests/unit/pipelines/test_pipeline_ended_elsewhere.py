"""A pipeline whose record another process ended while its orchestrator runs (a ``job cancel`` that found
no orchestrator alive, a recovery that judged it dead) stops as a cancel of the pipeline stops it: its
orchestrator's refused write (``StatusTracker``'s compare-and-set) starts no new step, cancels the running
ones (``job cancel`` of each, as a cancel of the pipeline does), and writes nothing over that end.

The steps are stand-ins (``_Steps``: records only, no process), so every interleaving is made by hand; a
stand-in step not canceled completes on the orchestrator's third poll, so a pipeline that went on would
start the next step (what these tests refuse) instead of hanging. Everything in this test's tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.recovery import mark_lost
from runner.pipelines import orchestrate
from runner.pipelines.orchestrate import MAX_PARALLEL_ENV, Orchestrator
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow

ENDED = "ended by another process"
TWO = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "slow": {"command": "sleep 30", "environment": {"image": "unused:1"}},
    "later": {"command": "echo later", "environment": {"image": "unused:1"}}}}
CHAIN = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "echo hi > ${{outputs.o}}/x", "environment": {"image": "unused:1"},
          "outputs": {"o": {"mode": "upload"}}},
    "r": {"command": "ls ${{inputs.i}}", "environment": {"image": "unused:1"},
          "inputs": {"i": {"path": "${{parent.jobs.w.outputs.o}}", "mode": "download"}}}}}


def end_pipeline(ws: Workspace) -> None:
    """Another process ends the pipeline's record, as ``job cancel`` does when it finds no runner."""
    mark_lost(ws, ws.get_job("p"), status=JobStatus.CANCELED, reason=ENDED)


class _Steps:
    """The orchestrator's step operations, records only: a step is Running once submitted, Canceled by
    ``cancel``, and Completed on the third poll (``reap``) unless the orchestrator canceled its steps."""

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.ws = orch.ws
        self.submitted: list[str] = []
        self.canceled: list[str] = []
        self.polls = 0
        self.on_submit: dict[str, Any] = {}
        self.on_complete: dict[str, Any] = {}
        self.on_poll: dict[int, Any] = {}

    def create_or_update(self, _spec: Any, *, name: str, **_: Any) -> JobRecord:
        self.submitted.append(name)
        record = self.ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, runner_pid=os.getpid(),
                                              spec={"parent_job_name": "p"}))
        if name in self.on_submit:
            self.on_submit[name]()
        return record

    def cancel(self, name: str) -> None:
        self.canceled.append(name)
        self.ws.update_job(name, only_from={JobStatus.RUNNING}, status=JobStatus.CANCELED, ended_at=utcnow(),
                           error="canceled")

    def reap(self) -> None:
        self.polls += 1
        if self.polls in self.on_poll:
            self.on_poll[self.polls]()
        if self.polls < 3 or self.orch.canceled:
            return
        for name in self.submitted:
            if self.ws.update_job(name, only_from={JobStatus.RUNNING}, status=JobStatus.COMPLETED,
                                  ended_at=utcnow()) is not None and name in self.on_complete:
                self.on_complete[name]()


def orchestrator(tmp_path: Path, data: dict[str, Any]) -> tuple[Orchestrator, _Steps]:
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, pipeline_from_data(data, base_dir=tmp_path), name="p")
    orch = Orchestrator(ws, "p")
    steps = _Steps(orch)
    orch.ops = steps  # type: ignore[assignment]
    return orch, steps


def assert_the_other_end_stands(orch: Orchestrator, returned: JobRecord) -> None:
    record = orch.ws.get_job("p")
    assert returned == record
    assert record.status is JobStatus.CANCELED and record.error is not None and record.error.startswith(ENDED)
    assert "Completed" not in record.extra["status_times"] and "Failed" not in record.extra["status_times"]
    log = orch.ws.job_dir("p").std_log.read_text()
    assert "ended Canceled by another process" in log, log


def test_a_pipeline_ended_elsewhere_cancels_its_running_step_and_starts_no_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_PARALLEL_ENV, "1")  # `later` waits for `slow`'s slot
    orch, steps = orchestrator(tmp_path, TWO)
    steps.on_submit["p-slow"] = lambda: end_pipeline(orch.ws)  # while `slow` is being submitted
    returned = orch.run()
    assert steps.submitted == ["p-slow"], "a step started after the pipeline's record was ended elsewhere"
    assert steps.canceled == ["p-slow"]
    assert orch.ws.get_job("p-slow").status is JobStatus.CANCELED
    assert not orch.ws.job_exists("p-later")
    assert_the_other_end_stands(orch, returned)


def test_a_pipeline_ended_elsewhere_while_nothing_changes_here_is_found_by_its_next_poll(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ended while its step runs on and the orchestrator has nothing to write: its next poll finds the
    end (as a refused write would), not the step's end, however long that step runs."""
    monkeypatch.setenv(MAX_PARALLEL_ENV, "1")
    orch, steps = orchestrator(tmp_path, TWO)
    steps.on_poll[2] = lambda: end_pipeline(orch.ws)  # `slow` submitted and recorded: nothing to write
    returned = orch.run()
    assert steps.submitted == ["p-slow"] and steps.canceled == ["p-slow"]
    assert orch.ws.get_job("p-slow").status is JobStatus.CANCELED
    assert_the_other_end_stands(orch, returned)


def test_a_refusal_found_while_polling_starts_no_step_that_just_became_ready(tmp_path: Path) -> None:
    """The pipeline was ended just as its step ``w`` completed: the write of ``w``'s outputs is refused in
    the same poll that makes ``r`` ready; ``r`` never starts."""
    orch, steps = orchestrator(tmp_path, CHAIN)
    steps.on_complete["p-w"] = lambda: end_pipeline(orch.ws)
    returned = orch.run()
    assert steps.submitted == ["p-w"]
    assert orch.ws.get_job("p-w").status is JobStatus.COMPLETED  # it ended before: nothing to cancel
    assert_the_other_end_stands(orch, returned)


def test_a_pipeline_ended_before_its_running_status_is_written_starts_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ended between the orchestrator's first read of the record and its Running write."""
    orch, steps = orchestrator(tmp_path, TWO)
    started = orchestrate.process_start_time

    def read_then_ended(pid: int) -> str | None:
        end_pipeline(orch.ws)
        return started(pid)

    monkeypatch.setattr(orchestrate, "process_start_time", read_then_ended)
    returned = orch.run()
    assert steps.submitted == []
    assert_the_other_end_stands(orch, returned)
