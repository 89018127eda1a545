"""Tables printed to a pipe or a file (a CI log) are never cut to 80 columns: every value is whole and
each row on one line; ``NO_COLOR`` turns every style off (bold headers too), on a terminal as well."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

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
    try:
        return os.read(master, 65536).decode()
    finally:
        os.close(master)


def test_no_color_means_no_styles_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b[" in _on_a_terminal(monkeypatch)  # (bold headers otherwise)
    _common._console = None
    monkeypatch.setenv("NO_COLOR", "1")
    shown = _on_a_terminal(monkeypatch)
    assert "\x1b" not in shown and LONG_NAME in shown
