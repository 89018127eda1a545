"""The UI's access token in a real browser (Debian's Chromium, Playwright, in a loopback-only network
namespace): without it every page is a 401 that says to open the printed address; opening that address
keeps the token as an HttpOnly, SameSite=Strict cookie (no script can read it) and leaves the address bar
without it; a redirect built from the token address never leaves this site (``//evil.example/``)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from ui_support import LiveUI

pytestmark = pytest.mark.browser


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect  # only where the browser runs

    return playwright_expect(target)


def test_the_printed_address_lets_this_browser_in_and_no_other(browser: Any, live_ui: LiveUI) -> None:
    context = browser.new_context(base_url=live_ui.url)
    stranger = browser.new_context(base_url=live_ui.url)
    try:
        tab = context.new_page()
        response = tab.goto("/jobs")
        assert response is not None and response.status == 401
        expect(tab.locator("body")).to_contain_text("open the address `runner ui` printed")
        response = tab.goto(live_ui.address)
        assert response is not None and response.status == 200
        assert tab.url == f"{live_ui.url}/jobs"  # the token left the address bar
        expect(tab.locator("h1")).to_have_text("Jobs")
        [cookie] = [c for c in context.cookies() if c["name"].startswith("runner_token")]
        assert cookie["value"] == live_ui.token and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/"
        assert live_ui.token not in tab.evaluate("document.cookie")
        response = tab.goto("/models")  # the cookie keeps the session
        assert response is not None and response.status == 200
        other = stranger.new_page()
        response = other.goto("/jobs")
        assert response is not None and response.status == 401
    finally:
        stranger.close()
        context.close()


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "/%2F%2Fevil.example/"])
def test_the_token_address_stays_on_this_site(browser: Any, live_ui: LiveUI, path: str) -> None:
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{live_ui.url}{path}?token={live_ui.token}")
        here = urllib.parse.urlsplit(tab.url)
        assert f"{here.scheme}://{here.netloc}" == live_ui.url, tab.url
        assert "token=" not in tab.url
    finally:
        context.close()
