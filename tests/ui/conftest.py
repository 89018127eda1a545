"""The web UI's fixtures: a workspace, the real UI served by uvicorn on 127.0.0.1 in a thread, and Debian's
Chromium driven by Playwright (``executable_path``: no browser is ever downloaded).

Tests marked ``browser`` run inside a loopback-only network namespace (``netns``: the first one starts
an inner pytest run under ``unshare -n`` when this one is outside such a namespace). A missing
Chromium, Playwright or UI extra skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netns import (
    is_browser,
    loopback_only,
    missing_service,
    record_report,
    report_from_inner,
    screenshot_folder,
    summary,
)
from ui_support import LiveUI, start_ui

CHROMIUM = os.environ.get("RUNNER_UI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # no DNS of its own
    "--no-sandbox",  # root
    "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
UI_MODULES = ("starlette", "jinja2", "uvicorn", "python_multipart")


# ---- browser tests in a loopback-only namespace ---------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if is_browser(item) and not loopback_only():
        return report_from_inner(item)
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record_report(report)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    line = summary(terminalreporter._session)
    if line:
        terminalreporter.write_line(line)


# ---- the UI ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ui_extra() -> None:
    missing = [m for m in UI_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        missing_service(f"the web UI's dependencies ({', '.join(missing)}: pip install -e '.[ui]')")


@pytest.fixture
def ui_workspace(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")  # the jobs' background workers inherit it
    return workspace_dir


@pytest.fixture
def live_ui(ui_extra: None, ui_workspace: Path) -> Iterator[LiveUI]:
    ui = start_ui(ui_workspace)
    yield ui
    if ui.thread.is_alive():
        ui.stop()


# ---- the browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser(ui_extra: None) -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium at {CHROMIUM} (apt-get install chromium; scripts/provision.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("Playwright for Python (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_ui: LiveUI) -> Iterator[Any]:
    """A fresh browser context (cookies) per test, closed before the server stops, that has opened the
    address ``runner ui`` prints (its token becomes a cookie and leaves the address bar). A JavaScript
    error on any page fails the test."""
    context = browser.new_context(base_url=live_ui.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    # Chromium logs every 4xx response as a console error: 404 and 422 are pages these tests expect
    tab.on("console", lambda msg: msg.type == "error" and "the server responded with a status of 4" not in
           msg.text and errors.append(f"console: {msg.text}"))
    response = tab.goto(live_ui.address)
    assert response is not None and response.status == 200 and "token=" not in tab.url, tab.url
    yield tab
    context.close()
    assert errors == []


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The output folder for page screenshots: ``build/screenshots`` in the checkout (ignored by git;
    pytest's own temporary folders are pruned by the next runs), or ``RUNNER_UI_SCREENSHOTS``."""
    folder = screenshot_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
