"""No leaks, no lies: find jobs whose runner process died and clean up after them.

Run at the start of every ``runner job`` command (and by the client). A job whose status is not
terminal while its runner process is gone is marked Failed (its staged outputs are kept and named in
the error; its artifacts, which are logs and not a named output, get its ./outputs, ./logs and user_logs
and are moved into place as the runner would have: ``settle_artifacts``); its labeled container (or host
process group) is removed and any FUSE mount left under its job directory is unmounted. A container
job whose watchdog lives (it holds the job's log: ``runner.jobs.log_lock``) is left to it: the watchdog
follows the container to its end and does all that itself.

The job's watchdog, a runner command and a cancel may all end the same job: its end is written once
(``end_lost``: the first writer records it, holding a lock on the job's folder; another finds the job
ended and does nothing). A job's folders may nest deeper than Python's recursion limit: they are listed
and removed with ``runner.workspace.trees``' loops (no link followed).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from mounts.fuse.lifecycle import cleanup_stale_mounts
from mounts.pin import sweep_stale_pins
from runner.backends import get_backend
from runner.backends.base import JOB_LABEL, WORKSPACE_LABEL, Backend, Capabilities
from runner.backends.job_tree import stop_recorded
from runner.backends.process import kill_group
from runner.errors import BackendError, RunnerError, StorageError
from runner.jobs.log_lock import copied_early, held, log_keeper, quiet_log
from runner.jobs.spawn import follower_alive, respawn_follower
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri, utc_text, utcnow
from runner.workspace.job_secrets import forget
from runner.workspace.jobdir import JobDir
from runner.workspace.trees import is_folder, list_files, remove_tree

log = logging.getLogger(__name__)

ACTIVE = (JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING)
# extra key: whether the run holds a failed job's artifacts back too (--no-upload-on-failure), which every
# run now writes, True or False; runners before 7bf7da6 wrote nothing and later ones only True, so a
# record without it cannot say (``said_held_back``)
NO_UPLOAD_ON_FAILURE = "no_upload_on_failure"
LINKS_NOT_FOLLOWED = "links_not_followed"  # extra key, as ``runner.jobs.run`` writes it at a normal end
NOT_LISTED = "(not all listed: "  # the last of the first names of an output that could not be listed
UNCLAIMED_GRACE = timedelta(seconds=30)
First = Callable[[JobRecord], str | None]  # what ``end_lost`` does first, holding the job's lock


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
    """Mark every active job whose runner is gone as Failed (cleaning up after it); return their names. A
    Ray job is not lost (a new follower takes it up: ``recover``). Then dead runners' pins (any workspace's:
    ``mounts.pin``) are cleared of set-ID bits and released, but a job's its watchdog follows (its log)."""
    gone = [record for status in ACTIVE for record in ws.list_jobs(status=status.value)
            if not runner_alive(record)]
    followed = tuple(f"{r.runner_pid}-" for r in gone if r.runner_pid and watchdog_follows(ws, r))
    recovered = []
    for record in gone:
        try:
            if recover(ws, record):
                recovered.append(record.name)
        except StorageError as err:  # a full disk: `job list`/`show` must still answer
            log.warning("job %s: its runner died, but its end cannot be recorded yet: %s",
                        record.name, err.message)
    # once their containers are gone; ``followed``: a set with no record of its job's log (older runner)
    sweep_stale_pins(keep=lambda name: name.startswith(followed))
    return recovered


def follows_ray(record: JobRecord) -> bool:
    """A job that runs on a Ray cluster: this machine only follows it (``runner.jobs.ray_follow``)."""
    return "ray" in record.extra


def recover(ws: Workspace, record: JobRecord) -> bool:
    """After the runner of an active job died: a Ray job gets a new follower (False: not lost); a
    container job whose watchdog lives is left to it (False: it follows the container to its end, then
    cleans up and records the end itself); any other job is cleaned up after and marked Failed (True;
    False when another process, its watchdog, recorded its end meanwhile)."""
    if follows_ray(record):
        respawn_follower(ws.root, job_dir_of(ws, record), record.name)
        return False
    if watchdog_follows(ws, record):
        log.info("job %s: its runner (pid %s) died, but its watchdog lives and follows its container (it "
                 "holds the job's log): the container and the job's end are left to it",
                 record.name, record.runner_pid)
        return False

    def release(current: JobRecord) -> None:
        """Once ``end_lost`` found the job as judged (not one its worker took since it was read),
        holding its lock: its container or process group and mounts, as its record is now."""
        release_resources(ws, current)

    return end_lost(ws, record, first=release) is not None


