"""A pipeline's summary names, for each step, a job the user can look up: the job that ran it, the
earlier job a reused step took its outputs from (and its own record), and none for a step that never
ran (skipped or not started: it has no job)."""

from __future__ import annotations

from runner.cli.pipeline_view import summary_lines
from runner.workspace.db import JobRecord, JobStatus


def test_each_step_names_a_job_that_can_be_looked_up() -> None:
    record = JobRecord(name="pipe1", status=JobStatus.FAILED, spec={"type": "pipeline"}, extra={"steps": {
        "a": {"job": "pipe1-a", "status": "Completed", "reused_from": "pipe0-a"},
        "b": {"job": "pipe1-b", "status": "Failed"},
        "c": {"job": "pipe1-c", "status": "Skipped", "note": "skipped: step b failed"},
        "d": {"job": "pipe1-d", "status": "NotStarted"},
    }})
    assert summary_lines(record) == [
        "Step a: Completed  job pipe1-a  (reused from job pipe0-a)",
        "Step b: Failed  job pipe1-b",
        "Step c: Skipped  (no job: skipped: step b failed)",
        "Step d: NotStarted  (no job)",
    ]
