"""Restore on a model's or data asset's page: a whole restore leaves the versions archived on their own
archived (as in Azure, as ``runner model restore`` says); the page it leads back to says which, in the
UI's words (its Restore version button, the version's page), linking each. The UI server's log gets no
Python-worded warning (``ml_client.models.restore(...)`` is for a Python caller). A restore that leaves
none archived, or a version's restore, says nothing more; a link naming versions that are not archived
(made up, or restored since) claims nothing of them."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from ui_support import Browserless, LiveUI

from runner.spec.data import Data
from runner.spec.model import Model

SECTIONS = [("models", "model"), ("data", "data asset")]


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def _seed(live: LiveUI, plural: str, tmp_path: Path) -> Any:
    path = tmp_path / "f.txt"
    path.write_text("x\n")
    client = live.client
    ops = client.models if plural == "models" else client.data
    for version in ("1", "2", "3", "10"):
        if plural == "models":
            ops.create_or_update(Model(name="m", version=version, path=str(path)))
        else:
            ops.create_or_update(Data(name="m", version=version, type="uri_file", path=str(path)))
    return ops


def _restore(web: Browserless, plural: str, version: str = "") -> tuple[str, str]:
    """POST the page's Restore form; the redirect's target and the page it leads to."""
    token = web.csrf(f"/{plural}/m")
    status, headers, _ = web.request(f"/{plural}/m/restore", {"csrf_token": token, "version": version})
    assert status == 303, status
    target = headers["location"]
    status, page = web.get(target)
    assert status == 200, page[:500]
    return target, page


@pytest.mark.parametrize(("plural", "noun"), SECTIONS)
def test_a_whole_restore_shows_the_versions_that_stay_archived(
        live_ui: LiveUI, tmp_path: Path, plural: str, noun: str, caplog: pytest.LogCaptureFixture) -> None:
    ops = _seed(live_ui, plural, tmp_path)
    ops.archive("m", version="10")  # archived on their own: they stay archived
    ops.archive("m", version="2")
    ops.archive("m")
    web = Browserless(live_ui.address)
    with caplog.at_level(logging.WARNING):
        target, page = _restore(web, plural)
    assert target.startswith(f"/{plural}/m"), target
    assert not [r for r in caplog.records if "ml_client" in r.getMessage()], caplog.records
    notice = re.search(r'<p id="restore-staying"[^>]*>.*?</p>', page, re.S)
    assert notice, page[:3000]
    text = _text(notice.group(0))
    assert text.startswith(f"Restored {noun} 'm'; versions 2, 10 stay archived"), text
    assert "Restore version" in text
    assert not [w for w in ("ml_client", "runner model", "runner data", "--version") if w in text], text
    for version in ("2", "10"):
        assert f'href="/{plural}/m/versions/{version}"' in notice.group(0)
    assert ops.get("m", version="3").archived is False and ops.get("m", version="2").archived is True


@pytest.mark.parametrize(("plural", "noun"), SECTIONS)
def test_one_version_staying_is_named_alone(live_ui: LiveUI, tmp_path: Path, plural: str, noun: str) -> None:
    ops = _seed(live_ui, plural, tmp_path)
    ops.archive("m", version="3")
    ops.archive("m")
    _, page = _restore(Browserless(live_ui.address), plural)
    notice = re.search(r'<p id="restore-staying"[^>]*>.*?</p>', page, re.S)
    assert notice, page[:3000]
    text = _text(notice.group(0))
    assert text.startswith(f"Restored {noun} 'm'; version 3 stays archived"), text


@pytest.mark.parametrize(("plural", "noun"), SECTIONS)
def test_nothing_staying_and_a_versions_restore_say_nothing_more(live_ui: LiveUI, tmp_path: Path,
                                                                 plural: str, noun: str) -> None:
    ops = _seed(live_ui, plural, tmp_path)
    ops.archive("m")
    web = Browserless(live_ui.address)
    target, page = _restore(web, plural)
    assert target == f"/{plural}/m" and 'id="restore-staying"' not in page
    ops.archive("m", version="2")
    token = web.csrf(f"/{plural}/m/versions/2")
    status, headers, _ = web.request(f"/{plural}/m/restore", {"csrf_token": token, "version": "2"})
    assert status == 303 and headers["location"] == f"/{plural}/m/versions/2"
    assert 'id="restore-staying"' not in web.get(headers["location"])[1]


def test_a_link_naming_versions_not_archived_claims_nothing(live_ui: LiveUI, tmp_path: Path) -> None:
    ops = _seed(live_ui, "models", tmp_path)
    ops.archive("m", version="2")
    web = Browserless(live_ui.address)
    status, page = web.get("/models/m?staying=1,3,nope")  # none of them archived
    assert status == 200 and 'id="restore-staying"' not in page
    status, page = web.get("/models/m?staying=1,2")  # only 2 is
    notice = re.search(r'<p id="restore-staying"[^>]*>.*?</p>', page, re.S)
    assert status == 200 and notice, page[:3000]
    assert _text(notice.group(0)).startswith("Restored model 'm'; version 2 stays archived"), notice.group(0)
    ops.restore("m", version="2")  # restored since: the link's claim goes
    assert 'id="restore-staying"' not in web.get("/models/m?staying=1,2")[1]
