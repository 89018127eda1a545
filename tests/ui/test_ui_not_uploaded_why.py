"""A job's page says why an output did not (all) reach its datastore, as its record tells
(``runner.workspace.upload_state.incomplete_outputs``): its upload failed (how many files of how many),
its runner stopped before uploading it, or the job held it back (``--no-upload-on-failure``); and where
its staged data is kept. A failed upload is never called "the runner stopped"."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from ui_support import Browserless, LiveUI

from runner.workspace.db import JobRecord, JobStatus, utcnow

URI = "azureml://datastores/workspaceblobstore/paths/out/o"


def _staged(live: LiveUI, name: str, files: int) -> Path:
    folder = live.client.workspace.job_dir(name).outputs / "o"
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"f{i}.bin").write_bytes(b"x")
    return folder


def _failed_upload(live: LiveUI, name: str, missing: int, total: int) -> Path:
    """A job whose upload of output ``o`` failed for ``missing`` of ``total`` files (the record's error in
    the words ``runner.jobs.run`` writes it)."""
    ws = live.client.workspace
    staged = _staged(live, name, missing)
    error = ("outputs could not be made durable:\n"
             f"output 'o' (upload to {URI}): {missing} of {total} file(s) could not be uploaded: connection "
             f"reset\n  staged data kept at: {staged}")
    ws.create_job(JobRecord(name=name, status=JobStatus.FAILED, exit_code=0, error=error, created_at=utcnow(),
                            outputs={"o": URI}, job_dir=str(ws.job_dir(name).root),
                            spec={"outputs": {"o": {"type": "uri_folder", "mode": "upload"}}}))
    return staged


def _held_back(live: LiveUI, name: str, why: str) -> Path:
    ws = live.client.workspace
    staged = _staged(live, name, 1)
    ws.create_job(JobRecord(name=name, status=JobStatus.FAILED, created_at=utcnow(), outputs={"o": URI},
                            job_dir=str(ws.job_dir(name).root),
                            spec={"outputs": {"o": {"type": "uri_folder", "mode": "upload"}}},
                            extra={"held_back_outputs": {"o": str(staged)}, "held_back_why": why}))
    return staged


def _output(web: Browserless, job: str) -> dict[str, Any]:
    return dict(next(o for o in web.json(f"/api/jobs/{job}")["outputs"] if o["name"] == "o"))


def _row(web: Browserless, job: str) -> str:
    status, text = web.get(f"/jobs/{job}")
    assert status == 200, text[:500]
    row = text.split('data-output="o"', 1)[1].split("</tr>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", "", row))  # its text, as the browser shows it


def test_a_partly_failed_upload_says_upload_failed_and_how_many_files(live_ui: LiveUI) -> None:
    staged = _failed_upload(live_ui, "part", missing=3, total=10)
    web = Browserless(live_ui.address)
    out = _output(web, "part")
    assert out["uploaded"] is False and out["kept_at"] == str(staged) and out["kept_files"] == 3
    assert "upload failed" in out["not_uploaded_why"] and "3 of 10 files" in out["not_uploaded_why"]
    assert out["partly_uploaded"] is True and out["failed_files"] == 3 and out["total_files"] == 10
    row = _row(web, "part")
    assert "runner stopped" not in row and "not fully uploaded" in row
    assert "upload failed: 3 of 10 files could not be uploaded" in row
    where = live_ui.client.workspace.root / "datastores" / "workspaceblobstore" / "out" / "o"
    assert f"kept at {staged} (3 files)" in row and str(where) in row  # the others are at its location
    status, text = web.get("/jobs/part/outputs/o/download")
    text = html.unescape(text)
    assert status == 404 and "upload failed: 3 of 10 files" in text and str(staged) in text
    assert "runner stopped" not in text


def test_a_wholly_failed_upload_is_not_uploaded_and_its_data_kept_whole(live_ui: LiveUI) -> None:
    staged = _failed_upload(live_ui, "none", missing=4, total=4)
    web = Browserless(live_ui.address)
    out = _output(web, "none")
    assert out["partly_uploaded"] is False and out["kept_whole"] is True
    row = _row(web, "none")
    assert "not uploaded" in row and "upload failed: 4 of 4 files could not be uploaded" in row
    assert f"staged data kept at {staged} (4 files)" in row and "runner stopped" not in row


def test_a_runner_that_died_is_said_so(live_ui: LiveUI) -> None:
    """What recovery records of a runner found dead (``runner.jobs.recovery``)."""
    staged = _held_back(live_ui, "dead", "its runner process (pid 4242) died before uploading them")
    web = Browserless(live_ui.address)
    out = _output(web, "dead")
    assert out["not_uploaded_why"] == "its runner process (pid 4242) died before uploading it"
    row = _row(web, "dead")
    assert "not uploaded" in row and "died before uploading it" in row and "upload failed" not in row
    assert f"staged data kept at {staged} (1 file)" in row


def test_an_output_held_back_says_why(live_ui: LiveUI) -> None:
    staged = _held_back(live_ui, "held", "the job ran with --no-upload-on-failure")
    web = Browserless(live_ui.address)
    out = _output(web, "held")
    assert out["not_uploaded_why"] == "the job ran with --no-upload-on-failure"
    assert out["partly_uploaded"] is False and out["failed_files"] is None
    row = _row(web, "held")
    assert "not uploaded" in row and "--no-upload-on-failure" in row and "upload failed" not in row
    assert f"staged data kept at {staged} (1 file)" in row


def test_an_output_kept_on_a_ray_node_names_the_node_and_is_never_counted_here(live_ui: LiveUI) -> None:
    """A Ray job's output whose upload failed on its node, kept there (``outputs_kept_on_node``): the page
    says on which node and where, with the node's count; the submitting side's staging folder is empty."""
    ws = live_ui.client.workspace
    kept = "/var/tmp/runner-kept-onnode-x1/o"
    ws.create_job(JobRecord(name="onnode", status=JobStatus.FAILED, exit_code=0, created_at=utcnow(),
                            outputs={"o": URI}, job_dir=str(ws.job_dir("onnode").root),
                            spec={"outputs": {"o": {"type": "uri_folder", "mode": "upload"}}},
                            extra={"outputs_not_durable": {"o": {"failed": 5, "total": 5, "staged": None}},
                                   "outputs_kept_on_node": {"o": {"host": "gpu-7", "path": kept, "files": 5,
                                                                  "ip": "10.0.0.7"}}}))
    web = Browserless(live_ui.address)
    out = _output(web, "onnode")
    assert out["kept_on_node"] == "gpu-7 (10.0.0.7)" and out["kept_at"] == kept and out["kept_files"] == 5
    row = _row(web, "onnode")
    assert re.search(rf"staged data kept\s+on Ray node\s+gpu-7 \(10\.0\.0\.7\)\s+at\s+{re.escape(kept)}\s+"
                     r"\(5 files\)", row), row
