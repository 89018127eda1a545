"""One job's folder and what lives where in it: the only module that spells these names.

    <ws>/jobs/<job>/
        code/                  the job's snapshot of ``code``: its working directory
        code/outputs/ code/logs/   collected into the job's artifacts when it ends (Azure's ./outputs, ./logs)
        inputs/<name>/         an input's scratch (a download's copy, a mountpoint)
        outputs/<name>/        an output's staging (an upload's folder, an rw_mount's mountpoint)
        user_logs/std_log.txt  what the command printed (``runner job stream``)
        runner.log             the background worker's own log
        node_runner.log        a Ray job's: the log of runner on the node that ran it
        follower.lock          a Ray job's: held by the process following it (``runner.jobs.spawn``)
        ray_log.offset         a Ray job's: how much of Ray's log the job's log holds
        mlruns/                the job's MLflow file store
        etc_hosts              a container's /etc/hosts when it has no network (``container_args``)

A container may run as another user than the runner (``--user`` in ``resources.docker_args``, an image's
``USER``): the folders a job writes (``code/`` and its ``outputs/``, ``logs/``, an output's staging, the
artifacts' staging) are made writable by every user (``make_writable``), and the job's folder above them
owner-only whatever its mode was (``make_private``), so that no other user of the host reaches them (the
container's binds do not go through it). No folder outside it is made writable by every user: a
workspace its user made beforehand keeps its mode (0755, say), and the datastore folders in it with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from runner.modes import Direction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobDir:
    root: Path

    def __fspath__(self) -> str:
        return os.fspath(self.root)

    def __str__(self) -> str:
        return str(self.root)

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def code_outputs(self) -> Path:
        return self.code / "outputs"

    @property
    def code_logs(self) -> Path:
        return self.code / "logs"

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    def scratch(self, direction: Direction, name: str) -> Path:
        """Where a binding's data is materialized: ``inputs/<name>`` or ``outputs/<name>``."""
        return (self.inputs if direction is Direction.INPUT else self.outputs) / name

    @property
    def user_logs(self) -> Path:
        return self.root / "user_logs"

    @property
    def std_log(self) -> Path:
        return self.user_logs / "std_log.txt"

    @property
    def runner_log(self) -> Path:
        return self.root / "runner.log"

    @property
    def node_log(self) -> Path:
        return self.root / "node_runner.log"

    @property
    def follower_lock(self) -> Path:
        return self.root / "follower.lock"

    @property
    def ray_log_offset(self) -> Path:
        """How many bytes of the Ray job's log went into ``std_log`` (a restarted follower goes on)."""
        return self.root / "ray_log.offset"

    @property
    def follower_spawned(self) -> Path:
        return self.root / "follower.spawned"

    @property
    def mlruns(self) -> Path:
        return self.root / "mlruns"

    @property
    def etc_hosts(self) -> Path:
        return self.root / "etc_hosts"

    def make_code_dirs(self) -> None:
        """``code/`` with the ``outputs/`` and ``logs/`` folders Azure gives every job, all of it
        (the snapshot too: the working directory is the job's) and the MLflow store when it exists
        writable by the container's user."""
        for folder in (self.code_outputs, self.code_logs):
            folder.mkdir(parents=True, exist_ok=True)
        self.make_private()
        for tree in (self.code, self.mlruns):
            _open_to_all(tree)

    def remove_empty_scratch(self) -> None:
        """Drop the ``inputs/`` and ``outputs/`` folders the strategies left empty, any depth (a job can
        nest folders deeper than Python's recursion limit), deepest first; a folder holding anything
        (staged data kept), a link or a mountpoint stays. Never raises: a cleanup, warned about."""
        for group in (self.inputs, self.outputs):
            try:
                if not group.is_dir() or group.is_symlink():
                    continue
                folders = _folders_below(group)
            except OSError as exc:
                log.warning("the empty folders of %s were not removed: %s", group, exc)
                continue
            for folder in reversed(folders):  # listed parents first: removed children first
                with contextlib.suppress(OSError):  # not empty (kept data), or a mountpoint
                    os.rmdir(folder)
            with contextlib.suppress(OSError):
                group.rmdir()

    def make_private(self) -> None:
        """The job's folder, made when missing: owner-only (what is under it may be writable by anyone)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.chmod(0o700)


def _folders_below(top: Path) -> list[str]:
    """The folders below ``top`` (not links to folders), each before the ones in it; an explicit stack,
    no recursion (``os.walk`` and ``Path.rglob`` recurse once per level in Python 3.11)."""
    found: list[str] = []
    todo = [os.fspath(top)]
    while todo:
        with os.scandir(todo.pop()) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    found.append(entry.path)
                    todo.append(entry.path)
    return found


def _open_to_all(top: Path) -> None:
    """Every folder from ``top`` down writable by every user, and every file readable and writable, any
    depth (an explicit stack: a code snapshot can nest deeper than Python's recursion limit); a link is
    neither changed nor followed (``top`` too), a folder that cannot be listed is skipped (as ``os.walk``
    does). Each folder is opened to all before it is listed, so one made unreadable is listed too."""
    if not top.is_dir() or top.is_symlink():
        return
    todo = [os.fspath(top)]
    while todo:
        folder = todo.pop()
        make_writable(Path(folder))
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
            elif not entry.is_symlink():
                os.chmod(entry.path, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) | 0o666)


def make_writable(folder: Path) -> None:
    """A folder a job writes into, writable whatever user its container runs as (``--user``, an image's
    ``USER``); it lives under an owner-only folder (``JobDir.make_private``), so no other user of the
    host reaches it."""
    folder.chmod(0o777)
