"""A cancel while a job is Queued is never lost: once ``job cancel`` says Canceled, the job never starts
(its worker, coming later, finds it ended and runs nothing: no command, no outputs, the record stays
Canceled); a job ended by another process while its runner prepares it is never started either; and no
status is ever written over a terminal one. Deterministic: the interleavings are made by hand, on the
process backend (a host process: no Docker), everything in this test's ``tmp_path``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.jobs import operations as jobs
from runner.jobs import run as run_module
from runner.jobs.recovery import end_lost, mark_lost, process_start_time
from runner.jobs.run import StatusTracker, run_job
from runner.jobs.submit import submit_job
from runner.spec.load import load_job_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace


def queued_job(ws: Workspace, folder: Path, name: str) -> Path:
    """A Queued process-backend job whose command, were it ever run, leaves ``<folder>/ran-<name>``."""
    marker = folder / f"ran-{name}"
    spec = folder / f"{name}.yml"
    spec.write_text(f"command: echo ran > {marker}; echo out > ${{{{outputs.o}}}}/o.txt\n"
                    "outputs:\n  o:\n    mode: upload\n"
                    "environment:\n  image: does-not-matter:1\n")
    submit_job(ws, load_job_spec(spec), name=name, backend="process")
    return marker


def never_ran(ws: Workspace, name: str, marker: Path) -> JobRecord:
    """The job's record, once it is sure its command never ran and nothing was uploaded."""
    record = ws.get_job(name)
    assert not marker.exists(), "the job's command ran"
    assert not (ws.default_datastore_root / "azureml" / name).exists(), "the job's outputs were uploaded"
    assert record.container_id is None and record.started_at is None
    return record


def test_a_job_canceled_while_queued_never_starts_when_its_worker_comes(tmp_path: Path) -> None:
    """The race of the report: `job cancel` answered Canceled while the job was Queued, and its worker,
    started a moment later, ran it to Completed anyway."""
    ws = Workspace(tmp_path / "ws")
    marker = queued_job(ws, tmp_path, "q1")
    ws.update_job("q1", runner_pid=None)  # between the submission and its worker recording its pid
    canceled = jobs.JobOperations(ws).cancel("q1")
    assert canceled.status is JobStatus.CANCELED
    returned = run_job(ws, "q1")  # the worker's entry, as `python -m runner.jobs.worker` calls it
    record = never_ran(ws, "q1", marker)
    assert returned.status is record.status is JobStatus.CANCELED
    assert set(record.extra["status_times"]) == {"Queued", "Canceled"}
    assert record.error is not None and "never started" in record.error


def test_cancel_of_a_queued_job_leaves_its_owner_alone_and_the_job_never_starts(tmp_path: Path) -> None:
    """A Queued record names the process that submitted it (or its worker, before the worker took the
    job): the cancel ends the Queued job in one step instead of signalling that process, which must not
    die before it records its worker (the lost cancel of the report)."""
    ws = Workspace(tmp_path / "ws")
    marker = queued_job(ws, tmp_path, "q2")
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ws.update_job("q2", runner_pid=owner.pid, extra={**ws.get_job("q2").extra,
                                                         "runner_start": process_start_time(owner.pid)})
        assert jobs.JobOperations(ws).cancel("q2").status is JobStatus.CANCELED
        assert owner.poll() is None, "the cancel signalled the process that owns the Queued record"
    finally:
        owner.kill()
        owner.wait()
    assert run_job(ws, "q2").status is JobStatus.CANCELED
    never_ran(ws, "q2", marker)


def test_a_worker_recording_its_pid_late_writes_nothing_over_a_canceled_job(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch
                                                                          ) -> None:
    """``start_worker`` records the worker's pid once it spawned it: a cancel that came meanwhile stands,
    and what the record holds besides is kept (one transaction, not a read and a later write)."""
    ws = Workspace(tmp_path / "ws")
    queued_job(ws, tmp_path, "q3")
    ws.update_job("q3", runner_pid=None)  # (the record names this test's process: never signalled)
    ops = jobs.JobOperations(ws)

    def spawned_then_canceled(*_: Any, **__: Any) -> int:
        ops.cancel("q3")  # the cancel lands between the spawn and the pid's record
        return 4242

    monkeypatch.setattr(jobs, "spawn_worker", spawned_then_canceled)
    assert ops.start_worker("q3") == 4242
    record = ws.get_job("q3")
    assert record.status is JobStatus.CANCELED and record.runner_pid != 4242
    assert "Canceled" in record.extra["status_times"]


def test_a_job_ended_by_another_process_while_it_prepares_is_never_started(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch
                                                                         ) -> None:
    """Its runner took the job (Preparing), then another process recorded its end (a cancel that found
    no runner, recovery): the runner starts no command and writes nothing over that end."""
    ws = Workspace(tmp_path / "ws")
    marker = queued_job(ws, tmp_path, "p1")
    resolve = run_module.resolve_stored_plan

    def resolved_then_ended(*args: Any) -> Any:
        found = resolve(*args)
        mark_lost(ws, ws.get_job("p1"), status=JobStatus.CANCELED, reason="ended by another process")
        return found

    monkeypatch.setattr(run_module, "resolve_stored_plan", resolved_then_ended)
    returned = run_job(ws, "p1")
    record = never_ran(ws, "p1", marker)
    assert returned.status is record.status is JobStatus.CANCELED
    assert record.error is not None and record.error.startswith("ended by another process")
    assert "Running" not in record.extra["status_times"]


def test_no_status_is_written_over_a_terminal_one(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="t1", status=JobStatus.RUNNING, runner_pid=1))
    tracker = StatusTracker(ws, ws.get_job("t1"))
    mark_lost(ws, ws.get_job("t1"), status=JobStatus.CANCELED, reason="canceled")
    for status in (JobStatus.RUNNING, JobStatus.FINALIZING):
        assert tracker.set(status).status is JobStatus.CANCELED
    assert tracker.finish(JobStatus.COMPLETED).status is JobStatus.CANCELED
    record = ws.get_job("t1")
    assert record.status is JobStatus.CANCELED and record.error == "canceled"
    assert set(record.extra["status_times"]) == {"Canceled"}


def test_an_end_judged_on_a_queued_record_is_not_written_once_a_worker_took_the_job(tmp_path: Path) -> None:
    """Recovery (or a cancel) read the job Queued with its submitter gone; its worker then took it
    (Preparing, its own pid): the end judged on the stale record is not written over the live job."""
    ws = Workspace(tmp_path / "ws")
    stale = ws.create_job(JobRecord(name="w1", status=JobStatus.QUEUED, runner_pid=1))
    ws.update_job("w1", status=JobStatus.PREPARING, runner_pid=2)
    assert end_lost(ws, stale, status=JobStatus.CANCELED) is None
    assert mark_lost(ws, stale).status is JobStatus.PREPARING
    assert ws.get_job("w1").status is JobStatus.PREPARING


def test_a_runner_that_could_not_take_the_job_writes_nothing_at_all(tmp_path: Path) -> None:
    """Its Queued -> Preparing was refused because another runner took the job first: its own end
    (Canceled, as it unwinds) is not written over that runner's status either."""
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="two"))
    tracker = StatusTracker(ws, ws.get_job("two"))
    taken = ws.update_job("two", status=JobStatus.PREPARING, runner_pid=2)  # the other runner
    assert tracker.set(JobStatus.PREPARING, runner_pid=1) == taken
    assert tracker.finish(JobStatus.CANCELED, error="canceled before the job's command started") == taken
    assert ws.get_job("two") == taken
