"""A pipeline's step rows (``extra["steps"]``) as ``job list`` shows them, CLI and SDK: a pipeline that
ended while a step ran on (its orchestrator died, or it was canceled) shows the step's end as soon as the
step's own record has it, not only after a ``job show``; the steps are read in one query, never job by
job; a running pipeline's rows are its orchestrator's; a workspace that cannot be written still lists."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import StorageError
from runner.jobs.recovery import process_start_time
from runner.pipelines.operations import PipelineJobOperations
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "echo w", "environment": {"image": "unused:1"}},
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}
ORCHESTRATOR_DIED = "the pipeline's orchestrator (pid 1) died while the pipeline was Running"


def _ended_while_w_ran(ws: Workspace, base: Path, name: str) -> None:
    """Pipeline ``name`` Failed (its orchestrator gone) when its step w was Running and v not started;
    w's job has completed since."""
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=base), name=name)
    record = ws.get_job(name)
    steps = {"w": {"job": f"{name}-w", "status": "Running"},
             "v": {"job": f"{name}-v", "status": "NotStarted"}}
    ws.create_job(JobRecord(name=f"{name}-w", status=JobStatus.RUNNING, spec={"parent_job_name": name}))
    ws.update_job(name, status=JobStatus.FAILED, error=ORCHESTRATOR_DIED,
                  extra={**record.extra, "steps": steps})
    ws.update_job(f"{name}-w", status=JobStatus.COMPLETED)  # after the pipeline's record was last written


def _rows(job: Any) -> dict[str, str]:
    """Step -> status in the rows of ``job`` (a Job, or ``-o json``'s dict of one)."""
    extra = job["extra"] if isinstance(job, dict) else job.extra
    return {step: state["status"] for step, state in extra["steps"].items()}


def test_sdk_list_shows_a_step_that_finished_after_the_pipeline_ended(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _ended_while_w_ran(ws, tmp_path, "p")
    listed = {j.name: j for j in PipelineJobOperations(ws).list()}
    assert _rows(listed["p"]) == {"w": "Completed", "v": "Skipped"}
    assert "before this step could start" in listed["p"].extra["steps"]["v"]["note"]
    assert _rows(ws.get_job("p")) == {"w": "Completed", "v": "Skipped"}  # recorded, as `job show` does
    assert listed["p"].status is JobStatus.FAILED  # the pipeline's own status is unchanged


def test_cli_list_shows_a_step_that_finished_after_the_pipeline_ended(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _ended_while_w_ran(ws, tmp_path, "p")
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "job", "list", "-o", "json"])
    assert result.exit_code == 0, result.output
    pipeline = next(j for j in json.loads(result.output) if j["name"] == "p")
    assert _rows(pipeline) == {"w": "Completed", "v": "Skipped"}
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "job", "list", "--query",
                                      "[?name=='p'].extra.steps.w.status", "-o", "tsv"])
    assert result.exit_code == 0 and result.output.split() == ["Completed"], result.output


def test_list_reads_every_pipelines_steps_at_once_not_job_by_job(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    for name in ("p1", "p2", "p3"):
        _ended_while_w_ran(ws, tmp_path, name)
    ops = PipelineJobOperations(ws)

    def one_by_one(*_: Any, **__: Any) -> Any:
        raise AssertionError("job list read a job's record on its own")

    monkeypatch.setattr(Workspace, "get_job", one_by_one)
    monkeypatch.setattr(Workspace, "job_exists", one_by_one)
    listed = ops.list()
    assert [j.name for j in listed] == ["p3", "p2", "p1"]
    assert all(_rows(j) == {"w": "Completed", "v": "Skipped"} for j in listed)


def test_a_running_pipelines_rows_are_its_orchestrators(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    record = ws.get_job("p")
    steps = {"w": {"job": "p-w", "status": "Running"}, "v": {"job": "p-v", "status": "NotStarted"}}
    ws.create_job(JobRecord(name="p-w", status=JobStatus.COMPLETED, spec={"parent_job_name": "p"}))
    # this process stands for the pipeline's live orchestrator (which has not polled w since it ended)
    ws.update_job("p", status=JobStatus.RUNNING, runner_pid=os.getpid(),
                  extra={**record.extra, "steps": steps, "runner_start": process_start_time(os.getpid())})
    listed = {j.name: j for j in PipelineJobOperations(ws).list()}
    assert listed["p"].status is JobStatus.RUNNING
    assert _rows(listed["p"]) == {"w": "Running", "v": "NotStarted"}  # it writes them; none is written here
    assert ws.get_job("p").extra["steps"] == steps


def test_a_workspace_that_cannot_be_written_still_lists_fresh_rows(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    _ended_while_w_ran(ws, tmp_path, "p")
    ops = PipelineJobOperations(ws)

    def full(*_: Any, **__: Any) -> Any:
        raise StorageError("no space left on /ws")

    monkeypatch.setattr(Workspace, "update_job", full)
    listed = {j.name: j for j in ops.list()}
    assert _rows(listed["p"]) == {"w": "Completed", "v": "Skipped"}
