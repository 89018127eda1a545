"""Recovery releases a job's container, process group and mounts only once ``end_lost`` read the job again,
under the job's lock, and found it as recovery judged it: a worker that took the Queued job since (its
submitter gone, the job read Queued by ``reconcile``) keeps what it runs, and so does a worker its
submitter handed the Queued job to (the record read naming the submitter, which then exited).
Deterministic: the worker's taking is written by hand between the read and ``recover``; what would be
released is recorded, not done (nothing outside this test's tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs import recovery
from runner.jobs.recovery import recover
from runner.workspace.db import JobRecord, JobStatus, Workspace


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> list[JobRecord]:
    records: list[JobRecord] = []

    def release(_ws: Workspace, record: JobRecord, **_: object) -> list[str]:
        records.append(record)
        return []

    monkeypatch.setattr(recovery, "release_resources", release)
    return records


def test_a_job_its_worker_took_since_it_was_read_is_neither_released_nor_ended(
        tmp_path: Path, released: list[JobRecord]) -> None:
    ws = Workspace(tmp_path / "ws")
    stale = ws.create_job(JobRecord(name="q", status=JobStatus.QUEUED, runner_pid=1, backend="docker",
                                    job_dir=str(ws.job_dir("q").root)))
    taken = ws.update_job("q", status=JobStatus.PREPARING, runner_pid=2, container_id="c0ffee")
    assert recover(ws, stale) is False
    assert released == [], "the container of the job its worker runs now was released"
    assert ws.get_job("q") == taken


def test_a_job_still_as_read_is_released_from_its_current_record_then_ended(
        tmp_path: Path, released: list[JobRecord]) -> None:
    ws = Workspace(tmp_path / "ws")
    read = ws.create_job(JobRecord(name="r", status=JobStatus.RUNNING, runner_pid=1, backend="docker",
                                   job_dir=str(ws.job_dir("r").root)))
    current = ws.update_job("r", container_id="c0ffee")  # written since the read: released by it
    assert recover(ws, read) is True
    assert [r.container_id for r in released] == [current.container_id]
    assert ws.get_job("r").status is JobStatus.FAILED


def test_a_queued_job_handed_to_its_worker_since_it_was_read_is_neither_released_nor_ended(
        tmp_path: Path, released: list[JobRecord]) -> None:
    """`job create` records the job Queued under its own pid, starts the worker, records the worker's pid
    (still Queued) and exits: a `reconcile` that read the record before the hand-over and found the
    submitter gone after it judged a runner the job no longer has (seen with the fork server, whose
    commands exit within milliseconds)."""
    ws = Workspace(tmp_path / "ws")
    read = ws.create_job(JobRecord(name="h", status=JobStatus.QUEUED, runner_pid=1, backend="docker",
                                   job_dir=str(ws.job_dir("h").root), extra={"runner_start": "100"}))
    handed = ws.update_job("h", only_from={JobStatus.QUEUED}, runner_pid=2,
                           merge_extra={"runner_start": "200"})
    assert recover(ws, read) is False
    assert released == [], "the job its worker is about to run was released"
    assert ws.get_job("h") == handed


def test_a_pid_given_again_is_another_runner(tmp_path: Path, released: list[JobRecord]) -> None:
    ws = Workspace(tmp_path / "ws")
    read = ws.create_job(JobRecord(name="p", status=JobStatus.QUEUED, runner_pid=7, backend="docker",
                                   job_dir=str(ws.job_dir("p").root), extra={"runner_start": "100"}))
    again = ws.update_job("p", only_from={JobStatus.QUEUED}, merge_extra={"runner_start": "300"})
    assert recover(ws, read) is False
    assert ws.get_job("p") == again
