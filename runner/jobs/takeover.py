"""What a job's watchdog (``runner.jobs.watchdog``) does once the job's runner died: keep the
container's log, stop it at the job's timeout, then clean up and record the end as recovery would.
A host process (the process backend) is stopped at once: its output went through a pipe to the runner,
and it would run on with nobody reading it. A cancel meanwhile stops the container and leaves the rest to
the watchdog (``cancel_beside_watchdog``)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runner.backends import get_backend
from runner.backends.base import RunHandle, append_new
from runner.backends.job_tree import stop_recorded
from runner.backends.process import kill_group
from runner.errors import RunnerError
from runner.jobs.log_lock import let_go_within, log_keeper, removed_early
from runner.jobs.recovery import end_lost, job_dir_of, job_process_group, mark_lost, release_resources
from runner.jobs.supervise import LOG_DRAIN_S, cancel_grace_s
from runner.plan.stored import plan_from_dict
from runner.workspace.db import JobRecord, JobStatus, Workspace

log = logging.getLogger(__name__)

POLL_S = 0.5


@dataclass(frozen=True)
class Watched:
    exit_code: int | None  # None: unknown (the container was removed by someone else)
    timed_out: bool
    process_stopped: bool = False  # a host process, stopped because its runner died


def take_over(workspace: Path, job: str, run: str, deadline: float | None, grace_s: float,
              log_fd: int = -1) -> None:
    """Follow the run ``run`` of ``job`` to its end (stopping it at ``deadline``), then release it.
    ``log_fd``: the job's log, which this watchdog holds locked since its runner started it (``runner.
    jobs.log_lock``: recovery leaves the job to it meanwhile); -1: locked now, waiting for it."""
    ws = Workspace(workspace)
    record = ws.get_job(job)
    backend = get_backend(record.backend or "docker")
    if record.status.is_terminal or backend.capabilities.host_process_group:
        _let_go(log_fd)  # nothing to keep: a host process's output went to its runner
    if record.status.is_terminal:
        return  # the runner recorded the end before it died
    watched = None
    if backend.capabilities.host_process_group:
        log.info("job %s: its runner (pid %s) died; stopping its process group", job, record.runner_pid)
        watched = _stop_process_group(record, grace_s)
        record = ws.get_job(job)
        if record.status.is_terminal:
            return  # a runner command recovered the job meanwhile
        release_resources(ws, record)
    else:
        log.info("job %s: its runner (pid %s) died; keeping its container's log until it ends",
                 job, record.runner_pid)
        with _job_log(log_fd, job_dir_of(ws, record).std_log) as sink:
            handle = backend.reattach(run, log_offset=sink.tell() if sink is not None else 0)
            if handle is not None:
                watched = _watch(handle, sink, deadline, grace_s)
            record = ws.get_job(job)
            if record.status.is_terminal:
                return  # a runner command (a cancel) ended the job meanwhile
            release_resources(ws, record, log_to=sink)  # still holding the log: the job is this one's
        # the log let go: a runner command's recovery may end the job too from here (``end_lost``: once)
    timeout = plan_from_dict(record.extra["plan"]).timeout_s if "plan" in record.extra else None
    if end_lost(ws, record, reason=_reason(record.runner_pid, record.status.value, watched, timeout)):
        log.info("job %s recorded as Failed", job)
    else:  # a runner command (recovery, a cancel) recorded its end first: that one stands
        log.info("job %s: its end was recorded by another process", job)


def _let_go(log_fd: int) -> None:
    if log_fd >= 0:
        with contextlib.suppress(OSError):
            os.close(log_fd)


@contextlib.contextmanager
def _job_log(log_fd: int, path: Path) -> Iterator[BinaryIO | None]:
    """The job's log, locked, at its end: the one held since the watchdog started (``log_fd``), else
    locked now (``log_keeper``, waiting for whoever holds it); closed, and so let go, at the end."""
    try:
        held = os.fdopen(log_fd, "ab") if log_fd >= 0 else None
    except OSError as exc:
        log.warning("the job's log, held since the watchdog started, cannot be used: %s", exc)
        held = None
    if held is None:
        with log_keeper(path, wait=True) as sink:
            yield sink
        return
    with held:
        held.seek(0, os.SEEK_END)
        yield held


def cancel_beside_watchdog(ws: Workspace, record: JobRecord, *, reason: str | None = None) -> JobRecord:
    """Cancel a container job whose runner is gone while its watchdog follows the container (it holds the
    job's log: ``runner.jobs.recovery.watchdog_follows``), losing none of its output: the container is
    stopped (SIGTERM, the cancel's grace: it ends as the user asked), the watchdog appends what it printed,
    removes it and lets the log go, and then the end (Canceled) is recorded and the log copied whole into
    the artifacts. All that holding the job's lock (``end_lost``): the watchdog, done, finds the job ended.
    A watchdog that does not let go within ``LOG_WAIT_S``: the container is removed here, as for a job
    nobody follows, and the record says what may be missing (``removed_early``)."""

    def stop_then_wait(current: JobRecord) -> str | None:
        _stop_container(current)
        std_log = job_dir_of(ws, current).std_log
        if let_go_within(std_log):
            return None
        log.warning("job %s: its watchdog still holds its log: its container is removed without it",
                    current.name)
        release_resources(ws, current)
        return removed_early(std_log)

    log.info("job %s: its runner is gone and its watchdog follows its container: stopping the container, "
             "the watchdog keeps its output", record.name)
    return mark_lost(ws, record, status=JobStatus.CANCELED, reason=reason, first=stop_then_wait)


def _stop_container(record: JobRecord) -> None:
    """Stop the job's container; its watchdog sees it end. Not found (not recorded yet, or gone), or the
    stop failed: nothing stopped (the cancel waits for the watchdog all the same, then removes it)."""
    if not record.container_id:
        log.warning("job %s: its container is not recorded yet: it is not stopped", record.name)
        return
    try:
        handle = get_backend(record.backend or "docker").reattach(record.container_id)
        if handle is not None:
            handle.stop(cancel_grace_s())
    except Exception as exc:  # noqa: BLE001 - the engine's errors are many; the fallback removes it anyway
        log.warning("job %s: stopping its container failed: %s", record.name, exc)


def stop_run(workspace: Path, job: str, run: str, grace_s: float) -> None:
    """Stop the run of a job whose runner lives but did not stop it at its timeout."""
    record = Workspace(workspace).get_job(job)
    handle = get_backend(record.backend or "docker").reattach(run)
    if handle is not None and not record.status.is_terminal:
        handle.stop(grace_s)


def _watch(handle: RunHandle, sink: BinaryIO | None, deadline: float | None, grace_s: float) -> Watched:
    """Append the run's new output to ``sink`` while waiting for it to end; stop it at ``deadline``."""
    ended: list[int | None] = []

    def wait() -> None:
        try:
            ended.append(handle.wait())
        except (RunnerError, OSError) as exc:  # removed meanwhile (recovery of another command)
            log.info("the container is gone: %s", exc)
            ended.append(None)

    def pump() -> None:
        try:
            append_new(handle.logs(), sink) if sink is not None else None
        except Exception as exc:  # noqa: BLE001 - the log is best effort; the timeout is not
            log.warning("following the container's log stopped: %s", exc)

    waiter = threading.Thread(target=wait, name="wait", daemon=True)
    reader = threading.Thread(target=pump, name="logs", daemon=True)
    waiter.start()
    reader.start()
    timed_out = False
    while waiter.is_alive():
        if deadline is not None and not timed_out and time.time() >= deadline:
            log.info("the job's timeout passed: stopping its container (grace %.0f s)", grace_s)
            timed_out = True
            try:
                handle.stop(grace_s)
            except Exception as exc:  # noqa: BLE001 - removed meanwhile: nothing left to stop
                log.warning("stopping the container failed: %s", exc)
        waiter.join(POLL_S)
    reader.join(LOG_DRAIN_S)
    return Watched(ended[0] if ended else None, timed_out)


def _stop_process_group(record: JobRecord, grace_s: float) -> Watched | None:
    """SIGTERM the job's process group and SIGKILL what is left of it after ``grace_s``, then all the
    job started that left the group (its cgroup, its mark: ``job_tree``); None when the recorded process
    is not running any more (ended, or never recorded as Running: recovery's rule)."""
    try:
        return _stop_leader_group(record, grace_s)
    finally:
        if stopped := stop_recorded(record.extra.get("process_tree")):
            log.info("job %s: killed %d process(es) it had started outside its process group",
                     record.name, stopped)


def _stop_leader_group(record: JobRecord, grace_s: float) -> Watched | None:
    pid = job_process_group(record)
    if pid is None:
        return None
    # the group is the job's (its leader checked just now); while any member lives its id is not reused
    kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(pid):
        kill_group(pid, signal.SIGKILL)
    return Watched(exit_code=None, timed_out=False, process_stopped=True)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry))
    return members


def _reason(pid: int | None, status: str, watched: Watched | None, timeout: float | None) -> str:
    text = f"the runner process (pid {pid}) died while the job was {status}"
    if watched is None:
        return text
    if watched.process_stopped:
        return text + ("; the job's watchdog stopped its command (a host process: its output went to the "
                       "runner); what it printed until then is in user_logs/std_log.txt")
    if watched.timed_out:
        limit = f" ({timeout:g} s)" if timeout else ""
        text += f"; the job's watchdog stopped its container at its limits.timeout{limit}"
    elif watched.exit_code is not None:
        text += f"; its command ran on and exited with code {watched.exit_code}"
    return text + "; its whole output is in user_logs/std_log.txt"
