"""Every time every list command prints is in the one form docs/guides/jobs.md names, UTC ending in
``Z`` (``2026-01-02T03:04:05.123456Z``): ``job list``'s ``created`` column, ``component list``'s
``created_at`` and ``cache list``'s ``last_used`` too, as a table and with ``-o json``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mounts.cache import ContentCache
from runner.cli import _common
from runner.cli.main import app
from runner.workspace.db import JobRecord, JobStatus, Workspace

AT = datetime(2026, 12, 6, 12, 20, 34, 250000, tzinfo=UTC)
Z_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
SPACED_TIME = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d")  # the form the docs do not name


@pytest.fixture(autouse=True)
def fresh_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(_common, "_console", None)
    yield
    _common._console = None


def _run(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_job_list_shows_created_in_the_z_form(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    Workspace(ws).create_job(JobRecord(name="j1", status=JobStatus.COMPLETED, created_at=AT))
    table = _run(ws, "job", "list")
    assert "2026-12-06T12:20:34.250000Z" in table and not SPACED_TIME.search(table), table


def test_component_list_shows_created_at_in_the_z_form(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "c.yml").write_text("name: c\nversion: '1'\ncommand: echo hi\n"
                                    "environment: azureml:AzureML-sklearn-1.5@latest\n")
    _run(ws, "component", "create", "--file", str(tmp_path / "c.yml"))
    table = _run(ws, "component", "list")
    assert Z_TIME.search(table) and not SPACED_TIME.search(table), table
    listed = json.loads(_run(ws, "component", "list", "-o", "json"))
    assert Z_TIME.fullmatch(listed[0]["created_at"]), listed


def test_cache_list_shows_last_used_in_the_z_form(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    Workspace(ws)
    cache = ContentCache(ws / "cache")

    def fill(data: Path, state: Path) -> None:
        (data / "w").write_bytes(b"1" * 64)

    with cache.use("ds:models/m:etag1", fill):
        pass
    table = _run(ws, "cache", "list")
    assert "ds:models/m:etag1" in table and Z_TIME.search(table) and not SPACED_TIME.search(table), table
    entry = json.loads(_run(ws, "cache", "list", "-o", "json"))[0]
    assert Z_TIME.fullmatch(entry["last_used"]) and Z_TIME.fullmatch(entry["created"]), entry
