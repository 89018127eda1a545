"""The Register form gives the warning and the refusals the CLI gives for a job's output
(``runner.workspace.job_output_state``): a Canceled (or Failed) job's output registers with the warning
that it may be partial, shown on the version's page the form leads to (and in its JSON); an output that
was not (all) uploaded, or the output of a job that has not ended, is refused beside the Path field, in a
browser's words."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from ui_support import Browserless, LiveUI

from runner.errors import RegistryError
from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus, utcnow


def _job(live: LiveUI, name: str, status: JobStatus, **extra: object) -> Path:
    """A job that wrote its output ``o`` (one file) on the default local datastore, and ended ``status``."""
    ws = live.client.workspace
    folder = Path(ws.root) / "datastores" / "workspaceblobstore" / "out" / name
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w")
    ws.create_job(JobRecord(name=name, status=status, created_at=utcnow(), job_dir=str(ws.job_dir(name).root),
                            outputs={"o": f"azureml://datastores/workspaceblobstore/paths/out/{name}"},
                            spec={"outputs": {"o": {"type": "uri_folder", "mode": "upload"}}}, extra=extra))
    return folder


def _register(web: Browserless, name: str, path: str) -> tuple[int, dict[str, str], str]:
    return web.request("/register/model", {"csrf_token": web.csrf(), "name": name, "path": path,
                                           "type": "custom_model"})


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_a_canceled_jobs_output_registers_with_the_clis_partial_warning(
        live_ui: LiveUI, caplog: pytest.LogCaptureFixture) -> None:
    _job(live_ui, "can", JobStatus.CANCELED)
    with caplog.at_level(logging.WARNING):
        live_ui.client.models.create(Model(name="by-cli", path="azureml://jobs/can/outputs/o"))
    [cli] = [r.getMessage() for r in caplog.records if "may be partial" in r.getMessage()]
    web = Browserless(live_ui.address)
    status, headers, _ = _register(web, "by-ui", "azureml://jobs/can/outputs/o")
    assert status == 303 and headers["location"] == "/models/by-ui/versions/1"
    view = web.json("/api/models/by-ui/versions/1")
    [warning] = view["warnings"]
    assert "job 'can' ended Canceled: its output 'o' may be partial" in warning and cli.startswith(warning)
    status, page = web.get("/models/by-ui/versions/1")
    assert status == 200 and 'id="version-warnings"' in page and warning in _text(page)
    status, headers, _ = web.request("/register/model", {"csrf_token": web.csrf(), "name": "by-htmx",
                                                         "path": "azureml://jobs/can/outputs/o"},
                                     headers={"HX-Request": "true"})
    assert status == 204 and {k.lower(): v for k, v in headers.items()}["hx-redirect"] == \
        "/models/by-htmx/versions/1"
    assert web.json("/api/models/by-htmx/versions/1")["warnings"] == [warning]


def test_a_completed_jobs_output_has_no_warning(live_ui: LiveUI) -> None:
    _job(live_ui, "done", JobStatus.COMPLETED)
    web = Browserless(live_ui.address)
    assert _register(web, "whole", "azureml://jobs/done/outputs/o")[0] == 303
    assert web.json("/api/models/whole/versions/1")["warnings"] == []
    assert 'id="version-warnings"' not in web.get("/models/whole/versions/1")[1]


def test_an_output_that_was_not_uploaded_is_refused_as_the_cli_refuses_it(live_ui: LiveUI) -> None:
    staged = _job(live_ui, "held", JobStatus.FAILED)
    kept = Path(live_ui.client.workspace.job_dir("held").outputs) / "o"
    kept.mkdir(parents=True)
    (kept / "weights.bin").write_bytes(b"w")
    record = live_ui.client.workspace.get_job("held")
    held = {"held_back_outputs": {"o": str(kept)}, "held_back_why": "the job ran with --no-upload-on-failure"}
    live_ui.client.workspace.update_job("held", extra={**record.extra, **held})
    for child in staged.iterdir():
        child.unlink()
    staged.rmdir()
    with pytest.raises(RegistryError) as cli:
        live_ui.client.models.create(Model(name="cli", path="azureml://jobs/held/outputs/o"))
    web = Browserless(live_ui.address)
    status, _, page = _register(web, "ui", "azureml://jobs/held/outputs/o")
    assert status == 422 and 'id="path-error"' in page
    assert cli.value.message in _text(page)
    assert list(live_ui.client.models.list()) == []


def test_a_running_jobs_output_is_refused_in_a_browsers_words(live_ui: LiveUI) -> None:
    _job(live_ui, "busy", JobStatus.RUNNING)
    web = Browserless(live_ui.address)
    status, _, page = _register(web, "early", "azureml://jobs/busy/outputs/o")
    text = _text(page)
    assert status == 422 and 'id="path-error"' in page and "job 'busy' is Running" in text
    assert "runner job stream" not in text and "ml_client" not in text
    assert "/jobs/busy" in text
