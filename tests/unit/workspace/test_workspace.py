"""Workspace layout, database setup and the job store."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from runner.errors import JobError, ResolveError
from runner.workspace.db import DEFAULT_DATASTORE, JobRecord, JobStatus, Workspace, default_artifacts_uri


def test_layout_and_default_datastore(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    assert ws.db_path.exists()
    assert (tmp_path / "ws" / "datastores" / DEFAULT_DATASTORE).is_dir()
    for sub in ("jobs", "cache", "staging"):
        assert (tmp_path / "ws" / sub).is_dir()
    assert stat.S_IMODE(ws.db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ws.root.stat().st_mode) == 0o700  # nobody else reads models, jobs or logs
    with ws.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = [r["name"] for r in conn.execute("SELECT name FROM datastores")]
    assert names == [DEFAULT_DATASTORE]
    Workspace(tmp_path / "ws")  # reopening is idempotent
    with ws.reading() as conn:
        assert conn.execute("SELECT count(*) FROM datastores").fetchone()[0] == 1


def test_env_var_chooses_workspace(workspace_dir: Path) -> None:
    assert Workspace().root == workspace_dir.resolve()


def test_job_store_roundtrip(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    rec = ws.create_job(JobRecord(name="job1", spec={"command": "echo"}, inputs={"a": "file:///x"}))
    assert rec.outputs["artifacts"] == default_artifacts_uri("job1")
    updated = ws.update_job("job1", status="Running", runner_pid=42)
    assert updated.status is JobStatus.RUNNING
    got = ws.get_job("job1")
    assert got.runner_pid == 42 and got.spec == {"command": "echo"} and got.inputs == {"a": "file:///x"}
    ws.create_job(JobRecord(name="job2", experiment_name="exp"))
    assert [j.name for j in ws.list_jobs()] == ["job2", "job1"]
    assert [j.name for j in ws.list_jobs(experiment_name="exp")] == ["job2"]
    assert [j.name for j in ws.list_jobs(status="Running")] == ["job1"]
    assert JobStatus.COMPLETED.is_terminal and not JobStatus.RUNNING.is_terminal


def test_unknown_job_lists_recent(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.create_job(JobRecord(name="happy_cat_1"))
    with pytest.raises(ResolveError) as info:
        ws.get_job("nope")
    assert "unknown job 'nope'" in info.value.render()
    assert "happy_cat_1" in info.value.render()


def test_duplicate_job_and_bad_update_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.create_job(JobRecord(name="j"))
    with pytest.raises(JobError):
        ws.create_job(JobRecord(name="j"))
    with pytest.raises(JobError):
        ws.update_job("j", status="NotAStatus")
    assert ws.get_job("j").status is JobStatus.QUEUED


def test_a_failed_commit_leaves_the_threads_connection_usable(tmp_path: Path) -> None:
    """Each thread keeps its connection: a transaction whose COMMIT fails must not stay open on it."""
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(sqlite3.IntegrityError), ws.transaction() as conn:
        conn.execute("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE child "
                     "(p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
        conn.execute("INSERT INTO child VALUES (1)")  # the violation is reported at COMMIT
    with ws.transaction() as conn:  # the same connection starts a new transaction
        assert conn.execute("SELECT count(*) FROM datastores").fetchone()[0] == 1
    with pytest.raises(RuntimeError), ws.transaction() as conn:  # the body fails: rolled back
        conn.execute("DELETE FROM datastores")
        raise RuntimeError("boom")
    with ws.reading() as conn:
        assert not conn.in_transaction
        assert conn.execute("SELECT count(*) FROM datastores").fetchone()[0] == 1
