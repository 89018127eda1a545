"""No leaks, no lies: find jobs whose runner process died and clean up after them.

Run at the start of every ``runner job`` command (and by the client). A job whose status is not
terminal while its runner process is gone is marked Failed (its staged outputs are kept and named in
the error; a container's artifacts, which are logs and not a named output, are moved into place as the
runner would have: ``settle_artifacts``); its labeled container (or host process group) is removed and
any FUSE mount left under its job directory is unmounted.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from mounts.fuse.lifecycle import cleanup_stale_mounts
from mounts.pin import sweep_stale_pins
from runner.backends import get_backend
from runner.backends.base import JOB_LABEL, WORKSPACE_LABEL, Backend
from runner.backends.process import kill_group
from runner.errors import BackendError, RunnerError, StorageError
from runner.jobs.spawn import follower_alive, respawn_follower
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri, utc_text, utcnow
from runner.workspace.jobdir import JobDir

log = logging.getLogger(__name__)

ACTIVE = (JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING)
NO_UPLOAD_ON_FAILURE = "no_upload_on_failure"  # extra key: the run holds a failed job's artifacts back too
UNCLAIMED_GRACE = timedelta(seconds=30)


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/<pid>/stat), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # a zombie has finished running
        return None
    return fields[19]


def runner_alive(record: JobRecord) -> bool:
    if follows_ray(record) and record.job_dir:  # its follower holds a lock while it lives
        return follower_alive(JobDir(Path(record.job_dir)))
    pid = record.runner_pid
    if pid is None:
        return utcnow() - record.created_at < UNCLAIMED_GRACE
    started = process_start_time(pid)
    if started is None:
        return False
    expected = record.extra.get("runner_start")
    return expected is None or str(expected) == started


def reconcile(ws: Workspace) -> list[str]:
    """Mark every active job whose runner is gone as Failed (cleaning up after it); return their names.
    A Ray job whose follower is gone is not lost: it runs on its cluster, and a new follower takes it up
    (``recover``). The pins a dead runner left (``mounts.pin``) are released first."""
    for folder in sweep_stale_pins():
        log.info("released the pins of a runner that is gone: %s", folder)
    recovered = []
    for status in ACTIVE:
        for record in ws.list_jobs(status=status.value):
            if runner_alive(record):
                continue
            try:
                lost = recover(ws, record)
            except StorageError as err:  # a full disk: `job list`/`show` must still answer
                log.warning("job %s: its runner died, but its end cannot be recorded yet: %s",
                            record.name, err.message)
                continue
            if lost:
                recovered.append(record.name)
    return recovered


def follows_ray(record: JobRecord) -> bool:
    """A job that runs on a Ray cluster: this machine only follows it (``runner.jobs.ray_follow``)."""
    return "ray" in record.extra


def recover(ws: Workspace, record: JobRecord) -> bool:
    """After the runner of an active job died: a Ray job gets a new follower (False: not lost); any
    other job is cleaned up after and marked Failed (True)."""
    if follows_ray(record):
        respawn_follower(ws.root, job_dir_of(ws, record), record.name)
        return False
    release_resources(ws, record)
    mark_lost(ws, record)
    return True


def job_dir_of(ws: Workspace, record: JobRecord) -> JobDir:
    """The folder the record names (a job keeps it if the workspace moves), else the workspace's."""
    return JobDir(Path(record.job_dir)) if record.job_dir else ws.job_dir(record.name)


def release_resources(ws: Workspace, record: JobRecord) -> list[str]:
    """Remove the job's container or process group and unmount leftover mounts; return what was done.
    A container's output that its dead runner never wrote is appended to the job's log first (unless
    the job's watchdog is doing that: it holds the log, see ``log_keeper``)."""
    done: list[str] = []
    if follows_ray(record):
        return done  # its container and mounts are on a node: runner there releases them
    backend = get_backend(record.backend or "docker")
    job_dir = job_dir_of(ws, record)
    if backend.capabilities.host_process_group:
        done += _kill_process_group(record)
    else:
        done += _remove_containers(ws, backend, record.name, job_dir.std_log)
    if job_dir.root.exists():
        done += [f"unmounted {p}" for p in cleanup_stale_mounts(job_dir.root)]
        done += _remove_input_scratch(job_dir.inputs)
    for line in done:
        log.info("job %s: %s", record.name, line)
    return done


def _remove_input_scratch(inputs: Path) -> list[str]:
    """Downloaded inputs and mountpoints of a dead job (copies: the data is in its store or cache)."""
    if not inputs.is_dir():
        return []
    prefix = str(inputs.resolve()) + "/"
    with open("/proc/mounts") as mounts:
        if any(line.split()[1].startswith(prefix) for line in mounts):
            return []  # something is still mounted there: never delete through a mount
    shutil.rmtree(inputs, ignore_errors=True)
    return [f"removed input scratch {inputs}"]


