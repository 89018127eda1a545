"""The UI's pure pieces: formatting filters, the tags field, host names, the address rules of `runner ui`,
and the vendored htmx file (the version and content it was checked in with)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from repo_paths import REPO

from runner.cli.ui import answered_hosts, check_binding, is_loopback
from runner.errors import SpecError

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # htmx.org 2.0.11 dist


def test_filters(ui_extra: None) -> None:
    from runner.ui.render import duration, size, when

    assert size(None) == "" and size(0) == "0 B" and size(1023) == "1023 B" and size(2048) == "2.0 KiB"
    assert size(5 * 1024 ** 3) == "5.0 GiB"
    assert duration(None) == "" and duration(0.4) == "0s" and duration(75) == "1m 15s"
    assert duration(3 * 3600 + 120) == "3h 02m"
    moment = datetime(2025, 1, 31, 13, 45, 6, tzinfo=timezone(timedelta(hours=2)))
    assert when(moment) == "2025-01-31 11:45:06" and when(moment.isoformat()) == "2025-01-31 11:45:06"
    assert when(None) == "" and when(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01 00:00:00"


def test_tags_field(ui_extra: None) -> None:
    from runner.ui.models import parse_tags

    assert parse_tags("") == {}
    assert parse_tags("stage=prod, owner = ana\nempty=") == {"stage": "prod", "owner": "ana", "empty": ""}
    with pytest.raises(SpecError) as info:
        parse_tags("stage")
    assert info.value.field == "tags"


def test_host_names(ui_extra: None) -> None:
    from runner.ui.security import _hostname

    assert _hostname("127.0.0.1:8000") == "127.0.0.1" and _hostname("LOCALHOST") == "localhost"
    assert _hostname("[::1]:8000") == "::1" and _hostname("evil.example:80") == "evil.example"


def test_runner_ui_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.2", "example.org", "::"))
    check_binding("127.0.0.1", False, None)
    check_binding("0.0.0.0", True, "x" * 16)
    for host, remote, token, field in (("0.0.0.0", False, None, "--host"), ("::", True, None, "--token"),
                                       ("127.0.0.1", False, "short", "--token")):
        with pytest.raises(SpecError) as info:
            check_binding(host, remote, token)
        assert info.value.field == field


def test_the_host_names_a_loopback_ui_answers_to() -> None:
    """``--host 127.0.0.2`` answers as 127.0.0.2 as well; beyond loopback (``--allow-remote``) any name."""
    names = ("127.0.0.1", "localhost", "::1")
    assert answered_hosts("127.0.0.1", names) == names and answered_hosts("localhost", names) == names
    assert answered_hosts("[::1]", names) == names
    assert answered_hosts("127.0.0.2", names) == (*names, "127.0.0.2")
    assert answered_hosts("0.0.0.0", names) is None and answered_hosts("example.org", names) is None


@pytest.mark.parametrize(("path", "query", "location"), [
    ("/", "", "/"),
    ("/models", "name=a", "/models?name=a"),
    ("//evil.example/", "", "/evil.example/"),
    ("///evil.example/x", "a=b", "/evil.example/x?a=b"),
    ("/\\evil.example/", "", "/evil.example/"),
    ("/\\/evil.example", "", "/evil.example"),
    ("/a\\b c", "", "/a%5Cb%20c"),
    ("/\t/evil.example", "", "/%09/evil.example"),
    ("/jobs/caf\u00e9", "", "/jobs/caf%C3%A9"),
])
def test_the_token_redirect_is_a_path_on_this_site(ui_extra: None, path: str, query: str,
                                                   location: str) -> None:
    from runner.ui.security import same_site_location

    assert same_site_location(path, query) == location


def test_vendored_htmx_is_the_checked_in_release() -> None:
    static = REPO / "runner" / "ui" / "static"
    assert hashlib.sha256((static / "htmx.min.js").read_bytes()).hexdigest() == HTMX_SHA256
    assert "Zero-Clause BSD" in (static / "htmx.LICENSE.txt").read_text()
