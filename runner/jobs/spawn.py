"""Starting the detached worker of a job, and the lock that says a Ray job's follower is alive.

``python -m runner.jobs.worker`` runs a local job, or follows a Ray job (``runner.jobs.ray_follow``).
A follower holds ``JobDir.follower_lock`` (``flock``) for as long as it lives: the kernel drops the lock
when the process dies, however it dies, so "is somebody following this Ray job?" needs no pid and no
start time, and two followers of one job can never both run (the second one exits).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from runner.workspace.jobdir import JobDir

RESPAWN_AFTER_S = 10.0  # a follower just started takes ~0.5 s to take its lock: don't start another


def spawn_worker(workspace_root: Path, job_dir: JobDir, name: str, *, upload_on_failure: bool = True) -> int:
    """Start ``python -m runner.jobs.worker`` for ``name`` in its own session (it outlives this
    command); its output goes to the job's ``runner.log``. Returns its pid."""
    command = [sys.executable, "-m", "runner.jobs.worker", "--workspace", str(workspace_root), name]
    if not upload_on_failure:
        command.append("--no-upload-on-failure")
    job_dir.root.mkdir(parents=True, exist_ok=True)
    with job_dir.runner_log.open("ab") as runner_log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=runner_log,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    return proc.pid


@contextlib.contextmanager
def follower_lock(job_dir: JobDir) -> Iterator[bool]:
    """Hold the job's follower lock while the block runs; yields False (and holds nothing) when
    another process follows the job already."""
    job_dir.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(job_dir.follower_lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def follower_alive(job_dir: JobDir) -> bool:
    """Some process holds the job's follower lock (or took the job over moments ago)."""
    if not job_dir.follower_lock.exists():
        return False
    with follower_lock(job_dir) as free:
        if not free:
            return True
    try:
        return time.time() - job_dir.follower_spawned.stat().st_mtime < RESPAWN_AFTER_S
    except OSError:
        return False


def respawn_follower(workspace_root: Path, job_dir: JobDir, name: str) -> int | None:
    """Start a follower for a Ray job nobody follows; None when one is alive or was just started."""
    if follower_alive(job_dir):
        return None
    job_dir.follower_spawned.touch()
    return spawn_worker(workspace_root, job_dir, name)
