"""The web UI over HTTP: a pipeline's steps, each with its status as its job's record says now, in the job
list's JSON (the step jobs themselves under ``?parent=<pipeline>``) and on the pipeline's page and its
JSON; a pipeline that ended while a step ran on (its orchestrator died) shows the step's end without any
``job show`` in between."""

from __future__ import annotations

from pathlib import Path

from ui_support import Browserless, LiveUI

from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus

PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "echo w", "environment": {"image": "unused:1"}},
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}


def _ended_while_w_ran(live_ui: LiveUI, tmp_path: Path) -> None:
    ws = live_ui.client.workspace
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    record = ws.get_job("p")
    steps = {"w": {"job": "p-w", "status": "Running"}, "v": {"job": "p-v", "status": "NotStarted"}}
    ws.create_job(JobRecord(name="p-w", status=JobStatus.RUNNING, spec={"parent_job_name": "p"}))
    ws.update_job("p", status=JobStatus.FAILED, error="the orchestrator died",
                  extra={**record.extra, "steps": steps})
    ws.update_job("p-w", status=JobStatus.COMPLETED)


def test_the_job_lists_json_shows_a_pipelines_current_step_rows(live_ui: LiveUI, tmp_path: Path) -> None:
    _ended_while_w_ran(live_ui, tmp_path)
    web = Browserless(live_ui.address)
    rows = {r["name"]: r for r in web.json("/api/jobs")["jobs"]}
    assert rows["p"]["status"] == "Failed"
    assert [(s["name"], s["status"], s["job"]) for s in rows["p"]["steps"]] == \
        [("w", "Completed", "p-w"), ("v", "Skipped", None)]  # v made no job
    assert "p-w" not in rows  # a step is listed under its pipeline, as `runner job list` lists it
    rows = {r["name"]: r for r in web.json("/api/jobs?parent=p")["jobs"]}
    assert rows["p-w"]["status"] == "Completed" and rows["p-w"]["steps"] == []


def test_the_pipelines_page_and_json_show_its_current_step_rows(live_ui: LiveUI, tmp_path: Path) -> None:
    _ended_while_w_ran(live_ui, tmp_path)
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs/p")
    assert [(s["name"], s["status"]) for s in view["steps"]] == [("w", "Completed"), ("v", "Skipped")]
    assert "before this step could start" in view["steps"][1]["note"]
    status, text = web.get("/jobs/p")
    assert status == 200 and 'id="steps"' in text
    table = text.split('id="steps"', 1)[1].split("</table>", 1)[0]
    w_row, v_row = table.split('<tr class="step"')[1:]
    assert 'href="/jobs/p-w"' in w_row and "Completed" in w_row and "Running" not in w_row
    assert "Skipped" in v_row and "href" not in v_row
    status, text = web.get("/jobs/p-w")  # a command job's page has no steps
    assert status == 200 and 'id="steps"' not in text
