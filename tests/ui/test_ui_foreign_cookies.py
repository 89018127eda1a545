"""The UI's token cookie is read however the rest of the Cookie header looks. Browsers send a host's
cookies to every port of it, so another local web app's cookies (a JSON value, a space in a value) come
with the UI's own; the token cookie among them still lets the user in, and a wrong or missing one still
does not."""

from __future__ import annotations

import urllib.parse

import pytest
from ui_support import LiveUI, raw_request

FOREIGN = ['pref={"a":1}', "sess=a b", 'theme="dark', "x=\\q", "=novalue", "junk", "a=b;;"]


def _token_cookie(live_ui: LiveUI) -> str:
    port = urllib.parse.urlsplit(live_ui.url).port
    return f"runner_token_{port}"


@pytest.mark.parametrize("foreign", FOREIGN)
def test_a_foreign_cookie_before_the_token_cookie_does_not_lock_the_user_out(
        live_ui: LiveUI, foreign: str) -> None:
    name = _token_cookie(live_ui)
    for target, marker in (("/jobs", "<h1>Jobs</h1>"), ("/api/jobs", "[")):
        for cookie in (f"{foreign}; {name}={live_ui.token}", f"{name}={live_ui.token}; {foreign}"):
            status, _, text = raw_request(live_ui.url, "GET", target, {"Cookie": cookie})
            assert status == 200 and marker in text, (cookie, target, status, text[:300])


@pytest.mark.parametrize("foreign", FOREIGN)
def test_a_foreign_cookie_with_a_wrong_or_no_token_is_still_refused(live_ui: LiveUI, foreign: str) -> None:
    name = _token_cookie(live_ui)
    for cookie in (foreign, f"{foreign}; {name}=not-the-token", f"{foreign}; {name}=",
                   f"{foreign}; runner_token_1={live_ui.token}"):
        status, _, text = raw_request(live_ui.url, "GET", "/jobs", {"Cookie": cookie})
        assert status == 401 and "open the address `runner ui` printed" in text, (cookie, status)
