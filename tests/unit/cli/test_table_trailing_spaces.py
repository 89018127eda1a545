"""No line the CLI prints as a table (``model list``, ``data list``, ``job list``, ...) or as one entity's
``field: value`` lines (``model show``) ends in spaces: a short last cell, an empty value, pads nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import _common
from runner.cli.main import app
from runner.workspace.db import JobRecord, JobStatus, Workspace


@pytest.fixture(autouse=True)
def fresh_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(_common, "_console", None)
    yield
    _common._console = None


def _lines(ws: Path, *args: str) -> list[str]:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _no_trailing_spaces(lines: list[str]) -> None:
    assert lines
    assert [line for line in lines if line != line.rstrip()] == [], lines


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.pkl").write_text("w")
    runner = CliRunner()
    for args in (["model", "create", "--name", "long-model-name", "--path", str(tmp_path / "m")],
                 ["data", "create", "--name", "d", "--path", str(tmp_path / "m"), "--type", "uri_folder"]):
        result = runner.invoke(app, ["--workspace", str(ws), *args])
        assert result.exit_code == 0, result.output
    Workspace(ws).create_job(JobRecord(name="a-long-job-name", status=JobStatus.QUEUED))
    return ws


@pytest.mark.parametrize("command", [["model", "list"], ["data", "list"], ["job", "list"],
                                     ["datastore", "list"], ["environment", "list"], ["cache", "list"]])
def test_a_table_has_no_trailing_spaces(ws: Path, command: list[str]) -> None:
    lines = _lines(ws, *command)
    _no_trailing_spaces(lines)
    assert len(lines) >= 2  # a header and a row at least


def test_one_entity_has_no_trailing_spaces(ws: Path) -> None:
    lines = _lines(ws, "model", "show", "--name", "long-model-name", "--version", "1", "-o", "table")
    _no_trailing_spaces(lines)
    assert "description:" in [line.split()[0] for line in lines]  # an empty value: its name alone


def test_a_table_is_still_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    _common.print_table(("name", "description"), [("a", ""), ("a-longer-name", "text")])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [" name           description", " a", " a-longer-name  text"]
