"""The web UI in a real browser (Debian's Chromium, Playwright), in a loopback-only network namespace:
registering a model (and runner's error beside the field), a running job's live log and status, cancel,
lineage both ways, archive and restore, a 404. Each page's screenshot goes to the run's output folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ui_support import model_folder, submit_job, wait_for

pytestmark = pytest.mark.browser


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect  # only where the browser runs

    return playwright_expect(target)


def mark_no_reload(page: Any) -> None:
    page.evaluate("window.__noReload = 42")


def assert_no_reload(page: Any) -> None:
    assert page.evaluate("window.__noReload") == 42, "the page was reloaded"


def shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_register_model_shows_runners_error_beside_the_field_then_registers(
        page: Any, live_ui: Any, tmp_path: Path, screenshots: Path) -> None:
    folder = model_folder(tmp_path / "clf", {"model.pkl": b"x" * 2048, "conf/params.json": b"{}"})
    page.goto("/models")
    expect(page.locator("#models")).to_contain_text("No model matches")
    page.click("#register-link")
    expect(page).to_have_url(re.compile(r"/register/model$"))
    mark_no_reload(page)
    page.fill("#f-name", "clf")
    page.fill("#f-path", str(tmp_path / "no-such-folder"))
    page.click("#register-form button[type=submit]")
    error = page.locator("#path-error")
    expect(error).to_contain_text("does not exist")
    expect(error.locator(".hint")).to_contain_text("nearest existing folder")
    expect(page.locator("#f-name")).to_have_value("clf")  # the values are kept
    expect(page.locator("#name-error")).to_have_count(0)
    assert_no_reload(page)  # swapped in place by htmx (422)
    shot(page, screenshots, "register-model-error")

    page.fill("#f-path", str(folder))
    page.fill("#f-description", "a classifier")
    page.fill("#f-tags", "stage=dev\nowner=ana")
    page.click("#register-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/models/clf/versions/1$"))
    expect(page.locator("#model-fields")).to_contain_text("a classifier")
    expect(page.locator("#files")).to_contain_text("conf/params.json")
    expect(page.locator("#files")).to_contain_text("2.0 KiB")
    expect(page.locator("#produced-by")).to_contain_text("not by a job")
    shot(page, screenshots, "model")
    page.goto("/models?tag=owner%3Dana")
    expect(page.locator("#models tbody tr")).to_have_count(1)
    expect(page.locator("#models")).to_contain_text("stage=dev")
    shot(page, screenshots, "models")
    assert live_ui.client.models.get("clf", "1").tags == {"stage": "dev", "owner": "ana"}


def test_a_running_jobs_log_appears_live_and_its_status_turns_completed(
        page: Any, live_ui: Any, tmp_path: Path, screenshots: Path) -> None:
    go = tmp_path / "go"
    submit_job(live_ui.client, tmp_path, "live-job", f"""
        command: >-
          echo "first line" && while [ ! -f {go} ]; do sleep 0.1; done && echo "second <b>line</b>"
        """)
    page.goto("/jobs/live-job")
    expect(page.locator("#live")).to_have_attribute("data-stream", "open")
    expect(page.locator("#log")).to_contain_text("first line")
    expect(page.locator("#status")).to_have_text("Running")
    mark_no_reload(page)
    expect(page.locator("#cancel")).to_be_visible()
    shot(page, screenshots, "job-running")
    go.touch()
    expect(page.locator("#log")).to_contain_text("second <b>line</b>")  # text, never HTML
    expect(page.locator("#status")).to_have_text("Completed")
    expect(page.locator("#live")).to_have_attribute("data-stream", "closed")
    expect(page.locator("#cancel")).to_have_count(0)  # the overview was refreshed without a reload
    expect(page.locator("#job-fields")).to_contain_text("0")  # exit code
    expect(page.locator("#outputs a.download")).to_have_count(1)  # artifacts
    assert_no_reload(page)
    expect(page.locator("#plan")).to_contain_text("job          live-job")
    shot(page, screenshots, "job")
    page.goto("/jobs")
    expect(page.locator("#jobs")).to_contain_text("live-job")
    expect(page.locator("#jobs")).to_contain_text("Completed")
    shot(page, screenshots, "jobs")


def test_cancel_from_the_job_page(page: Any, live_ui: Any, tmp_path: Path) -> None:
    submit_job(live_ui.client, tmp_path, "slow-job", """
        command: echo started && sleep 120
        """)
    page.goto("/jobs/slow-job")
    expect(page.locator("#log")).to_contain_text("started")
    expect(page.locator("#status")).to_have_text("Running")
    mark_no_reload(page)
    page.click("#cancel")
    expect(page.locator("#status")).to_have_text("Canceled")
    expect(page.locator("#cancel")).to_have_count(0)
    assert_no_reload(page)
    assert live_ui.client.jobs.get("slow-job").status.value == "Canceled"


def test_lineage_links_both_ways(page: Any, live_ui: Any, tmp_path: Path, screenshots: Path) -> None:
    client = live_ui.client
    from runner.spec.model import Model

    client.models.create(Model(name="base", path=str(model_folder(tmp_path / "base"))))
    submit_job(client, tmp_path, "train", """
        command: >-
          echo "epoch 1 loss=0.42" && cp -r ${{inputs.base}}/. ${{outputs.tuned}}/ &&
          echo tuned > ${{outputs.tuned}}/NOTE && echo "saved the tuned model"
        inputs:
          base: {type: custom_model, path: azureml:base:1, mode: download}
        outputs:
          tuned: {type: custom_model, mode: upload}
        """)
    wait_for(client, "train", {"Completed"})
    page.goto("/models/base")
    expect(page.locator("#read-by")).to_contain_text("train")
    page.click("#read-by a:text('train')")
    expect(page).to_have_url(re.compile(r"/jobs/train$"))
    expect(page.locator("#inputs a.model-link")).to_have_text("azureml:base:1")
    expect(page.locator("#live")).to_have_attribute("data-stream", "closed")
    expect(page.locator("#log")).to_contain_text("saved the tuned model")
    shot(page, screenshots, "job-with-model-input")
    page.click("#outputs tr[data-output=tuned] a.register-output")
    expect(page).to_have_url(re.compile(r"/register/model\?"))
    expect(page.locator("#f-path")).to_have_value("azureml://jobs/train/outputs/tuned")
    expect(page.locator("#f-type")).to_have_value("custom_model")
    page.fill("#f-name", "tuned")
    shot(page, screenshots, "register-output")
    page.click("#register-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/models/tuned/versions/1$"))
    expect(page.locator("#files")).to_contain_text("NOTE")
    page.click("#produced-by a")
    expect(page).to_have_url(re.compile(r"/jobs/train$"))
    page.click("#inputs a.model-link")
    expect(page).to_have_url(re.compile(r"/models/base/versions/1$"))
    expect(page.locator("#read-by")).to_contain_text("train")
    shot(page, screenshots, "model-lineage")


def test_archive_and_restore(page: Any, live_ui: Any, tmp_path: Path) -> None:
    from runner.spec.model import Model

    live_ui.client.models.create(Model(name="old", path=str(model_folder(tmp_path / "old"))))
    page.goto("/models")
    expect(page.locator("#models tr[data-model=old]")).to_have_count(1)
    page.goto("/models/old")
    page.click("#archive-model")
    expect(page.locator("#archived-badge")).to_be_visible()
    page.goto("/models")
    expect(page.locator("#models tr[data-model=old]")).to_have_count(0)
    page.select_option("#archived-filter", "only")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#models tr[data-model=old] .badge")).to_have_text("archived")
    page.click("#models tr[data-model=old] a >> nth=0")
    page.click("#restore-model")
    expect(page.locator("#archived-badge")).to_have_count(0)
    page.goto("/models")
    expect(page.locator("#models tr[data-model=old]")).to_have_count(1)
    assert live_ui.client.models.get("old", label="latest").archived is False


def test_an_unknown_model_is_a_404_that_says_why(page: Any, live_ui: Any, screenshots: Path) -> None:
    response = page.goto("/models/no-such-model")
    assert response is not None and response.status == 404
    expect(page.locator("#error")).to_contain_text("unknown model 'no-such-model'")
    expect(page.locator("#error .hint")).to_contain_text("the Models list shows every model")
    shot(page, screenshots, "not-found")


def test_datastores_and_environments_pages(page: Any, live_ui: Any, screenshots: Path) -> None:
    live_ui.client.environments.create_or_update(name="sklearn-1.5", image="runner/python:3.11")
    page.goto("/datastores")
    page.click("#datastores a:text('workspaceblobstore')")
    expect(page.locator("#datastore-fields")).to_contain_text("local")
    shot(page, screenshots, "datastore")
    page.goto("/environments")
    expect(page.locator("#environments")).to_contain_text("runner/python:3.11")
    shot(page, screenshots, "environments")


def test_a_long_log_shows_its_last_line_and_the_page_stays_responsive(page: Any, live_ui: Any) -> None:
    """20,000 lines (a normal training log): once the last line is shown the page answers at once, and
    it follows the end of the log."""
    from runner.workspace.db import JobRecord, JobStatus, utcnow

    ws = live_ui.client.workspace
    ws.create_job(JobRecord(name="long-log", status=JobStatus.COMPLETED, created_at=utcnow(),
                            job_dir=str(ws.job_dir("long-log").root)))
    log = ws.job_dir("long-log").std_log
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"epoch {i // 1000} step {i:05d} loss=0.{i:05d}\n" for i in range(20_000)))
    page.goto("/jobs/long-log")
    expect(page.locator("#live")).to_have_attribute("data-stream", "closed", timeout=60_000)
    expect(page.locator("#log")).to_contain_text("step 19999 loss=0.19999", timeout=60_000)
    assert page.evaluate("document.getElementById('log').textContent.split('\\n').length") == 20_001
    assert page.evaluate("(() => { const l = document.getElementById('log'); "
                         "return l.scrollTop + l.clientHeight >= l.scrollHeight - 4; })()")


def test_the_jobs_list_updates_while_a_job_runs(page: Any, live_ui: Any, tmp_path: Path) -> None:
    go = tmp_path / "go"
    submit_job(live_ui.client, tmp_path, "list-live", f"command: while [ ! -f {go} ]; do sleep 0.1; done\n")
    wait_for(live_ui.client, "list-live", {"Running"})
    try:
        page.goto("/jobs?name=list-")
        expect(page.locator("#jobs")).to_contain_text("Running")
        mark_no_reload(page)
    finally:
        go.touch()  # the job ends whatever happened
    expect(page.locator("#jobs")).to_contain_text("Completed", timeout=20_000)
    expect(page.locator("form.filters input[name=name]")).to_have_value("list-")
    assert_no_reload(page)
