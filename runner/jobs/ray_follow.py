"""Follow a Ray job from the submitting side: its log into the job's own log, its status into the record.

    record = follow_ray_job(ws, "j1")                 # the background worker; returns the final record
    record = follow_ray_job(ws, "j1", echo=write, interruptible=True)   # `job create --stream`

One follower per job (``runner.jobs.spawn.follower_lock``); a follower that dies is replaced by the next
runner command (``runner.jobs.recovery``), which picks the job up where Ray has it. Ray's statuses map
PENDING/RUNNING/SUCCEEDED/FAILED/STOPPED -> Queued/Running/Completed/Failed/Canceled; the final record
(status, exit code, times, the node's own status times, which node ran it) comes from the ``result.json``
runner on the node wrote to the compute's datastore (only its known fields, ``runner.jobs.ray_result``: the
rest is dropped with a warning, and a status no job ends with records the job Failed), and output models
are registered here, with the job as lineage. Ray's own lines in the job's log ("Runtime env is setting
up", "Running entrypoint for job") are left out of ``user_logs/std_log.txt``.

A cluster that stops answering for ``RUNNER_RAY_LOST_S`` (default 60 s), or no longer knows the job,
ends it Failed with the reason, unless the node recorded its result first: then the job ends as the node
recorded it (its outputs reached their datastores). Outputs already uploaded are never touched. A cancel
recorded in the job's record (``runner.jobs.cancel_request``) stops the Ray job, as SIGTERM does.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.backends.ray_jobs import TERMINAL, LogStream, RayJobsClient, RayUnreachable
from runner.errors import BackendError, RunnerError
from runner.jobs.cancel_request import CANCEL_REQUESTED
from runner.jobs.ray_package import fetch_control, read_control
from runner.jobs.ray_result import ENDS, dropped_words, keep_own_staged, name_node_ip, node_result
from runner.jobs.recovery import process_start_time
from runner.jobs.register import Registered, RegistrationFailed, failed_at_registration, register_outputs
from runner.jobs.run import StatusTracker
from runner.jobs.spawn import follower_lock, respawn_follower
from runner.jobs.supervise import CancelSignals, Echo
from runner.plan.stored import plan_from_dict
from runner.workspace.db import ACTIVE_STATUSES, JobRecord, JobStatus, Workspace, utcnow
from runner.workspace.upload_state import declared_outputs

log = logging.getLogger(__name__)

STATUS = {"PENDING": JobStatus.QUEUED, "RUNNING": JobStatus.RUNNING, "SUCCEEDED": JobStatus.COMPLETED,
          "FAILED": JobStatus.FAILED, "STOPPED": JobStatus.CANCELED}
POLL_S = 0.5
LOST_ENV = "RUNNER_RAY_LOST_S"
_RAY_LINES = (re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\tINFO job_manager\.py:\d+ -- "),
              re.compile(rb"^Running entrypoint for job \S+: "))


def lost_after_s() -> float:
    return float(os.environ.get(LOST_ENV, "60"))


class LogSink:
    """Appends Ray's job log to the job's log (and ``echo``), whole lines at a time, without Ray's own
    lines. How much of Ray's log went into the job's log is kept beside it (``offset``), so a poll, or
    the follower that replaces a dead one, appends only what is new."""

    def __init__(self, path: Path, offset: Path, echo: Echo | None) -> None:
        self.path = path
        self.offset = offset
        self.echo = echo
        self._partial = b""
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.seen, self._skip = _resume(offset, path)

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            self.seen += len(chunk)
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()
            self._write(b"".join(line + b"\n" for line in lines if not _ray_line(line)))

    def catch_up(self, whole: bytes) -> None:
        """Append what ``whole`` (the log as Ray has it now) holds beyond what was seen."""
        if len(whole) > self.seen:
            self.feed(whole[self.seen:])

    def close(self) -> None:
        with self._lock:
            if self._partial and not _ray_line(self._partial):
                self._write(self._partial, partial_done=True)
            self._partial = b""

    def _write(self, data: bytes, *, partial_done: bool = False) -> None:
        if self._skip:  # appended by a follower that died before it could say so (``_resume``)
            dropped = min(self._skip, len(data))
            data, self._skip = data[dropped:], self._skip - dropped
        if data:
            with self.path.open("ab") as sink:
                sink.write(data)
            if self.echo is not None:
                self.echo(data)
        # a line not yet ended is not written: a follower that replaces this one reads it again
        committed = self.seen - (0 if partial_done else len(self._partial))
        size = self.path.stat().st_size if self.path.exists() else 0
        scratch = self.offset.with_name(self.offset.name + ".new")
        scratch.write_text(f"{committed} {size}")
        os.replace(scratch, self.offset)  # never half-written: a torn offset would replay the whole log


def _resume(offset: Path, log: Path) -> tuple[int, int]:
    """Where a new follower starts in Ray's log, and how many bytes of what it reads again are in the
    job's log already. The offset file holds ``<Ray log bytes committed> <job log size then>``: a
    follower killed between appending to the job's log and writing the offset left bytes past that
    size, the start of what reading on from the committed point writes again, so they are skipped
    (only followers write a Ray job's log). An older file holds the first number alone."""
    try:
        fields = offset.read_text().split()
        seen = int(fields[0]) if fields else 0
        written = int(fields[1]) if len(fields) > 1 else None
    except (OSError, ValueError):
        return 0, 0
    if written is None:
        return seen, 0
    size = log.stat().st_size if log.exists() else 0
    return seen, max(0, size - written)


def _ray_line(line: bytes) -> bool:
    return any(pattern.match(line) for pattern in _RAY_LINES)


class _Streamer:
    """The log stream of the driver's node in a thread (falls back to polling when it breaks)."""

    def __init__(self, client: RayJobsClient, sid: str, node_ip: str, sink: LogSink) -> None:
        self.stream: LogStream = client.log_stream(sid, node_ip)
        self.sink = sink
        self.thread = threading.Thread(target=self._run, name="ray-log", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for chunk in self.stream.chunks():
            self.sink.feed(chunk)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        time.sleep(POLL_S)  # the last chunk of a job that just ended
        self.stream.close()
        self.thread.join(5)


def follow_ray_job(ws: Workspace, name: str, *, echo: Echo | None = None,
                   interruptible: bool = False) -> JobRecord:
    """Follow the Ray job ``name`` to its end and record it; returns the record (another follower's
    job is left to it: its record as it stands is returned). ``interruptible``: SIGINT/SIGTERM stop
    the Ray job (a cancel), and the job is followed to its end."""
    job_dir = ws.job_dir(name)
    with follower_lock(job_dir) as mine:
        if not mine:
            return ws.get_job(name)
        record = ws.get_job(name)
        if record.status.is_terminal:
            return record
        # one transaction that keeps the rest of the record, never over an end written meanwhile
        ws.update_job(name, only_from=ACTIVE_STATUSES, runner_pid=os.getpid(),
                      merge_extra={"runner_start": process_start_time(os.getpid())})
        follower = _Follower(ws, ws.get_job(name), echo)
        cancel = CancelSignals()
        if not interruptible:
            return follower.run(None)
        with cancel.installed():
            cancel.raise_now = False
            return follower.run(cancel)


class _Follower:
    def __init__(self, ws: Workspace, record: JobRecord, echo: Echo | None) -> None:
        self.ws = ws
        self.record = record
        self.ray: dict[str, Any] = record.extra["ray"]
        self.sid = str(self.ray["submission_id"])
        self.client = RayJobsClient(self.ray["address"])
        self.tracker = StatusTracker(ws, record)
        job_dir = ws.job_dir(record.name)
        self.sink = LogSink(job_dir.std_log, job_dir.ray_log_offset, echo)
        self.streamer: _Streamer | None = None
        self.stop_sent = False

    def run(self, cancel: CancelSignals | None) -> JobRecord:
        unreachable_since: float | None = None
        info: dict[str, Any] | None = None
        while True:
            current = self.ws.get_job(self.record.name)
            if current.status.is_terminal:  # canceled while Queued
                return self._leave()
            asked = CANCEL_REQUESTED in current.extra or (cancel is not None and cancel.requested.is_set())
            if asked and not self.stop_sent:  # SIGINT/SIGTERM here, or a cancel recorded in the record
                self._stop()
            try:
                info = self.client.info(self.sid)
                if info is not None:
                    self._progress(info)
                unreachable_since = None
            except BackendError as exc:  # unreachable, or an error answer: both may pass
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since > lost_after_s():
                    why = exc.message.rsplit("(", 1)[-1].rstrip(")") if isinstance(exc, RayUnreachable) \
                        else exc.message
                    return self._lost(f"the Ray cluster at {self.ray['address']} stopped answering ({why})")
                time.sleep(POLL_S)
                continue
            if info is None:
                return self._lost(f"the Ray cluster at {self.ray['address']} no longer knows the job "
                                  "(was it restarted?)")
            if info["status"] in TERMINAL:
                return self._finish(info)
            time.sleep(POLL_S)

    def _stop(self) -> None:
        self.stop_sent = True
        try:
            self.client.stop(self.sid)
        except RunnerError as err:
            log.warning("stopping Ray job %s failed: %s", self.sid, err.message)

    def _progress(self, info: dict[str, Any]) -> None:
        if info["status"] != "PENDING" and self.tracker.extra.get("status_times", {}).get("Running") is None \
                and not self.ws.get_job(self.record.name).status.is_terminal:
            node = self._node(info)
            self.tracker.set(JobStatus.RUNNING, started_at=utcnow())
            if node:
                self._note_ray(node_ip=node)
        if self.streamer is None and info["status"] == "RUNNING" and (node := self._node(info)):
            self.streamer = _Streamer(self.client, self.sid, node, self.sink)
        if self.streamer is None or not self.streamer.alive:
            self.sink.catch_up(self.client.logs(self.sid).encode())

    def _node(self, info: dict[str, Any]) -> str | None:
        if self.ray.get("node_ip"):
            return str(self.ray["node_ip"])
        address = info.get("driver_agent_http_address") or ""
        match = re.match(r"^https?://([^:/]+)", address)
        return match[1] if match else None

    def _note_ray(self, **fields: Any) -> None:
        self.ray = {**self.ray, **fields}
        self.tracker.extra["ray"] = self.ray
        self.tracker.set()

    def _drain(self) -> None:
        if self.streamer is not None:
            self.streamer.stop()
        try:
            self.sink.catch_up(self.client.logs(self.sid).encode())
        except RunnerError as err:
            log.warning("the rest of the log of Ray job %s is not available: %s", self.sid, err.message)
        self.sink.close()

    def _leave(self) -> JobRecord:
        if self.streamer is not None:
            self.streamer.stop()
        return self.ws.get_job(self.record.name)

    def _result(self) -> dict[str, Any] | None:
        try:
            data = read_control(self.ws, self.ray["control"], "result.json")
            node_log = self.ws.job_dir(self.record.name).node_log
            fetch_control(self.ws, self.ray["control"], "runner.log", node_log)
        except RunnerError as err:
            log.warning("reading the node's result of %s failed: %s", self.sid, err.message)
            return None
        if not data:
            return None
        result, dropped = node_result(data)
        if dropped:
            log.warning("the node's result of job %s held what runner on the node never sends; dropped: %s",
                        self.record.name, dropped_words(dropped))
        return result

    def _finish(self, info: dict[str, Any]) -> JobRecord:
        self._drain()
        result = self._result()
        self.ray.update(ray_status=info["status"], ray_message=(info.get("message") or "")[:2000],
                        driver_exit_code=info.get("driver_exit_code"))
        if result is None:
            return self._without_result(info)
        return self._record(result)

    def _without_result(self, info: dict[str, Any]) -> JobRecord:
        """Ray ended the job before runner on the node recorded anything (a bad runtime_env, a node
        without docker or runner's dependencies, a stop before it started)."""
        status = STATUS[info["status"]]
        status = JobStatus.FAILED if status is JobStatus.COMPLETED else status
        why = (info.get("message") or "").strip().splitlines()[:1]
        error = (f"Ray ended the job {info['status']} before runner on the node recorded a result"
                 f"{': ' + why[0] if why else ''}; see `runner job stream --name {self.record.name}`")
        self.tracker.extra["ray"] = self.ray
        return self.tracker.finish(status, error=error, exit_code=info.get("driver_exit_code"))

    def _record(self, result: dict[str, Any]) -> JobRecord:
        """Record the node's result (``node_result``: its known fields only)."""
        status = JobStatus(result["status"]) if "status" in result else JobStatus.FAILED
        node_extra = result["extra"]
        outputs = self.ws.job_dir(self.record.name).outputs
        if note := keep_own_staged(node_extra, outputs, declared_outputs(self.record)):
            log.warning("job %s: %s", self.record.name, note)  # and in its record's warnings
            node_extra["warnings"] = [*node_extra.get("warnings", []), note]
        name_node_ip(node_extra, self.ray.get("node_ip"))  # the node's IP as Ray told it, beside its name
        node_times = {k: v for k, v in node_extra.get("status_times", {}).items() if k != "Queued"}
        times = {**self.tracker.extra.get("status_times", {}), **node_times}  # Queued: when submitted here
        self.tracker.extra.update({k: v for k, v in node_extra.items()
                                   if k not in ("status_times", "warnings")})
        self.tracker.extra["status_times"] = times
        merge_warnings(self.tracker.extra, node_extra.get("warnings"))
        self.ray["node"] = result.get("node")
        self.tracker.extra["ray"] = self.ray
        fields: dict[str, Any] = {k: result.get(k) for k in ("exit_code", "image", "image_id", "container_id")
                                  if result.get(k) is not None}
        error = result.get("error") if "status" in result else self._no_status()
        if status is JobStatus.COMPLETED:
            registered = Registered()
            try:
                registered = register_outputs(self.ws, self.record, plan_from_dict(self.record.extra["plan"]))
            except RunnerError as err:  # the node uploaded the outputs whole: failed, not partial
                status, error = JobStatus.FAILED, err.render()
                failed_at_registration(self.tracker.extra)
                if isinstance(err, RegistrationFailed):  # those registered before it stay, in the record
                    registered = err.registered
            fields["registered_models"], fields["registered_data"] = registered.models, registered.data
            registered.record_extra(self.tracker.extra)
        for key in ("started_at", "ended_at"):
            if result.get(key):
                fields[key] = datetime.fromisoformat(result[key]).astimezone(UTC)
        fields.setdefault("ended_at", utcnow())
        self.tracker.set(status, error=error, outputs_partial=bool(result.get("outputs_partial")), **fields)
        return self.ws.get_job(self.record.name)

    def _no_status(self) -> str:
        node_log = self.ws.job_dir(self.record.name).node_log
        return (f"runner on the node recorded no status a job ends with ({', '.join(ENDS)}) in its result; "
                f"see `runner job stream --name {self.record.name}` and the node's log ({node_log})")

    def _lost(self, reason: str) -> JobRecord:
        """The cluster is gone (or forgot the job): the node's result if it wrote one, else Failed."""
        if self.streamer is not None:
            self.streamer.stop()
        self.sink.close()
        result = self._result()
        if result is not None:
            return self._record(result)
        outputs = ", ".join(f"{k} ({v})" for k, v in sorted(self.record.outputs.items()))
        error = (f"{reason} while the job was {self.ws.get_job(self.record.name).status.value}, and runner "
                 f"on the node recorded no result; what the job uploaded before stays where its outputs "
                 f"go: {outputs}")
        self.tracker.extra["ray"] = self.ray
        return self.tracker.finish(JobStatus.FAILED, error=error)


def merge_warnings(extra: dict[str, Any], run: Any) -> None:
    """Add the warnings the node's run recorded (``run``: a list of text; anything else is no warning)
    to ``extra["warnings"]``, after the plan's submit put there, each once."""
    known = [w for w in extra.get("warnings") or [] if isinstance(w, str)]
    new = [w for w in (run if isinstance(run, list) else []) if isinstance(w, str)]
    merged = list(dict.fromkeys([*known, *new]))
    if merged != list(extra.get("warnings") or []):
        extra["warnings"] = merged


def cancel_ray_job(ws: Workspace, record: JobRecord, *, wait_s: float) -> JobRecord:
    """Stop the Ray job. One still PENDING is recorded Canceled at once (Ray stops it should it start);
    a running one gets its grace period on the node, whose runner stops the container and finalizes the
    outputs: the follower records the end (waited for up to ``wait_s``; one is started if none runs)."""
    ray = record.extra["ray"]
    client = RayJobsClient(ray["address"])
    try:
        info = client.info(str(ray["submission_id"]))
        if info is not None and info["status"] not in TERMINAL:
            client.stop(str(ray["submission_id"]))
    except RayUnreachable as err:
        raise RunnerError(f"cannot cancel job '{record.name}': {err.message}",
                          hint="once the cluster answers again, cancel again; a follower marks the job "
                               f"Failed if the cluster stays away ({LOST_ENV}, default 60 s)") from err
    if info is not None and info["status"] == "PENDING":
        return StatusTracker(ws, record).finish(
            JobStatus.CANCELED, error=f"canceled while Queued on Ray compute '{ray['compute']}': it never "
                                      "started (Ray stops it should it start)")
    job_dir = ws.job_dir(record.name)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        current = ws.get_job(record.name)
        if current.status.is_terminal:
            return current
        respawn_follower(ws.root, job_dir, record.name)
        time.sleep(POLL_S)
    return ws.get_job(record.name)
