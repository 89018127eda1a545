"""``job cancel`` of a job whose runner is gone releases its container, process group and mounts only once
``end_lost`` read the job again, under the job's lock, and found it as the cancel judged it (as recovery
does: ``test_recover_releases_after_recheck``): a job another process ended since the cancel read it is
neither released nor ended again, and what is released is the job as its record is now. Deterministic: the
other process's write is made by hand right after the cancel's last read (where it asks whether a watchdog
follows the job); what would be released is recorded, not done (nothing outside this test's tmp_path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runner.jobs import operations
from runner.jobs.operations import JobOperations
from runner.jobs.recovery import mark_lost
from runner.workspace.db import JobRecord, JobStatus, Workspace

ELSEWHERE = "the runner died (recorded by another process)"


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> list[JobRecord]:
    records: list[JobRecord] = []

    def release(_ws: Workspace, record: JobRecord, **_: object) -> list[str]:
        records.append(record)
        return []

    monkeypatch.setattr(operations, "release_resources", release)
    return records


def judged_then(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]) -> None:
    """Once the cancel read the job for the last time (it asks whether a watchdog follows it: none does),
    another process writes ``meanwhile``."""

    def no_watchdog(_ws: Workspace, _record: JobRecord) -> bool:
        meanwhile()
        return False

    monkeypatch.setattr(operations, "watchdog_follows", no_watchdog)


def running_without_runner(ws: Workspace, name: str) -> None:
    """Running, its runner gone (the recorded pid's start time is not this process's)."""
    ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, runner_pid=1, backend="process",
                            job_dir=str(ws.job_dir(name).root), extra={"runner_start": "gone"}))


def test_a_job_ended_elsewhere_since_the_cancel_read_it_is_neither_released_nor_ended_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, released: list[JobRecord]) -> None:
    ws = Workspace(tmp_path / "ws")
    ops = JobOperations(ws)  # (made first: making it reconciles, and would end the job itself)
    running_without_runner(ws, "e")
    other = Workspace(ws.root)
    judged_then(monkeypatch, lambda: mark_lost(other, other.get_job("e"), reason=ELSEWHERE))
    ended = ops.cancel("e")
    assert released == [], "a job another process had ended was released again"
    assert ended.status is JobStatus.FAILED and ended.error is not None and ended.error.startswith(ELSEWHERE)
    assert ws.get_job("e").status is JobStatus.FAILED


def test_a_job_still_as_read_is_released_from_its_current_record_then_canceled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, released: list[JobRecord]) -> None:
    ws = Workspace(tmp_path / "ws")
    ops = JobOperations(ws)
    running_without_runner(ws, "r")
    judged_then(monkeypatch, lambda: ws.update_job("r", container_id="4242"))  # written since the read
    canceled = ops.cancel("r")
    assert [r.container_id for r in released] == ["4242"]
    assert canceled.status is JobStatus.CANCELED
    assert set(canceled.extra["status_times"]) == {"Canceled"}
