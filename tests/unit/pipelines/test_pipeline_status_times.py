"""The times a pipeline's writers record (submission: Queued; the orchestrator: Running, then its end; a
reused step's record: Completed) read back in order and in the one form every output shows (ISO 8601 in
UTC ending in ``Z``), from Python (``ml_client.jobs.get``) and in the stored records."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from runner.jobs.operations import as_job
from runner.pipelines.orchestrate import Orchestrator
from runner.pipelines.record import PipelinePlan, step_spec
from runner.pipelines.reuse import fingerprint, remember
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}


def _is_z(text: object) -> bool:
    return isinstance(text, str) and text.endswith("Z") and "+" not in text \
        and datetime.fromisoformat(text).utcoffset() == timedelta(0)


def test_a_pipelines_status_times_are_z_from_every_writer(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    queued = submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    assert list(queued.extra["status_times"]) == ["Queued"] and _is_z(queued.extra["status_times"]["Queued"])
    plan = PipelinePlan.from_extra(queued.extra["pipeline"])
    ws.create_job(JobRecord(name="earlier", status=JobStatus.COMPLETED))  # the step's twin: it is reused
    remember(ws, fingerprint(ws, step_spec(plan.steps["v"])), "earlier")
    ended = Orchestrator(ws, "p").run()
    assert ended.status is JobStatus.COMPLETED, ended.error
    times = as_job(ws.get_job("p")).model_dump()["extra"]["status_times"]
    assert list(times) == ["Queued", "Running", "Completed"], times
    assert all(_is_z(t) for t in times.values()), times
    assert ws.get_job("p").extra["status_times"] == times  # stored so, not only shown so
    assert times["Queued"] <= times["Running"] <= times["Completed"]  # one form: text order is time order
    step = ws.get_job("p-v")
    assert step.extra["reused_from"] == "earlier"
    assert list(step.extra["status_times"]) == ["Completed"]
    assert _is_z(step.extra["status_times"]["Completed"])
