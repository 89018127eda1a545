"""The web UI's job list lists what `runner job list` and ``ml_client.jobs.list()`` list: the jobs that are
no pipeline's step. A pipeline's steps are reached through its page (its Steps table), its row in the list
(a link to them), or the explicit filter ``parent=<pipeline>`` (as ``--parent-job-name``); a step's page
links back to its pipeline."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ui_support import Browserless, LiveUI

from runner.workspace.db import JobRecord, JobStatus, utcnow


def _seed(live: LiveUI) -> None:
    """A command job, a pipeline with two step jobs, and a second command job (in that order)."""
    ws = live.client.workspace
    start = utcnow() - timedelta(minutes=10)
    ws.create_job(JobRecord(name="first", status=JobStatus.COMPLETED, backend="process", created_at=start))
    steps = {"a": {"job": "pipe-a", "status": "Completed"}, "b": {"job": "pipe-b", "status": "Completed"}}
    ws.create_job(JobRecord(name="pipe", status=JobStatus.COMPLETED, created_at=start + timedelta(minutes=1),
                            spec={"type": "pipeline"}, extra={"steps": steps}))
    for minute, step in ((2, "pipe-a"), (3, "pipe-b")):
        ws.create_job(JobRecord(name=step, status=JobStatus.COMPLETED, backend="process",
                                created_at=start + timedelta(minutes=minute),
                                spec={"parent_job_name": "pipe"}))
    ws.create_job(JobRecord(name="last", status=JobStatus.FAILED, backend="process",
                            created_at=start + timedelta(minutes=4)))


def _names(view: Any) -> list[str]:
    return [j["name"] for j in view["jobs"]]


def test_the_list_is_the_clis_top_level_jobs(live_ui: LiveUI) -> None:
    _seed(live_ui)
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs")
    cli = [j.name for j in live_ui.client.jobs.list()]  # what `runner job list` lists
    assert cli == ["last", "pipe", "first"]
    assert _names(view) == cli and view["page"]["total"] == 3
    assert _names(web.json("/api/jobs?status=completed")) == ["pipe", "first"]  # filters: top-level jobs
    assert _names(web.json("/api/jobs?name=pipe")) == ["pipe"]
    status, page = web.get("/jobs")
    assert status == 200
    table = page.split('id="jobs"', 1)[1].split("</table>", 1)[0]
    assert "pipe-a" not in table and "pipe-b" not in table
    assert 'href="/jobs?parent=pipe"' in table  # the pipeline's row links its steps


def test_a_pipelines_steps_are_listed_by_the_parent_filter(live_ui: LiveUI) -> None:
    _seed(live_ui)
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs?parent=pipe")
    assert sorted(_names(view)) == sorted(j.name for j in live_ui.client.jobs.list(parent_job_name="pipe"))
    assert sorted(_names(view)) == ["pipe-a", "pipe-b"] and view["filters"]["parent"] == "pipe"
    assert all(j["parent_job_name"] == "pipe" for j in view["jobs"])
    assert _names(web.json("/api/jobs?parent=first")) == []  # a command job has no steps
    status, page = web.get("/jobs?parent=pipe")
    assert status == 200 and 'href="/jobs/pipe-a"' in page and 'href="/jobs/pipe-b"' in page
    assert 'name="parent" value="pipe"' in page  # the filters keep it
    status, text = web.get("/api/jobs?parent=nope")
    body = json.loads(text)
    assert status == 404 and "unknown job 'nope'" in body["error"], text


def test_a_steps_page_links_its_pipeline(live_ui: LiveUI) -> None:
    _seed(live_ui)
    web = Browserless(live_ui.address)
    assert web.json("/api/jobs/pipe-a")["job"]["parent_job_name"] == "pipe"
    assert web.json("/api/jobs/first")["job"]["parent_job_name"] is None
    status, page = web.get("/jobs/pipe-a")
    assert status == 200 and 'id="parent-job"' in page and 'href="/jobs/pipe"' in page
    status, page = web.get("/jobs/first")
    assert status == 200 and 'id="parent-job"' not in page
