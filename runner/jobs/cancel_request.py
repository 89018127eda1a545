"""A cancel recorded in the job's record, for the runner that holds the job to see.

``job cancel`` ends a Queued job itself (``cancel_queued``: one compare-and-set, before any runner took
it). A job a runner holds is the runner's to stop: the cancel signals it (SIGTERM), and first records the
request in the record (``extra["cancel_requested"]``: when it was first asked; ``record_cancel_request``,
one merged write). A runner that took the job since the cancel read it, or that the signal missed, sees
the request at its next check (``runner.jobs.status.StatusTracker.poll``: its status writes, between the
steps of its preparation, every second while its command runs; the pipeline orchestrator every poll; a Ray
job's follower every poll) and stops the job as a SIGTERM would: it ends Canceled (or, once its command
had ended, keeps the status its command earned: a late cancel).
"""

from __future__ import annotations

from typing import Any

from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow

CANCEL_REQUESTED = "cancel_requested"  # extra key: when a cancel was first asked of the job's runner
HELD = frozenset({JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING})  # a runner holds the job


def record_cancel_request(ws: Workspace, name: str) -> JobRecord | None:
    """Record that the job is asked to cancel, in one write that keeps the rest of its record and the time
    of an earlier request; None when no runner holds the job (still Queued, or ended)."""
    now = utc_text(utcnow())

    def first(stored: Any) -> Any:
        return stored if stored else now

    return ws.update_job(name, only_from=HELD, merge_extra={CANCEL_REQUESTED: first})


def cancel_requested(ws: Workspace, name: str) -> bool:
    """Whether the job's record holds a cancel request (reads that field alone, not the record)."""
    with ws.reading() as conn:
        row = conn.execute(f"SELECT json_extract(record, '$.extra.{CANCEL_REQUESTED}') AS asked FROM jobs "
                           "WHERE name = ?", (name,)).fetchone()
    return row is not None and row["asked"] is not None


def cancel_queued(ws: Workspace, record: JobRecord) -> JobRecord | None:
    """The Queued job ended Canceled in one compare-and-set, before anything of it started; None when it
    is no longer Queued (its runner took it, or it ended)."""
    times = {**record.extra.get("status_times", {}), JobStatus.CANCELED.value: utc_text(utcnow())}
    return ws.update_job(record.name, ending=True, only_from={JobStatus.QUEUED}, status=JobStatus.CANCELED,
                         ended_at=utcnow(), error="canceled while Queued: the job never started",
                         merge_extra={"status_times": times})


def still_active(record: JobRecord) -> str:
    """What ``job cancel`` (and the web UI) says of a job the cancel left active: its runner holds it."""
    if record.status is JobStatus.FINALIZING:
        return (f"cancel requested; still {record.status.value} (its outputs are being made durable), it "
                "records its end when done")
    return (f"cancel requested and recorded in the job; still {record.status.value}: its runner (pid "
            f"{record.runner_pid}) stops it at its next check and records it Canceled")
