"""A job record written before status times were stored in the ``Z`` form (runners before 61beb6c wrote
``datetime.isoformat()``: ``+00:00``) reads from Python as a new one does: ``ml_client.jobs`` gives its
``extra["status_times"]`` as ``utc_text`` text, the type and form a new record has, as the CLI prints
them. The stored record is not rewritten by a read, and nothing else in ``extra`` is touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from runner import MLClient
from runner.jobs.operations import as_job
from runner.jobs.run import StatusTracker
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text

QUEUED = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
RUNNING = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)  # no microseconds: isoformat leaves them out
OLD_TIMES = {"Queued": QUEUED.isoformat(), "Running": RUNNING.isoformat()}
UNTOUCHED = {"note": QUEUED.isoformat(), "literals": {"when": RUNNING.isoformat()}}


def _old_record(ws: Workspace, name: str) -> None:
    ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, extra={"status_times": dict(OLD_TIMES),
                                                                        **UNTOUCHED}))


def test_an_old_records_status_times_read_as_a_new_ones(workspace_dir: Path) -> None:
    ws = Workspace(workspace_dir)
    _old_record(ws, "old")
    new = StatusTracker(ws, ws.create_job(JobRecord(name="new"))).set(JobStatus.RUNNING)
    new_time = new.extra["status_times"]["Running"]
    jobs = MLClient().jobs
    for job in (jobs.get("old"), *[j for j in jobs.list() if j.name == "old"],
                *[j for j in jobs.page().items if j.name == "old"]):
        times = job.extra["status_times"]
        assert times == {"Queued": "2026-01-02T03:04:05.123456Z", "Running": "2026-01-02T03:04:06Z"}, times
        assert times == {k: utc_text(datetime.fromisoformat(v)) for k, v in OLD_TIMES.items()}
        for text in times.values():  # the same type and form as a new record's
            assert type(text) is type(new_time) is str and text.endswith("Z") == new_time.endswith("Z")
            assert datetime.fromisoformat(text).utcoffset() == timedelta(0)
        assert job.model_dump(mode="json")["extra"]["status_times"] == times
        assert {k: job.extra[k] for k in UNTOUCHED} == UNTOUCHED
    assert jobs.get("new").extra["status_times"] == new.extra["status_times"]  # a new record as stored
    assert ws.get_job("old").extra["status_times"] == OLD_TIMES  # a read rewrites nothing


def test_a_record_made_a_job_directly_reads_so_too(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _old_record(ws, "old")
    job = as_job(ws.get_job("old"))
    assert set(job.extra["status_times"].values()) == {"2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:06Z"}
    odd = {"Queued": "yesterday", "Running": None, "Failed": "2026-01-02T03:04:05+02:00"}
    assert as_job(JobRecord(name="odd", extra={"status_times": odd})).extra["status_times"] == odd
