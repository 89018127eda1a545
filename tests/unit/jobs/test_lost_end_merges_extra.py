"""The end of a job whose runner is gone (``end_lost``: a cancel, a recovery, the job's watchdog) merges
what it adds to ``extra`` (the status time, links met, outputs held back) into the stored record in its
own write: a key another process wrote since ``end_lost`` read the job (a worker's pid being recorded, a
tracker's timing) is kept. Deterministic: that key is written by hand right after the read; everything
in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.recovery import end_lost, mark_lost
from runner.workspace.db import JobRecord, JobStatus, Workspace

THEIRS = {"written_meanwhile": "by another process"}


def read_then_written(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``ws.get_job`` returns the record as read, and another process then writes its key to it (once,
    after the first read: the one ``end_lost`` builds its end on)."""
    read = ws.get_job
    names: list[str] = []

    def get_job(name: str) -> JobRecord:
        record = read(name)
        if not names:
            Workspace(ws.root).update_job(name, merge_extra=THEIRS)
        names.append(name)
        return record

    monkeypatch.setattr(ws, "get_job", get_job)
    return names


def test_a_lost_jobs_end_keeps_a_key_written_since_it_was_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    staged = ws.job_dir("j").outputs / "model"
    staged.mkdir(parents=True)
    (staged / "weights.bin").write_bytes(b"w")
    record = ws.create_job(JobRecord(name="j", status=JobStatus.RUNNING, runner_pid=1, backend="process",
                                     job_dir=str(ws.job_dir("j").root),
                                     extra={"status_times": {"Running": "2026-01-01T00:00:00Z"}, "mine": 1}))
    names = read_then_written(ws, monkeypatch)
    ended = mark_lost(ws, record, status=JobStatus.CANCELED, reason="canceled")
    assert names and names[0] == "j"
    stored = Workspace(ws.root).get_job("j")
    assert ended == stored and stored.status is JobStatus.CANCELED
    assert stored.extra["written_meanwhile"] == THEIRS["written_meanwhile"] and stored.extra["mine"] == 1
    assert list(stored.extra["status_times"]) == ["Running", "Canceled"]
    assert stored.extra["held_back_outputs"] == {"model": str(staged)}


def test_an_end_written_meanwhile_is_not_written_over(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = ws.create_job(JobRecord(name="k", status=JobStatus.RUNNING, runner_pid=1, backend="process",
                                     job_dir=str(ws.job_dir("k").root)))
    first = mark_lost(ws, record, reason="first")
    assert end_lost(ws, record, status=JobStatus.CANCELED, reason="second") is None
    assert ws.get_job("k") == first and first.error == "first"
