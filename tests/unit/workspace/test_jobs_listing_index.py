"""The job list (``Workspace.page_jobs``: the web UI's and ``job list``'s) counts and pages its jobs through
the ``jobs_listing`` index, not by reading every record's JSON: its conditions on the archived flag and
on a step's pipeline are the index's expressions to the letter. A workspace made before the index gets it
when it is opened. Structural (SQLite's query plan), no timing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runner.workspace.db import Workspace


def _plans(ws: Workspace, **filters: object) -> list[str]:
    """SQLite's plan of every statement ``page_jobs`` runs with ``filters``."""
    statements: list[str] = []
    conn = ws._connection()
    conn.set_trace_callback(statements.append)
    try:
        ws.page_jobs(**filters)  # type: ignore[arg-type]
    finally:
        conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, statements  # the count and the page
    return [" ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {s}")) for s in selects]


def test_the_list_of_jobs_that_are_no_step_reads_the_index(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    for plan in _plans(ws, archived=False, top_level=True):
        assert "USING INDEX jobs_listing" in plan or "USING COVERING INDEX jobs_listing" in plan, plan


def test_the_jobs_not_archived_steps_included_read_the_index(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")  # (the archived ones too: test_archived_only_index.py)
    for plan in _plans(ws, archived=False):
        assert "jobs_listing" in plan, plan


def test_a_workspace_made_before_the_index_gets_it_when_opened(tmp_path: Path) -> None:
    Workspace(tmp_path / "ws")
    with sqlite3.connect(tmp_path / "ws" / "runner.db") as conn:
        conn.execute("DROP INDEX jobs_listing")
    Workspace(tmp_path / "ws")
    with sqlite3.connect(tmp_path / "ws" / "runner.db") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "jobs_listing" in names
