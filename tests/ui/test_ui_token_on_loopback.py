"""`runner ui` needs its access token on loopback too. A docker job on the host network (a ``direct``
binding to a store on loopback, such as Azurite) reaches 127.0.0.1 like any local program; the CSRF
check alone let it through, since a script sets the ``runner_csrf`` cookie and echoes it itself. So every
request without the token (cookie or ``Authorization: Bearer``) is a 401 that changes nothing; the
printed address carries the token, which the first visit turns into an HttpOnly, SameSite=Strict
cookie, redirected to this site's own path without it (never to another site: ``//evil.example/``)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest
from ui_support import Browserless, LiveUI, cli_ui, raw_request

from runner.client import MLClient
from runner.workspace.db import JobRecord, JobStatus, utcnow

FORGED = {"Cookie": "runner_csrf=x", "X-CSRF-Token": "x"}  # a double-submit pair anyone can make
FORM = {**FORGED, "Content-Type": "application/x-www-form-urlencoded"}
NEEDS_TOKEN = "open the address `runner ui` printed"


def _job(ws: Path, name: str) -> MLClient:
    client = MLClient(workspace_dir=ws)
    folder = str(client.workspace.job_dir(name).root)
    client.workspace.create_job(JobRecord(name=name, status=JobStatus.COMPLETED, backend="process",
                                          created_at=utcnow(), job_dir=folder))
    return client


def test_a_forged_csrf_pair_without_the_token_is_refused_and_changes_nothing(
        ui_extra: None, workspace_dir: Path, tmp_path: Path) -> None:
    """The review's repro: a local script (or a job on the host network) with a made-up
    ``runner_csrf`` cookie and header, against the UI `runner ui` started with its defaults."""
    client = _job(workspace_dir, "vp-train")
    register = b"csrf_token=x&name=stolen&path=azureml%3A%2F%2Fjobs%2Fvp-train%2Foutputs%2Fartifacts"
    probes: list[tuple[str, str, dict[str, str], bytes | None]] = [
        ("POST", "/jobs/vp-train/archive", FORGED, None),
        ("POST", "/jobs/vp-train/archive", FORM, b"csrf_token=x"),
        ("POST", "/jobs/vp-train/cancel", FORGED, None),
        ("POST", "/register/model", FORM, register),
        ("GET", "/jobs", {}, None),
        ("GET", "/api/jobs", {}, None),
        ("GET", "/jobs/vp-train/events", {}, None),
        ("GET", "/jobs/vp-train/outputs/artifacts/download", {}, None),
        ("GET", "/static/app.css", {}, None),
        ("GET", "/jobs?token=not-the-token", {}, None),
        ("GET", "/jobs", {"Authorization": "Bearer not-the-token"}, None),
    ]
    with cli_ui(workspace_dir, cwd=tmp_path) as ui:
        for method, target, headers, body in probes:
            status, answer, text = raw_request(ui.origin, method, target, headers, body)
            assert status == 401, (method, target, status, text[:300])
            assert NEEDS_TOKEN in text, text
            assert "runner_token" not in answer.get("set-cookie", "")
        status, answer, text = raw_request(ui.origin, "GET", "/api/models")
        assert status == 401 and answer["content-type"] == "application/json" and NEEDS_TOKEN in text
        out, err = ui.stop()
    assert client.jobs.get("vp-train").archived is False
    assert list(client.models.list()) == []
    assert "Traceback" not in err


def test_the_printed_address_sets_the_cookie_and_leaves_the_url(
        ui_extra: None, workspace_dir: Path, tmp_path: Path) -> None:
    with cli_ui(workspace_dir, cwd=tmp_path) as ui:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{43}", ui.address), ui.address
        token = ui.token
        status, headers, _ = raw_request(ui.origin, "GET", f"/?token={token}")
        assert status == 303 and headers["location"] == "/"
        cookie = headers["set-cookie"]
        assert cookie.startswith("runner_token") and f"={token};" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        status, headers, _ = raw_request(ui.origin, "GET", f"/jobs?name=a&token={token}&status=")
        assert status == 303 and headers["location"] == "/jobs?name=a&status="
        kept = cookie.split(";", 1)[0]  # what the browser sends back
        status, _, text = raw_request(ui.origin, "GET", "/jobs", {"Cookie": kept})
        assert status == 200 and "<h1>Jobs</h1>" in text
        assert raw_request(ui.origin, "GET", "/api/jobs", {"Authorization": f"Bearer {token}"})[0] == 200
        for target in ("/jobs", f"/jobs?token={token}x", "/jobs?token="):
            assert raw_request(ui.origin, "GET", target)[0] == 401, target
        # a new start, a new token
        with cli_ui(workspace_dir, cwd=tmp_path) as other:
            assert other.token != token
        out, err = ui.stop()
    # the token is shown once, in the address line, never in what it logs
    assert token not in out + err + ui.workspace_line + ui.sources_line


@pytest.mark.parametrize("target", [
    "//evil.example/?token={t}",
    "///evil.example/?token={t}",
    "/\\evil.example/?token={t}",
    "/\\/evil.example/x?token={t}&a=b",
    "//%2F/evil.example/?token={t}",
    "/%2F/evil.example/?token={t}",
    "/%5C/evil.example/?token={t}",
])
def test_the_token_redirect_stays_on_this_site(live_ui: LiveUI, target: str) -> None:
    status, headers, _ = raw_request(live_ui.url, "GET", target.format(t=live_ui.token))
    assert status == 303, status
    location = headers["location"]
    # a browser reads a backslash as a slash: the Location must be one path on this origin
    seen = location.replace("\\", "/")
    assert seen.startswith("/") and not seen.startswith("//"), location
    assert urllib.parse.urlsplit(urllib.parse.urljoin(live_ui.url + "/", seen)).netloc == \
        urllib.parse.urlsplit(live_ui.url).netloc
    assert "token=" not in location and "runner_token" in headers["set-cookie"]


def test_a_loopback_address_beside_127_0_0_1_serves(ui_extra: None, workspace_dir: Path,
                                                     tmp_path: Path) -> None:
    with cli_ui(workspace_dir, "--host", "127.0.0.2", cwd=tmp_path) as ui:
        assert ui.address.startswith("http://127.0.0.2:"), ui.address
        web = Browserless(ui.address)
        status, text = web.get("/jobs")
        assert status == 200 and "<h1>Jobs</h1>" in text, text[:300]
        port = ui.origin.rsplit(":", 1)[1]
        assert web.get("/jobs", Host=f"evil.example:{port}")[0] == 400  # still no other name
