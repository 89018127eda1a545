"""``Workspace.update_job(only_from=...)``: a job's fields change only when its status, read in the same
transaction, is one of those expected (a compare-and-set); ``merge_extra`` sets keys of the stored
``extra`` in that transaction, the others kept."""

from __future__ import annotations

from pathlib import Path

from runner.workspace.db import ACTIVE_STATUSES, JobRecord, JobStatus, Workspace


def test_a_status_is_set_only_from_an_expected_one(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="c1"))
    taken = ws.update_job("c1", only_from={JobStatus.QUEUED}, status=JobStatus.PREPARING, runner_pid=7)
    assert taken is not None and taken.status is JobStatus.PREPARING and taken.runner_pid == 7
    assert ws.update_job("c1", only_from={JobStatus.QUEUED}, status=JobStatus.CANCELED) is None
    assert ws.get_job("c1") == taken


def test_a_terminal_status_is_never_left(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="c2", status=JobStatus.CANCELED, error="canceled"))
    assert JobStatus.CANCELED not in ACTIVE_STATUSES
    for status in (JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.COMPLETED):
        assert ws.update_job("c2", ending=True, only_from=ACTIVE_STATUSES, status=status) is None
    assert ws.get_job("c2").status is JobStatus.CANCELED


def test_merge_extra_keeps_what_another_writer_stored(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="c3", extra={"plan": {"p": 1}}))
    ws.update_job("c3", extra={"plan": {"p": 1}, "status_times": {"Preparing": "t"}})  # the worker's write
    merged = ws.update_job("c3", only_from={JobStatus.QUEUED}, runner_pid=9,
                           merge_extra={"runner_start": "42"})
    assert merged is not None and merged.runner_pid == 9
    assert merged.extra == {"plan": {"p": 1}, "status_times": {"Preparing": "t"}, "runner_start": "42"}
