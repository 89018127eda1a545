"""A job's status changes as its runner writes them (``StatusTracker``): each with the time it was
entered, and each a compare-and-set (``Workspace.update_job(only_from=...)``).

The job is taken (Queued -> Preparing) only while it is still Queued, so a job canceled while Queued
never starts, whichever of the cancel and its worker comes first; and no status is ever written over an
end another process recorded (a cancel or recovery that found no runner): the run then stops as a cancel
stops it (``CancelSignals``), and that end stands. A cancel recorded in the job's record
(``runner.jobs.cancel_request``), found by a status write or by ``poll``, stops the run as a SIGTERM does.
Used by ``runner.jobs.run``, the Ray follower and the pipeline orchestrator.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from runner.errors import StorageError
from runner.jobs.cancel_request import CANCEL_REQUESTED, cancel_requested
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
        self.poll()  # between the steps of a preparation: a cancel recorded meanwhile unwinds it

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
        if written is None:
            return self._refused(status)
        if not ending and written.extra.get(CANCEL_REQUESTED):
            self._asked()
        return written

    def poll(self) -> None:
        """What another process wrote since: an end (the run stops, as when a write is refused) or a cancel
        request (``runner.jobs.cancel_request``: the run stops as a SIGTERM stops it). Reads the status and
        the request, not the record; a read the storage refuses now (busy, a full disk) waits for the next."""
        if self.ended_elsewhere is not None:
            return
        try:
            status = self.ws.job_status(self.name)
            asked = status is not None and not status.is_terminal and cancel_requested(self.ws, self.name)
        except StorageError as err:
            log.debug("job %s: its record could not be read this time: %s", self.name, err)
            return
        if status is not None and status.is_terminal:
            self.set()  # refused (an end is never written over): the run stops
        elif asked:
            self._asked()

    def _asked(self) -> None:
        """A cancel recorded in the job's record: asked of the run as SIGTERM asks it (before the command
        started, the preparation unwinds)."""
        if self.cancel is None or self.cancel.requested.is_set():
            return
        log.info("job %s: a cancel is recorded in its record: stopping the run", self.name)
        self.cancel.requested.set()
        if self.cancel.raise_now:
            self.cancel.raise_now = False
            raise JobCanceled()

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
