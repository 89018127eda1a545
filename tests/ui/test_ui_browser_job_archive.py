"""A job archived and restored from its page in a real browser (Debian's Chromium, Playwright, in a
loopback-only network namespace), as ``test_ui_browser.py`` does for a model: the job list hides it until
its "Show" filter asks for archived jobs."""

from __future__ import annotations

from typing import Any

import pytest

from runner.workspace.db import JobRecord, JobStatus

pytestmark = pytest.mark.browser


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect  # only where the browser runs

    return playwright_expect(target)


def test_archive_and_restore_a_job(page: Any, live_ui: Any) -> None:
    record = JobRecord(name="old-run", status=JobStatus.COMPLETED, backend="process")
    live_ui.client.workspace.create_job(record)
    page.goto("/jobs")
    expect(page.locator("#jobs a:text-is('old-run')")).to_have_count(1)
    page.goto("/jobs/old-run")
    expect(page.locator("#archived-badge")).to_have_count(0)
    page.click("#archive-job")
    expect(page.locator("#archived-badge")).to_be_visible()
    expect(page.locator("#restore-job")).to_be_visible()
    assert live_ui.client.jobs.get("old-run").archived is True
    page.goto("/jobs")
    expect(page.locator("#jobs a:text-is('old-run')")).to_have_count(0)
    page.select_option("#archived-filter", "only")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#jobs tr:has(a:text-is('old-run')) .badge")).to_have_text("archived")
    page.click("#jobs a:text-is('old-run')")
    page.click("#restore-job")
    expect(page.locator("#archived-badge")).to_have_count(0)
    expect(page.locator("#archive-job")).to_be_visible()
    page.goto("/jobs")
    expect(page.locator("#jobs a:text-is('old-run')")).to_have_count(1)
    assert live_ui.client.jobs.get("old-run").archived is False