@contextlib.contextmanager
def log_keeper(path: Path, *, wait: bool) -> Iterator[BinaryIO | None]:
    """The job's log, opened for appending and locked, positioned at its end: one process at a time
    appends what a dead runner's container printed after it. None (``wait=False``) when another
    process holds it: the job's watchdog, which is following the container itself."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = open(path, "ab")  # noqa: SIM115 - closed below, after the lock is released
    except OSError as exc:
        log.warning("cannot append to %s: %s", path, exc)
        yield None
        return
    with sink:
        try:
            fcntl.flock(sink, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        sink.seek(0, os.SEEK_END)
        yield sink


def _remove_containers(ws: Workspace, backend: Backend, name: str, std_log: Path) -> list[str]:
    with log_keeper(std_log, wait=False) as sink:
        try:
            removed = backend.remove_leftovers({JOB_LABEL: name, WORKSPACE_LABEL: str(ws.root)},
                                               log_to=sink)
        except BackendError as err:
            log.warning("cannot check for a leftover container of job %s: %s", name, err.message)
            return []
        except OSError as exc:  # the log could not be extended (a full disk): remove it anyway
            log.warning("could not keep the log tail of job %s: %s", name, exc)
            removed = backend.remove_leftovers({JOB_LABEL: name, WORKSPACE_LABEL: str(ws.root)})
    return [f"removed container {c[:12]}" for c in removed]


def job_process_group(record: JobRecord) -> int | None:
    """The process group of a host-process job when its leader is still the job's process (its start
    time recorded when it ran); None when it ended, never ran, or its pid now names another process."""
    if not record.container_id or not record.container_id.isdigit():
        return None
    pid = int(record.container_id)
    return pid if process_start_time(pid) == record.extra.get("process_start") else None


def _kill_process_group(record: JobRecord) -> list[str]:
    pid = job_process_group(record)
    return [f"killed process group {pid}"] if pid is not None and kill_group(pid) else []


def staged_outputs(ws: Workspace, record: JobRecord) -> dict[Path, tuple[int, list[str]]]:
    """Each output folder of the job that still holds files -> (how many, the first three by name);
    an output whose only content is empty folders (an rw_mount's mountpoint) holds nothing."""
    outputs = job_dir_of(ws, record).outputs
    if not outputs.is_dir():
        return {}
    staged = {}
    for folder in sorted(p for p in outputs.iterdir() if p.is_dir()):
        try:
            count, first = _files_in(folder)
        except OSError:  # unreadable (a mount that could not be released): it may hold data
            count, first = 1, ["(unreadable)"]
        if count:
            staged[folder] = (count, first)
    return staged


def _files_in(folder: Path) -> tuple[int, list[str]]:
    """How many files ``folder`` holds, and the first three by name (not all: there may be millions)."""
    count = 0
    first: list[str] = []
    for path in folder.rglob("*"):
        if not path.is_dir():
            count += 1
            first = sorted([*first, path.relative_to(folder).as_posix()])[:3]
    return count, first


def _kept(staged: dict[Path, tuple[int, list[str]]]) -> str:
    if not staged:
        return ""
    parts = [f"{folder} ({count} file{'s' if count != 1 else ''}: {', '.join(first)}"
             f"{' ...' if count > len(first) else ''})" for folder, (count, first) in staged.items()]
    return f"; staged outputs kept at: {'; '.join(parts)}"


def settle_artifacts(ws: Workspace, record: JobRecord) -> str | None:
    """A container's artifacts that its dead runner left staged, moved into place on a local default
    datastore as the runner would have (``runner.jobs.materialize.move_artifacts_in``: no link followed),
    one process at a time; not when its run held a failed job's outputs back (``--no-upload-on-failure``).
    None when none stay staged (or only on a remote store, held back as the named outputs are), else why."""
    staged = job_dir_of(ws, record).outputs / ARTIFACTS
    if record.extra.get(NO_UPLOAD_ON_FAILURE) or staged.is_symlink() or not staged.is_dir():
        return None
    from runner.jobs.materialize import move_artifacts_in, to_target  # start-up cost: only for them
    from runner.plan.stored import artifacts_binding
    from runner.workspace.resolve import Resolver

    try:
        resolved = Resolver(ws).resolve_output(default_artifacts_uri(record.name), job_name=record.name,
                                               output_name=ARTIFACTS)
        if resolved.local_path is None:
            return None
        folder = os.open(staged, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except (RunnerError, OSError) as exc:
        return exc.message if isinstance(exc, RunnerError) else str(exc)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # recovery and the job's watchdog may both get here
        target = to_target(resolved, artifacts_binding(record.name, job_dir_of(ws, record)))
        return move_artifacts_in(staged, target)
    finally:
        os.close(folder)


def mark_lost(ws: Workspace, record: JobRecord, *, status: JobStatus = JobStatus.FAILED,
              reason: str | None = None) -> JobRecord:
    not_moved = settle_artifacts(ws, record)
    if not_moved:
        log.warning("job %s: its artifacts stay staged: %s", record.name, not_moved)
    staged = staged_outputs(ws, record)
    kept = _kept(staged) + (f"; the artifacts could not be moved into place: {not_moved}" if not_moved
                            else "")
    if reason:
        error = reason + kept
    elif status is JobStatus.CANCELED:
        error = f"canceled; the runner process (pid {record.runner_pid}) was no longer running{kept}"
    else:
        error = (f"the runner process (pid {record.runner_pid}) died while the job was "
                 f"{record.status.value}{kept}")
    extra = dict(record.extra)
    extra.setdefault("status_times", {})[status.value] = utc_text(utcnow())
    if staged:  # what `job download` says of them: never uploaded, and where they are (runner.jobs.download)
        extra["held_back_outputs"] = {folder.name: str(folder) for folder in staged}
        extra["held_back_why"] = f"its runner process (pid {record.runner_pid}) died before uploading them"
    return ws.update_job(record.name, ending=True, status=status, ended_at=utcnow(), error=error,
                         outputs_partial=any(folder.name != ARTIFACTS for folder in staged), extra=extra)
