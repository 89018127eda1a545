"""A job's ``artifacts`` on a local datastore: written in place, or staged and moved into place.

A command on the host runs as runner's user: its artifacts on a local default datastore are written in
place (``written_in_place``: nothing to stage or move). A container's user may be anyone, so the folder
it writes must be writable by every user (``make_writable``): its artifacts are then staged like any
``upload`` output, in the job's owner-only folder, and moved into place when the job ends
(``move_artifacts_in``), never opened to others in the datastore (a workspace its user made beforehand
keeps its own mode: it may be 0755). They are logs, not a named output: when the others are not uploaded
(an unexpected error; a full disk, then only by a rename, which costs no space) they are moved into place
all the same, as a dead runner's recovery does. A run that may hold them back
(``OutputSet(stage_artifacts=True)``, for ``--no-upload-on-failure``) stages them too, and moves them
into place only when the job completes (``runner.jobs.materialize``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from mounts.base import Materialized, Target
from mounts.transfer.nofollow import drop_set_id_in, make_target_folder
from runner.errors import RunnerError
from runner.workspace.transfers import translated


@contextlib.contextmanager
def written_in_place(target: Target) -> Iterator[Materialized]:
    """The artifacts of a job on a local default datastore: written straight to their final folder
    (MLflow and the collected ./outputs, ./logs): nothing to stage, move or upload. The folder is made
    following no link below the datastore's root (a job may have made links there); once the job ended
    no file there keeps a set-user-ID or set-group-ID bit (the job could write them there itself)."""
    folder = make_target_folder(target)
    try:
        yield Materialized(host_path=folder, read_only=False)
    finally:
        drop_set_id_in(target)


def holds_files(folder: Path) -> bool:
    """Whether ``folder`` has any file under it (stops at the first; empty folders hold nothing)."""
    pending = [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    else:
                        return True
        except OSError:
            continue
    return False


def move_artifacts_in(staged: Path, target: Target, *, free_only: bool = False, quiet: bool = True
                      ) -> str | None:
    """Move a container's artifacts from ``staged`` to their local ``target`` with the ``upload`` mode's
    mover (no link followed below the datastore's root). None once nothing is left staged, else why they
    stay. ``free_only`` (the disk is full): only by renames, free of cost, so not to another filesystem."""
    from mounts.upload import UploadStrategy  # start-up cost: loaded only when there is something to move

    if target.local_path is None:
        return f"{target.url} is not on this machine"
    try:
        with translated(f"moving the artifacts to {target.url}"):
            if free_only and not _same_filesystem(staged, Path(os.path.normpath(target.local_path))):
                return f"{target.url} is on another filesystem, where moving them would copy them"
            if holds_files(staged):
                UploadStrategy(quiet=quiet).finalize(target, staged)
    except RunnerError as err:
        return err.message
    return None


def _same_filesystem(staged: Path, destination: Path) -> bool:
    """Whether ``staged`` and the deepest existing path on the way to ``destination`` share a filesystem."""
    for path in (destination, *destination.parents):
        if os.path.lexists(path):
            return os.lstat(path).st_dev == os.lstat(staged).st_dev
    return False
