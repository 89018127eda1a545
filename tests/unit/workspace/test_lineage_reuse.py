"""The lineage index and reused pipeline steps: a step whose result was reused from an earlier identical
step has no plan of its own, and is indexed as reading what that step read (its inputs, by the same
names), so "the jobs that read model m:1" lists it too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from runner.workspace import lineage
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow
from runner.workspace.schema import SCHEMA_VERSION

READS = [{"name": "model", "cache_key": "model:m:1"},
         {"name": "table", "cache_key": "workspaceblobstore:DataUpload/d/2/f.csv:mtime:1",
          "asset": {"kind": "data", "name": "d", "version": "2"}},
         {"name": "folder", "cache_key": None}]


def _job(ws: Workspace, name: str, extra: dict[str, Any], *, minutes_ago: int = 0) -> None:
    ws.create_job(JobRecord(name=name, status=JobStatus.COMPLETED, extra=extra,
                            created_at=utcnow() - timedelta(minutes=minutes_ago)))


def _rows(ws: Workspace) -> list[tuple[Any, ...]]:
    with ws.reading() as conn:
        rows = conn.execute("SELECT * FROM job_asset_inputs ORDER BY job_name, input_name")
        return [tuple(r) for r in rows]


def test_a_reused_step_reads_what_the_step_it_reused_read(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "p1-train", {"plan": {"inputs": READS}}, minutes_ago=2)
    _job(ws, "p2-train", {"reused_from": "p1-train"}, minutes_ago=1)
    _job(ws, "p3-train", {"reused_from": "p2-train"})  # a record that names a reusing step: followed
    readers = [r.name for r in ws.page_jobs(reads=("model", "m", "1")).items]
    assert readers == ["p3-train", "p2-train", "p1-train"]
    assert [r.name for r in ws.page_jobs(reads=("data", "d", "2")).items] == readers
    assert ("p2-train", "model", "model", "m", "1") in _rows(ws)
    with ws.reading() as conn:
        assert sorted(lineage.job_reads(conn, "p2-train")) == [("model", "model", "m", "1"),
                                                               ("table", "data", "d", "2")]


def test_a_reused_step_whose_earlier_job_is_gone_or_loops_reads_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "gone", {"reused_from": "never-recorded"})
    _job(ws, "loop-a", {"reused_from": "loop-b"})  # (no real record does this: it must not hang)
    _job(ws, "loop-b", {"reused_from": "loop-a"})
    assert _rows(ws) == []


def test_the_migration_indexes_reused_steps_whatever_the_order_of_the_records(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "reuser", {"reused_from": "original"}, minutes_ago=1)  # stored first, indexed as nothing
    _job(ws, "original", {"plan": {"inputs": READS}}, minutes_ago=2)
    with ws.transaction() as conn:  # as a workspace indexed before reused steps were
        conn.execute("DELETE FROM job_asset_inputs")
        lineage.backfill(conn)
    assert [r.name for r in ws.page_jobs(reads=("model", "m", "1")).items] == ["reuser", "original"]


def test_a_version_6_workspace_gets_its_reused_steps_indexed_on_open(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "original", {"plan": {"inputs": READS}}, minutes_ago=2)
    _job(ws, "reuser", {"reused_from": "original"}, minutes_ago=1)
    with ws.transaction() as conn:  # as schema 6 left it: a reused step recorded before d3b5761 unindexed
        conn.execute("DELETE FROM job_asset_inputs WHERE job_name = 'reuser'")
    with ws.reading() as conn:
        conn.execute("PRAGMA user_version=6")
    assert [r.name for r in ws.page_jobs(reads=("model", "m", "1")).items] == ["original"]
    reopened = Workspace(tmp_path / "ws")
    assert [r.name for r in reopened.page_jobs(reads=("model", "m", "1")).items] == ["reuser", "original"]
    with reopened.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8  # migrated
        assert sorted(lineage.job_reads(conn, "reuser")) == [("model", "model", "m", "1"),
                                                             ("table", "data", "d", "2")]
    assert reopened.get_job("reuser").extra == {"reused_from": "original"}  # the record is kept as it was