def watchdog_follows(ws: Workspace, record: JobRecord) -> bool:
    """Whether a container job's watchdog lives and keeps the job (it holds the job's log: ``log_lock``);
    a host process's watchdog has nothing to follow: it stops it at once, as recovery does."""
    if follows_ray(record) or get_backend(record.backend or "docker").capabilities.host_process_group:
        return False
    return held(job_dir_of(ws, record).std_log)


def job_dir_of(ws: Workspace, record: JobRecord) -> JobDir:
    """The folder the record names (a job keeps it if the workspace moves), else the workspace's."""
    return JobDir(Path(record.job_dir)) if record.job_dir else ws.job_dir(record.name)


def release_resources(ws: Workspace, record: JobRecord, *, log_to: BinaryIO | None = None) -> list[str]:
    """Remove the job's container or process group and unmount leftover mounts; return what was done.
    A container's output that its dead runner never wrote is appended to the job's log first: ``log_to``,
    the log its caller holds (the watchdog), else the log when nobody else holds it (``log_keeper``; a
    live watchdog does that itself)."""
    done: list[str] = []
    if follows_ray(record):
        return done  # its container and mounts are on a node: runner there releases them
    backend = get_backend(record.backend or "docker")
    job_dir = job_dir_of(ws, record)
    if backend.capabilities.host_process_group:
        done += _kill_process_group(record)
    else:
        done += _remove_containers(ws, backend, record.name, job_dir.std_log, log_to)
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
    if remove_tree(inputs):  # any depth, no link followed; what stays is named in its warning
        return [f"removed input scratch {inputs}"]
    return [f"removed input scratch {inputs}, but not all of it"]


def _remove_containers(ws: Workspace, backend: Backend, name: str, std_log: Path,
                       log_to: BinaryIO | None) -> list[str]:
    kept = contextlib.nullcontext(log_to) if log_to is not None else log_keeper(std_log, wait=False)
    with kept as sink:
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
    done = [f"killed process group {pid}"] if pid is not None and kill_group(pid) else []
    if stopped := stop_recorded(record.extra.get("process_tree")):  # what left the group (``job_tree``)
        done.append(f"killed {stopped} process(es) the job had started outside its process group")
    return done


def staged_outputs(ws: Workspace, record: JobRecord) -> dict[Path, tuple[int, list[str]]]:
    """Each output folder of the job that still holds files -> (how many, the first three by name);
    an output whose only content is empty folders (an rw_mount's mountpoint) holds nothing. A folder
    that could not be listed whole (unreadable, or paths longer than the system allows) may hold more:
    it is named, with ``NOT_LISTED`` and why as the last of its names."""
    outputs = job_dir_of(ws, record).outputs
    if not is_folder(outputs):
        return {}
    staged = {}
    for folder in sorted(p for p in outputs.iterdir() if is_folder(p)):
        # how many files, the first three by name (not all: there may be millions); unreadable (a mount
        # that could not be released) or too deep: it may hold more
        found = list_files(folder, keep=3)
        first = found.first if found.unlisted is None else [*found.first, f"{NOT_LISTED}{found.unlisted})"]
        if found.count or first:
            staged[folder] = (found.count, first)
    return staged


def _short(name: str) -> str:
    """A name for a message: one thousands of characters long (a deep tree's) keeps its ends."""
    return name if len(name) <= 160 else f"{name[:60]}...{name[-80:]} ({len(name)} characters)"


def _kept(staged: dict[Path, tuple[int, list[str]]]) -> str:
    if not staged:
        return ""
    parts = []
    for folder, (count, first) in staged.items():
        listed = [name for name in first if not name.startswith(NOT_LISTED)]
        more = " ..." if count > len(listed) else ""
        files = f"{count} file{'s' if count != 1 else ''}" + ("" if listed == first else " listed")
        parts.append(f"{folder} ({files}: {', '.join(_short(name) for name in first)}{more})")
    return f"; staged outputs kept at: {'; '.join(parts)}"


