"""Tables printed to a pipe or a file (a CI log) are never cut to 80 columns: every value is whole and
each row on one line; ``NO_COLOR`` turns every style off (bold headers too), on a terminal as well."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.cli import _common

LONG_NAME = "brave_river_" + "x" * 60
IMAGE = "mcr.microsoft.com/azureml/curated/sklearn-1.5:" + "9" * 40
CREATED = "2026-01-02 03:04:05"


@pytest.fixture(autouse=True)
def fresh_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(_common, "_console", None)
    yield
    _common._console = None


def _table() -> None:
    _common.print_table(("name", "status", "created", "image"), [(LONG_NAME, "Completed", CREATED, IMAGE)])


def test_a_table_on_a_pipe_is_never_truncated(capsys: pytest.CaptureFixture[str]) -> None:
    _table()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2, lines
    assert LONG_NAME in lines[1] and CREATED in lines[1] and IMAGE in lines[1]
    assert "\x1b" not in "".join(lines) and "…" not in lines[1]


def test_columns_still_sets_the_width(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    _table()
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 60


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> str:
    master, slave = os.openpty()
    with os.fdopen(slave, "w", closefd=True) as terminal:
        monkeypatch.setattr(sys, "stdout", terminal)
        monkeypatch.delenv("TERM", raising=False)
        monkeypatch.setenv("TERM", "xterm-256color")
        monkeypatch.setenv("COLUMNS", "300")
        _table()
        terminal.flush()
    chunks = []
    try:  # everything written (the slave is closed: the read ends with EIO once drained)
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(master)


def test_no_color_means_no_styles_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b[" in _on_a_terminal(monkeypatch)  # (bold headers otherwise)
    _common._console = None
    monkeypatch.setenv("NO_COLOR", "1")
    shown = _on_a_terminal(monkeypatch)
    assert "\x1b" not in shown and LONG_NAME in shown


ERROR = ("the command exited 1; its last lines:\n" + "Traceback: " + "y" * 200 + "\nValueError: bad value")


def _shown_job(tmp_path: Path) -> list[str]:
    """``runner job show`` of a failed job whose error is several lines, one of them 200+ wide."""
    from click.testing import CliRunner

    from runner.cli.main import app
    from runner.workspace.db import JobRecord, JobStatus, Workspace

    Workspace(tmp_path / "ws").create_job(JobRecord(name="failed1", status=JobStatus.FAILED, error=ERROR,
                                                    backend="process", exit_code=1))
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "job", "show", "-n", "failed1"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_a_multi_line_value_keeps_the_other_rows_narrow(tmp_path: Path) -> None:
    """Piped: each row as wide as its own value (never padded to the error's widest line), and the
    error's further lines indented under its first, in the value column."""
    lines = _shown_job(tmp_path)
    assert all(line == line.rstrip() for line in lines), [line for line in lines if line != line.rstrip()]
    name = next(line for line in lines if line.split()[:1] == ["name"])
    assert name.split() == ["name", "failed1"] and len(name) < 40
    first = next(i for i, line in enumerate(lines) if line.split()[:1] == ["error"])
    column = lines[first].index("the command exited 1")
    assert lines[first + 1] == " " * column + "Traceback: " + "y" * 200
    assert lines[first + 2] == " " * column + "ValueError: bad value"
    assert lines[first + 3].split()[:2] == ["backend", "process"]


def test_on_a_terminal_a_long_value_wraps_in_its_column(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    lines = _shown_job(tmp_path)
    assert max(len(line) for line in lines) <= 60
    first = next(i for i, line in enumerate(lines) if line.split()[:1] == ["error"])
    column = lines[first].index("the command")
    end = next(i for i, line in enumerate(lines) if line.split()[:1] == ["backend"])
    wrapped = lines[first + 1:end]
    assert len(wrapped) >= 6
    assert all(line.startswith(" " * column) and line[column] != " " for line in wrapped), wrapped
    assert lines[first][column:] + "".join(line.strip() for line in wrapped) == ERROR.replace("\n", "")


def test_one_entity_s_multi_line_value_stays_in_its_column(capsys: pytest.CaptureFixture[str]) -> None:
    """``model show`` (one entity, ``field: value`` lines): a description's further lines are indented
    under its first line, never at the start of the line where a field name would be."""
    _common.emit({"name": "m", "description": "first\nsecond"}, "table", [])
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["name:        m", "description: first", " " * 13 + "second"]
