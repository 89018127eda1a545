"""A job's status changes as its runner writes them (``StatusTracker``): each with the time it was
entered, and each a compare-and-set (``Workspace.update_job(only_from=...)``).

The job is taken (Queued -> Preparing) only while it is still Queued, so a job canceled while Queued
never starts, whichever of the cancel and its worker comes first; and no status is ever written over an
end another process recorded (a cancel or recovery that found no runner): the run then stops as a cancel
stops it (``CancelSignals``), and that end stands. Used by ``runner.jobs.run``, the Ray follower and the
pipeline orchestrator.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from runner.errors import StorageError
from runner.jobs.supervise import CancelSignals, JobCanceled
from runner.workspace.db import ACTIVE_STATUSES, JobRecord, JobStatus, Workspace, utc_text, utcnow

if TYPE_CHECKING:
    from runner.jobs.materialize import OutputSet
    from runner.jobs.watchdog import Watchdog

log = logging.getLogger(__name__)


class StatusTracker:
    """Writes status changes (with the time each was entered) to the workspace record, each one a
    compare-and-set: Preparing only from Queued, any other only while the job has not ended. A change
    refused because another process ended the job writes nothing (``ended_elsewhere`` holds that end)
    and, given the run's ``cancel``, stops the run as a cancel does."""

    def __init__(self, ws: Workspace, record: JobRecord, cancel: CancelSignals | None = None) -> None:
        self.ws = ws
        self.name = record.name
        self.extra: dict[str, Any] = dict(record.extra)
        self._lap_start = time.perf_counter()
        self._pending: dict[str, Any] = {}
        self.watchdog: Watchdog | None = None  # released once the final status is written
        self.outputs: OutputSet | None = None  # once entered: what the job's outputs hold, at its end
        self.cancel = cancel
        self.ended_elsewhere: JobRecord | None = None

    def lap(self, step: str) -> None:
        """Remember how long ``step`` took (since the previous lap); saved with the next status write."""
        now = time.perf_counter()
        self.timing(step, now - self._lap_start)
        self._lap_start = now

    def timing(self, step: str, seconds: float) -> None:
        """Remember that ``step`` took ``seconds``; saved with the next status write."""
        self.extra["timings_s"] = {**self.extra.get("timings_s", {}), step: round(seconds, 4)}

    def note(self, **fields: Any) -> None:
        """Fields written with the next status change (one transaction fewer on the hot path)."""
        self._pending.update(fields)

    def set(self, status: JobStatus | None = None, *, ending: bool = False, **fields: Any) -> JobRecord:
        if self.ended_elsewhere is not None:  # the job is another's (ended, or taken): nothing more written
            return self._refused(status)
        fields = {**self._pending, **fields}
        self._pending = {}
        if status is not None:
            times = dict(self.extra.get("status_times", {}))
            times[status.value] = utc_text(utcnow())
            self.extra["status_times"] = times
            fields["status"] = status
        expected = {JobStatus.QUEUED} if status is JobStatus.PREPARING else ACTIVE_STATUSES
        try:
            written = self.ws.update_job(self.name, ending=ending, only_from=expected,
                                         merge_extra=self.extra, **fields)
        except StorageError:
            if ending or not self.ws.disk_full():
                raise
            # a full disk: the job goes on (its end is recorded with the space reserve); these fields
            # go with the next write
            log.warning("job %s: status %s not recorded yet (the disk is full)", self.name, status)
            self._pending = {**fields, **self._pending}
            return self.ws.get_job(self.name)
        return written if written is not None else self._refused(status)

    def _refused(self, status: JobStatus | None) -> JobRecord:
        """Another process ended the job (or took it): nothing is written over that; the run stops."""
        current = self.ws.get_job(self.name)
        if self.ended_elsewhere is None:
            log.warning("job %s: %s by another process; not recorded as %s, and the run stops", self.name,
                        f"ended {current.status.value}" if current.status.is_terminal else
                        f"taken ({current.status.value})", status.value if status else "changed")
        self.ended_elsewhere = current
        if self.cancel is not None:
            self.cancel.requested.set()
            if self.cancel.raise_now:  # before the command started: unwind the preparation
                self.cancel.raise_now = False
                raise JobCanceled()
        return current

    def finish(self, status: JobStatus, **fields: Any) -> JobRecord:
        return self.set(status, ending=True, ended_at=utcnow(), **fields)
