"""A pin set's record (``mounts.pin``): what a sweep after its runner died must know, with no workspace.

Each set's folder (``<pin root>/<pid>-<start>-<label>``) holds ``set.json``, replaced whole each
time it changes and written before a pin is mounted: the job's log (``holder``) and the set's read-write
pins (a pin's name -> the folder it pins). A sweep keeps the set while a process holds a ``flock`` on the
log (the job's watchdog follows the container: ``mounts.flock_probe.held``), whichever workspace the job
and the sweeping command are in, and clears a read-write pin's files of set-ID bits before it lets it go.
A set with no record (made by a runner before records): each pin that is a folder mounted read-write is
cleared.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from mounts.flock_probe import held

RECORD, RECORD_NEW = "set.json", ".set.json.new"  # never a pin's name (``PinSet._mountpoint``: n, n+)


def write_record(folder: Path, holder: str | None, writable: dict[str, str]) -> None:
    """``set.json`` in ``folder``: ``holder`` and ``writable`` (a pin's name -> the folder it pins)."""
    text = json.dumps({"holder": holder, "writable": writable})
    fd = os.open(folder / RECORD_NEW, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    with os.fdopen(fd, "w") as new:
        new.write(text)
    os.replace(folder / RECORD_NEW, folder / RECORD)


def read_record(folder: Path) -> dict[str, object] | None:
    """A set's record; None when it has none (a runner before records) or it cannot be read."""
    try:
        fd = os.open(folder / RECORD, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd) as record:
            data = json.load(record)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def followed(record: dict[str, object] | None) -> bool:
    """Whether a process holds the log the record names (the job's watchdog: it follows the container)."""
    holder = record.get("holder") if record is not None else None
    return isinstance(holder, str) and held(holder)


def writable_pins(folder: Path, record: dict[str, object] | None) -> dict[str, str]:
    """A set's read-write pins (a pin's name -> the folder it pins, for messages): as its record says; a
    set with no record: each pin that is a folder (not a link) mounted read-write, shown as itself."""
    if record is not None:
        named = record.get("writable")
        return {str(k): str(v) for k, v in named.items()} if isinstance(named, dict) else {}
    found = {}
    for name in set(os.listdir(folder)) - {RECORD, RECORD_NEW}:
        point = folder / name
        with contextlib.suppress(OSError):
            if point.is_dir() and not point.is_symlink() and not os.statvfs(point).f_flag & os.ST_RDONLY:
                found[name] = str(point)
    return found


def let_go_of(folder: Path) -> None:
    """A set's folder once its pins are released: its record unlinked, then the folder (``rmdir``)."""
    for name in (RECORD_NEW, RECORD):
        with contextlib.suppress(OSError):
            os.unlink(folder / name)
    with contextlib.suppress(OSError):
        os.rmdir(folder)
