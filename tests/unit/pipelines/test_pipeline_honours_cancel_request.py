"""A cancel recorded in a pipeline's record (``extra["cancel_requested"]``, what ``job cancel`` writes before
it signals the orchestrator) is honoured by its orchestrator at its next poll, as a SIGTERM would be: the
running step is canceled, no other step starts, and the pipeline ends Canceled.

The steps are stand-ins (records only, no process): a step is Running once submitted, Canceled by
``cancel``, and Completed on the orchestrator's fourth poll unless it canceled its steps, so a pipeline that
ignored the request would start its next step (what this test refuses) instead of hanging. Everything in
this test's tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.cancel_request import CANCEL_REQUESTED, record_cancel_request
from runner.pipelines.orchestrate import MAX_PARALLEL_ENV, Orchestrator
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow

TWO = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "slow": {"command": "sleep 30", "environment": {"image": "unused:1"}},
    "later": {"command": "echo later", "environment": {"image": "unused:1"}}}}


class _Steps:
    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.ws = orch.ws
        self.submitted: list[str] = []
        self.canceled: list[str] = []
        self.polls = 0

    def create_or_update(self, _spec: Any, *, name: str, **_: Any) -> JobRecord:
        self.submitted.append(name)
        return self.ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, runner_pid=os.getpid(),
                                            spec={"parent_job_name": "p"}))

    def cancel(self, name: str) -> None:
        self.canceled.append(name)
        self.ws.update_job(name, only_from={JobStatus.RUNNING}, status=JobStatus.CANCELED, ended_at=utcnow(),
                           error="canceled")

    def reap(self) -> None:
        self.polls += 1
        if self.polls == 2:  # `slow` submitted and recorded: the orchestrator has nothing to write
            assert record_cancel_request(self.ws, "p") is not None
        if self.polls < 4 or self.orch.canceled:
            return
        for name in self.submitted:
            self.ws.update_job(name, only_from={JobStatus.RUNNING}, status=JobStatus.COMPLETED,
                               ended_at=utcnow())


def test_a_recorded_cancel_request_cancels_the_running_step_and_starts_no_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_PARALLEL_ENV, "1")  # `later` waits for `slow`'s slot
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, pipeline_from_data(TWO, base_dir=tmp_path), name="p")
    orch = Orchestrator(ws, "p")
    steps = _Steps(orch)
    orch.ops = steps  # type: ignore[assignment]
    returned = orch.run()
    assert steps.submitted == ["p-slow"], "a step started after the pipeline's cancel was recorded"
    assert steps.canceled == ["p-slow"]
    record = ws.get_job("p")
    assert returned == record and record.status is JobStatus.CANCELED and CANCEL_REQUESTED in record.extra
    assert record.extra["steps"]["slow"]["status"] == "Canceled"
    assert record.extra["steps"]["later"]["status"] == "Skipped"
    assert "cancel requested" in ws.job_dir("p").std_log.read_text()
