"""Where a job's secrets wait until its run starts: the values of its secret ``environment_variables``
(``runner.plan.env_secrets``), kept out of its record, in one owner-only file per job in the workspace's
secrets folder (``secrets/job-<name>.json``, 0600; never in the job's own folder, which its container
sees, nor in the database).

    keep(ws, "j1", {"CONN": "...;AccountKey=..."})   # at submission (nothing written for none)
    values = take(ws, "j1")                          # the run, once it took the job: read and removed
    forget(ws, "j1")                                 # a job ended without running (recovery, a cancel)

A pipeline keeps its steps' values the same way under its own name (``{step: {name: value}}``), taken by
its orchestrator. No link is followed: a link planted at the file's place is replaced when the file is
written, and is never read through.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.workspace.db import Workspace

log = logging.getLogger(__name__)

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a link, a FIFO: never opened as a file


def kept_file(ws: Workspace, job: str) -> Path:
    return ws.secrets_dir / f"job-{job}.json"


def keep(ws: Workspace, job: str, values: Mapping[str, Any]) -> None:
    """Write ``values`` as the job's owner-only secrets file, atomically (a new file renamed over whatever
    is at its place, a link too); nothing when there are none."""
    if not values:
        return
    path = kept_file(ws, job)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(values), handle)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def take(ws: Workspace, job: str) -> dict[str, Any]:
    """The job's kept values, and the file removed ({} when there is none, or a link or anything but the
    file ``keep`` writes is at its place: removed too, never read through)."""
    path = kept_file(ws, job)
    try:
        fd = os.open(path, _READ)
    except FileNotFoundError:
        return {}
    except OSError as exc:  # a link (ELOOP), a folder: not ours to read
        log.warning("job %s: %s is not a secrets file (%s): not read", job, path, exc.strerror or exc)
        forget(ws, job)
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
    """Remove the job's secrets file (the name itself: a link is removed, not what it names)."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        os.unlink(kept_file(ws, job))
