"""The archived-only job list (``runner job list --archived-only``, the web UI's "only archived" filter,
``list_view_type=ARCHIVED_ONLY``) reads the ``jobs_listing`` index as the active list does: its condition
is an equality on the index's expression (a job's flag is JSON ``true``/``false``, read as 1/0; a record an
older runner wrote has none: 0), not ``!= 0``, which SQLite answers by a scan. Structural (SQLite's query
plan), no timing; and the jobs each view lists are the ones they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from runner.workspace.db import Workspace
from runner.workspace.job_records import JobRecord, JobStatus


def _plans(ws: Workspace, call: Any) -> list[str]:
    """SQLite's plan of every SELECT on ``jobs`` that ``call`` runs."""
    statements: list[str] = []
    conn = ws._connection()
    conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM jobs" in s]
    assert selects, statements
    return [" ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {s}")) for s in selects]


@pytest.mark.parametrize("listing", ["page, no steps", "page", "list"])
def test_the_archived_only_list_reads_the_index(tmp_path: Path, listing: str) -> None:
    ws = Workspace(tmp_path / "ws")
    calls = {"page, no steps": lambda: ws.page_jobs(archived=True, top_level=True),
             "page": lambda: ws.page_jobs(archived=True),
             "list": lambda: ws.list_jobs(archived=True)}
    for plan in _plans(ws, calls[listing]):
        assert "USING INDEX jobs_listing" in plan or "USING COVERING INDEX jobs_listing" in plan, plan


def test_each_view_lists_the_jobs_it_did(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    for name, archived in (("kept", False), ("put-away", True), ("put-back", True)):
        ws.create_job(JobRecord(name=name, status=JobStatus.COMPLETED, archived=archived))
    ws.update_job("put-back", archived=False)
    with sqlite3.connect(tmp_path / "ws" / "runner.db") as conn:  # an older runner's record: no flag
        conn.execute("UPDATE jobs SET record = json_remove(record, '$.archived') WHERE name = 'kept'")
    assert [j.name for j in ws.page_jobs(archived=True).items] == ["put-away"]
    assert [j.name for j in ws.list_jobs(archived=True)] == ["put-away"]
    assert ws.page_jobs(archived=True).total == 1
    assert sorted(j.name for j in ws.page_jobs(archived=False).items) == ["kept", "put-back"]
    assert sorted(j.name for j in ws.list_jobs()) == ["kept", "put-away", "put-back"]