def said_held_back(ws: Workspace, record: JobRecord) -> bool | None:
    """Whether the run held a failed job's artifacts back (``--no-upload-on-failure``); None when its
    record cannot say: written by a runner before 7bf7da6, or since by one that wrote the key only when
    True. A pipeline step's own pipeline record says it then (its plan holds ``upload_on_failure``)."""
    if NO_UPLOAD_ON_FAILURE in record.extra:
        return bool(record.extra[NO_UPLOAD_ON_FAILURE])
    parent = record.spec.get("parent_job_name")
    if isinstance(parent, str):
        try:
            plan = ws.get_job(parent).extra.get("pipeline")
        except RunnerError:
            return None
        if isinstance(plan, dict) and isinstance(plan.get("upload_on_failure"), bool):
            return not plan["upload_on_failure"]
    return None


def settle_artifacts(ws: Workspace, record: JobRecord, status: JobStatus) -> tuple[list[str], list[str]]:
    """What a dead runner left undone with the job's artifacts, done as its end would have: ./outputs,
    ./logs, user_logs and MLflow's logged models copied into them (``runner.jobs.artifacts.
    collect_left_behind``: no link followed, the originals kept), and staged ones moved into place on a
    local default datastore (``runner.jobs.materialize.move_artifacts_in``), one process at a time.
    Not moved when the run held a failed job's outputs back (``--no-upload-on-failure``) or its record
    cannot say whether it did (``said_held_back``), nor to a remote store (held back as the named outputs
    are). Returns the links met, and what stays undone and why (for the error)."""
    from runner.jobs.materialize import move_artifacts_in, to_target  # start-up cost: for a job that ran
    from runner.plan.stored import artifacts_binding
    from runner.workspace.resolve import Resolver

    job_dir = job_dir_of(ws, record)
    staged = job_dir.outputs / ARTIFACTS
    try:
        in_container = (capabilities := get_backend(record.backend or "docker").capabilities).in_container
        resolved = Resolver(ws).resolve_output(default_artifacts_uri(record.name), job_name=record.name,
                                               output_name=ARTIFACTS)
    except RunnerError as err:
        return [], [f"its artifacts were left as they are: {err.message}"] if is_folder(staged) else []
    local = resolved.local_path is not None
    hold = said_held_back(ws, record)
    if hold is None and local and not in_container:  # a host process's are staged only to be held back
        hold = is_folder(staged)
    folder = staged if hold is not False or in_container or not local else Path(str(resolved.local_path))
    if not is_folder(folder):
        return [], []  # the job never got as far as its artifacts (or they are moved in already)
    links, undone = _collect(record, job_dir, folder, status, capabilities)
    if folder != staged or not local or hold:
        return links, undone
    if hold is None:
        return links, [*undone, "its artifacts stay staged: its record does not say whether it ran with "
                                "--no-upload-on-failure (an older runner started it), so they were not "
                                "moved into the datastore"]
    try:
        locked = os.open(staged, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        return links, [*undone, f"the artifacts could not be moved into place: {exc}"]
    try:
        fcntl.flock(locked, fcntl.LOCK_EX)  # the ends are serialized already (``end_lost``): belt and braces
        target = to_target(resolved, artifacts_binding(record.name, job_dir))
        why = move_artifacts_in(staged, target)
    finally:
        os.close(locked)
    if why:
        log.warning("job %s: its artifacts stay staged: %s", record.name, why)
        undone.append(f"the artifacts could not be moved into place: {why}")
    return links, undone


def _collect(record: JobRecord, job_dir: JobDir, folder: Path, status: JobStatus,
             capabilities: Capabilities) -> tuple[list[str], list[str]]:
    """``collect_left_behind`` into ``folder``: the links met, and what was not done (for the error). A
    container's log may still be appended to (its watchdog's last lines): copied once it is not."""
    from runner.jobs.artifacts import collect_left_behind  # start-up cost: only for a job that ran

    quiet = contextlib.nullcontext(True) if capabilities.host_process_group else quiet_log(job_dir.std_log)
    with quiet as whole:
        try:
            links = collect_left_behind(record, job_dir, folder, status,
                                        in_container=capabilities.in_container)
        except OSError as exc:
            return [], [f"./outputs, ./logs and user_logs were not all copied into its artifacts ({exc}); "
                        f"they are kept in {job_dir.code} and {job_dir.user_logs}"]
    return links, [] if whole else [copied_early(job_dir.std_log)]


@contextlib.contextmanager
def _ending(ws: Workspace, record: JobRecord) -> Iterator[None]:
    """One process at a time ends the job: a lock on its folder (on the workspace's jobs folder for a job
    that has none), held until its end is written."""
    try:
        folder = os.open(job_dir_of(ws, record).root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                         os.O_CLOEXEC)
    except OSError:
        folder = os.open(ws.jobs_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the lock


job_lock = _ending  # the same lock for another writer of an ended job (``runner.jobs.finalize_later``)


def mark_lost(ws: Workspace, record: JobRecord, *, status: JobStatus = JobStatus.FAILED,
              reason: str | None = None, first: First | None = None) -> JobRecord:
    """End a job whose runner is gone (``end_lost``); its final record, whoever wrote it."""
    return end_lost(ws, record, status=status, reason=reason, first=first) or ws.get_job(record.name)


def end_lost(ws: Workspace, record: JobRecord, *, status: JobStatus = JobStatus.FAILED,
             reason: str | None = None, first: First | None = None) -> JobRecord | None:
    """Record the end of a job whose runner is gone, once: holding the job's lock (``_ending``), and only
    when the job, read again, is not ended yet (the job's watchdog, a runner command's recovery and a
    cancel may each come with a record read while it ran) and is as the caller judged it (not a Queued job
    its worker took since, nor one its submitter handed to its worker since: another runner, whose life
    the caller did not judge); ``first(job)`` then does what must come before
    (``runner.jobs.takeover.cancel_beside_watchdog``; what it returns is said in the record). Its artifacts
    are settled next (``settle_artifacts``); the record names the staged outputs kept. None when another
    had ended it: nothing is done."""
    with _ending(ws, record):
        current = ws.get_job(record.name)
        if current.status.is_terminal or current.status is not record.status:  # or a runner took it since
            log.info("job %s: %s already: nothing to do", record.name, current.status.value)
            return None
        if _runner_of(current) != _runner_of(record):  # handed on since: the judged runner is not its own
            log.info("job %s: its runner is pid %s now, not %s: left to it", record.name, current.runner_pid,
                     record.runner_pid)
            return None
        notes = [note] if first is not None and (note := first(current)) else []
        return _end(ws, current, status, reason, *notes)


def _runner_of(record: JobRecord) -> tuple[int | None, object]:
    """The process that runs the job: its pid and its start time (a pid the kernel gave again differs)."""
    return record.runner_pid, record.extra.get("runner_start")


def _end(ws: Workspace, record: JobRecord, status: JobStatus, reason: str | None,
         *notes: str) -> JobRecord | None:
    forget(ws, record.name)  # the secret values of a job that never started (runner.workspace.job_secrets)
    links, undone = settle_artifacts(ws, record, status)
    staged = staged_outputs(ws, record)
    kept = _kept(staged) + "".join(f"; {note}" for note in [*notes, *undone])
    if reason:
        error = reason + kept
    elif status is JobStatus.CANCELED:
        error = f"canceled; the runner process (pid {record.runner_pid}) was no longer running{kept}"
    else:
        error = (f"the runner process (pid {record.runner_pid}) died while the job was "
                 f"{record.status.value}{kept}")
    # only what the end adds, merged in its own write: a key written since ``record`` was read is kept
    added: dict[str, Any] = {
        "status_times": {**record.extra.get("status_times", {}), status.value: utc_text(utcnow())}}
    if links:
        added[LINKS_NOT_FOLLOWED] = [*record.extra.get(LINKS_NOT_FOLLOWED, []), *links]
    if staged:  # what `job download` says of them: never uploaded, and where they are (runner.jobs.download)
        added["held_back_outputs"] = {folder.name: str(folder) for folder in staged}
        added["held_back_why"] = f"its runner process (pid {record.runner_pid}) died before uploading them"
    return ws.update_job(record.name, ending=True, only_from={record.status}, status=status,  # (never over
                         ended_at=utcnow(), error=error, merge_extra=added,  # a status another process wrote)
                         outputs_partial=any(folder.name != ARTIFACTS for folder in staged))
