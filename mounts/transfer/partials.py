"""The scratch file a copy into a local target writes before it renames it into place, and the removal of
one whose writer died (a runner SIGKILLed during a cross-filesystem copy: ``NoFollowFolders.copy_in``).

A scratch file is named ``.runner-<12 hex digits>.partial`` and made in the anchor folder (a local
datastore's root; the folder above the output's own for a path the user named), never inside an output's
folder, so no output listed, registered or read back holds one (unless the output is that anchor itself).
Its writer holds an exclusive ``flock`` on it from just after it is created until after it is renamed into
place; the kernel drops that lock when the writer dies, however it dies.

``sweep_partials`` (run by the next write into that folder: ``mounts.upload``) removes a scratch file only
when all of these hold: its name is exactly of that form; it is a regular file (a link is never followed
nor removed, a FIFO or device never opened); it has not changed for ``STALE_AFTER_S`` (its change time
too: a live copy writes to it, and the lock is taken only just after the file is made); its lock can be
taken at once (no live process holds it); and the name still names the file that was locked.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import stat
import time

log = logging.getLogger(__name__)

PARTIAL = re.compile(r"\.runner-[0-9a-f]{12}\.partial")
STALE_AFTER_S = 60.0  # far longer than the moment between a scratch file's creation and its lock


def scratch_name() -> str:
    return f".runner-{secrets.token_hex(6)}.partial"


def is_partial(name: str) -> bool:
    return PARTIAL.fullmatch(name) is not None


def sweep_partials(folder_fd: int, *, now: float | None = None) -> list[str]:
    """Remove the stale scratch files directly in the folder ``folder_fd`` (see the module); their names.
    The folder is read as a stream (bounded memory, however many names it has); nothing below it is read."""
    now = time.time() if now is None else now
    removed = []
    try:
        with os.scandir(folder_fd) as entries:
            for entry in entries:
                if is_partial(entry.name) and _remove_if_stale(folder_fd, entry.name, now):
                    removed.append(entry.name)
    except OSError as exc:  # the folder cannot be read: the write itself will say what is wrong
        log.debug("partial copies not swept: %s", exc)
    if removed:
        log.info("removed %d partial cop%s left by a runner that died while copying: %s", len(removed),
                 "y" if len(removed) == 1 else "ies", ", ".join(removed[:5]))
    return removed


def _remove_if_stale(folder_fd: int, name: str, now: float) -> bool:
    try:
        named = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        if not stat.S_ISREG(named.st_mode):  # a link, a folder, a FIFO, a device: never opened
            return False
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    except OSError:  # gone meanwhile, unreadable: left as it is
        return False
    try:
        opened = os.fstat(fd)
        changed = max(opened.st_mtime, opened.st_ctime)
        if _identity(opened) != _identity(named) or now - changed < STALE_AFTER_S:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its writer is alive
            return False
        if _identity(os.stat(name, dir_fd=folder_fd, follow_symlinks=False)) != _identity(opened):
            return False  # renamed into place or replaced meanwhile: not the file locked
        os.unlink(name, dir_fd=folder_fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino
