"""Where a job's secrets wait until its run starts: the values of its secret ``environment_variables``
(``runner.plan.env_secrets``), kept out of its record, in one owner-only file per job in the workspace's
secrets folder (``secrets/job-<name>.json``, 0600; never in the job's own folder, which its container
sees, nor in the database).

    keep(ws, "j1", {"CONN": "...;AccountKey=..."})   # at submission (nothing written for none)
    values = take(ws, "j1")                          # the run, once it took the job: read and removed
    forget(ws, "j1")                                 # a job ended without running (recovery, a cancel)

A pipeline keeps its steps' values the same way under its own name (``{step: {name: value}}``), taken by
its orchestrator. The one writer is ``runner.workspace.secret_files`` (as for the values an older
runner's records held, ``runner.workspace.old_job_secrets``). No link is followed: a secrets folder, or a
file at the job's file's place, that is a link is refused when the file is written (one
``StorageError``: the submission fails with it), is never read through, and only a link itself is removed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.errors import StorageError
from runner.workspace.db import Workspace
from runner.workspace.secret_files import keep_file, open_kept, remove_kept

log = logging.getLogger(__name__)


def _name(job: str) -> str:
    return f"job-{job}.json"


def kept_file(ws: Workspace, job: str) -> Path:
    return ws.secrets_dir / _name(job)


def keep(ws: Workspace, job: str, values: Mapping[str, Any]) -> None:
    """Write ``values`` as the job's owner-only secrets file, atomically (a new file renamed over its
    name); nothing when there are none. One ``StorageError`` when it cannot be written, or the secrets
    folder or the file's place is a link (refused: nothing written)."""
    if not values:
        return
    try:
        keep_file(ws.secrets_dir, _name(job), json.dumps(dict(values)).encode())
    except StorageError as err:
        raise StorageError(f"the secret environment_variables of job '{job}' cannot be kept: {err.message}",
                           hint=err.hint) from err


def take(ws: Workspace, job: str) -> dict[str, Any]:
    """The job's kept values, and the file removed ({} when there is none, or a link or anything but the
    file ``keep`` writes is at its place: removed too, never read through; {} when the secrets folder is
    a link: nothing read or removed through it)."""
    path = kept_file(ws, job)
    try:
        fd = open_kept(ws.secrets_dir, _name(job))
    except StorageError as err:
        log.warning("job %s: its secrets file %s was not read: %s", job, path, err.message)
        return {}
    except OSError as exc:  # a link (ELOOP), a folder: not ours to read
        log.warning("job %s: %s is not a secrets file (%s): not read", job, path, exc.strerror or exc)
        forget(ws, job)
        return {}
    if fd is None:
        return {}
    try:
        with os.fdopen(fd, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        log.warning("job %s: its secrets file %s could not be read: %s", job, path, exc)
        data = {}
    finally:
        forget(ws, job)
    return data if isinstance(data, dict) else {}


def forget(ws: Workspace, job: str) -> None:
    """Remove the job's secrets file (the name itself: a link is removed, not what it names; nothing
    through a secrets folder that is a link)."""
    remove_kept(ws.secrets_dir, _name(job))
