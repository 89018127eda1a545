"""A full disk must not take the workspace down with it (see ``runner.workspace.db``): the wording of
"no space left", and the space reserve released to record a job's end.

``<ws>/.space-reserve`` is a preallocated file of ``RESERVE_BYTES``, made when a workspace is opened and
the space is there, deleted by the write that ends a job (its final status, recovery's) when that write
finds the disk full. Released, it gives those writes their few WAL pages and SQLite's 32 KiB -shm file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

RESERVE_NAME = ".space-reserve"
RESERVE_BYTES = 2 << 20
FREE_SPACE_HINT = "free space on that filesystem (`runner cache prune` empties the download cache)"


def mount_point(path: Path) -> Path:
    """The mount point of the filesystem holding ``path`` (``path`` itself when it cannot be told)."""
    current = path
    try:
        device = current.stat().st_dev
        while current != current.parent and current.parent.stat().st_dev == device:
            current = current.parent
    except OSError:
        return path
    return current


def no_space(path: Path) -> str:
    """``no space left on <mount point>`` (the wording of ``mounts.errors.no_space_message``, which
    this layer does not import)."""
    return f"no space left on {mount_point(path)}"


def disk_full(path: Path) -> bool:
    """True when the filesystem holding ``path`` has less than half the reserve left."""
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    free = (stats.f_bfree if os.geteuid() == 0 else stats.f_bavail) * stats.f_frsize
    return free < RESERVE_BYTES // 2


class SpaceReserve:
    """The reserve file of the workspace at ``root``."""

    def __init__(self, root: Path) -> None:
        self.path = root / RESERVE_NAME

    def ensure(self) -> None:
        """Make the reserve when it is missing and the space is there (best effort, one stat)."""
        if self.path.exists():
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            return  # another process makes it, or the workspace is read-only
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)  # blocks really taken (not a sparse file)
        except OSError:
            self.path.unlink(missing_ok=True)  # no room for it now: a later open makes it
        finally:
            os.close(fd)

    def release(self) -> bool:
        """Free the reserve when the disk is full; True when that made room."""
        if not disk_full(self.path.parent):
            return False
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        log.warning("the disk of workspace %s is full: released its space reserve to record a job's end",
                    self.path.parent)
        return True
