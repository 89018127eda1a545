"""Archive and Restore on a job's page, as ``runner job archive`` / ``restore`` (any status: a running job
runs on, archived): plain forms that POST with this browser's CSRF token (``runner.ui.security``), then
back to the job's page; the job list's "Show" filter then hides or lists it."""

from __future__ import annotations

import os
import re

from ui_support import Browserless, LiveUI

from runner.jobs.recovery import process_start_time
from runner.workspace.db import JobRecord, JobStatus, utcnow


def _job(live: LiveUI, name: str, status: JobStatus = JobStatus.COMPLETED) -> None:
    """A job record; an active one's runner is this (live) process, so it is not found dead."""
    ws = live.client.workspace
    ws.create_job(JobRecord(name=name, status=status, backend="process", created_at=utcnow(),
                            runner_pid=os.getpid(), extra={"runner_start": process_start_time(os.getpid())},
                            job_dir=str(ws.job_dir(name).root)))


def _form(page: str, action: str) -> str:
    """The form on ``page`` that posts to ``action`` (its HTML)."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}">.*?</form>', page, re.S)
    assert match, f"no form posting to {action}"
    return match.group(0)


def _listed(web: Browserless, archived: str = "") -> list[str]:
    return sorted(j["name"] for j in web.json(f"/api/jobs?archived={archived}")["jobs"])


def test_archive_then_restore_from_the_job_page(live_ui: LiveUI) -> None:
    _job(live_ui, "old")
    web = Browserless(live_ui.address)
    status, page = web.get("/jobs/old")
    assert status == 200 and "badge archived" not in page and "/jobs/old/restore" not in page
    form = _form(page, "/jobs/old/archive")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token and 'id="archive-job"' in form
    status, headers, _ = web.request("/jobs/old/archive", {"csrf_token": token.group(1)},
                                     {"Origin": live_ui.url, "Sec-Fetch-Site": "same-origin"})
    assert status == 303 and headers["location"] == "/jobs/old"
    assert live_ui.client.jobs.get("old").archived is True
    assert _listed(web) == [] and _listed(web, "only") == ["old"]
    status, page = web.get("/jobs/old")
    assert status == 200 and 'id="archived-badge"' in page and "/jobs/old/archive" not in page
    form = _form(page, "/jobs/old/restore")
    assert 'id="restore-job"' in form
    status, headers, _ = web.request("/jobs/old/restore", {"csrf_token": token.group(1)})
    assert status == 303 and headers["location"] == "/jobs/old"
    assert live_ui.client.jobs.get("old").archived is False and _listed(web) == ["old"]
    assert 'id="archived-badge"' not in web.get("/jobs/old")[1]


def test_archive_and_restore_need_this_browsers_csrf_token_and_this_site(live_ui: LiveUI) -> None:
    _job(live_ui, "kept")
    app = live_ui.server.config.app
    writes = {getattr(r, "path", ""): r for r in app.routes if "POST" in (getattr(r, "methods", None) or ())}
    for path in ("/jobs/{name}/archive", "/jobs/{name}/restore"):
        assert getattr(writes[path].endpoint, "protected", False), path
    web = Browserless(live_ui.address)
    token = web.csrf("/jobs/kept")
    for path in ("/jobs/kept/archive", "/jobs/kept/restore"):
        assert web.request(path, {})[0] == 403, path  # no token
        assert web.request(path, {"csrf_token": "forged"})[0] == 403, path
        assert web.request(path, {"csrf_token": token}, {"Origin": "http://evil.example"})[0] == 403, path
        assert web.request(path, {"csrf_token": token}, {"Sec-Fetch-Site": "cross-site"})[0] == 403, path
        other = Browserless(live_ui.address)
        other.csrf("/jobs/kept")
        assert other.request(path, {"csrf_token": token})[0] == 403, path
    assert live_ui.client.jobs.get("kept").archived is False
    assert web.request("/jobs/kept/archive", {}, {"X-CSRF-Token": token})[0] == 303  # htmx's header
    assert live_ui.client.jobs.get("kept").archived is True


def test_a_running_job_is_archived_and_runs_on(live_ui: LiveUI) -> None:
    """As ``runner job archive``: any status; archiving only hides the job from the list."""
    _job(live_ui, "busy", JobStatus.RUNNING)
    web = Browserless(live_ui.address)
    status, page = web.get("/jobs/busy")
    form = _form(page, "/jobs/busy/archive")
    assert status == 200 and "runs on" in form and 'id="cancel"' in page
    token = web.csrf("/jobs/busy")
    assert web.request("/jobs/busy/archive", {"csrf_token": token})[0] == 303
    job = live_ui.client.jobs.get("busy")
    assert job.archived is True and job.status is JobStatus.RUNNING
    status, page = web.get("/jobs/busy")
    assert status == 200 and 'id="archived-badge"' in page and 'id="cancel"' in page


def test_archiving_an_unknown_job_says_so(live_ui: LiveUI) -> None:
    web = Browserless(live_ui.address)
    token = web.csrf()
    status, _, text = web.request("/jobs/nope/archive", {"csrf_token": token})
    assert status == 404 and "unknown job" in text and "nope" in text and "the Jobs list shows" in text
    assert "Traceback" not in text
