"""The web UI's job list hides archived jobs, as `runner job list` and Azure ML studio do: its "Show"
filter lists them too (``archived=include``) or only them (``only``), each marked archived, and a job's
page says it is archived; a model's readers (lineage) list every job that read it, archived or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui_support import Browserless, LiveUI, model_folder

from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus


def _names(view: Any) -> list[str]:
    return sorted(j["name"] for j in view["jobs"])


def test_archived_jobs_leave_the_list_unless_asked(live_ui: LiveUI) -> None:
    ws = live_ui.client.jobs.workspace
    for name in ("kept", "gone"):
        ws.create_job(JobRecord(name=name, status=JobStatus.COMPLETED, backend="process"))
    live_ui.client.jobs.archive("gone")
    web = Browserless(live_ui.address)
    assert _names(web.json("/api/jobs")) == ["kept"]
    every = web.json("/api/jobs?archived=include")
    assert _names(every) == ["gone", "kept"] and every["filters"]["archived"] == "include"
    assert {j["name"]: j["archived"] for j in every["jobs"]} == {"gone": True, "kept": False}
    assert _names(web.json("/api/jobs?archived=only")) == ["gone"]
    assert web.json("/api/jobs/gone")["job"]["archived"] is True
    status, text = web.get("/api/jobs?archived=bogus")
    assert status == 400 and "archived" in text
    status, page = web.get("/jobs?archived=include")
    assert status == 200 and 'id="archived-filter"' in page and "badge archived" in page
    status, page = web.get("/jobs/gone")
    assert status == 200 and "badge archived" in page


def test_a_models_readers_include_archived_jobs(live_ui: LiveUI, tmp_path: Path) -> None:
    client = live_ui.client
    client.models.create(Model(name="clf", path=str(model_folder(tmp_path / "clf"))))
    plan = {"plan": {"inputs": [{"name": "m", "cache_key": "model:clf:1"}]}}
    client.jobs.workspace.create_job(JobRecord(name="reader", status=JobStatus.COMPLETED, extra=plan))
    client.jobs.archive("reader")
    web = Browserless(live_ui.address)
    assert [r["name"] for r in web.json("/api/models/clf/versions/1")["read_by"]] == ["reader"]
