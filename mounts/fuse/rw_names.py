"""Names in a read-write mount (``mounts.fuse.rw``): what its folders never list, and what it never makes.

A stored name with an empty, ``.`` or ``..`` segment (Azure keeps ``a/..\\x`` as ``a/../x``) is no entry
of a folder, as in a read-only mount (``mounts.fuse.ro.NOT_NAMES``): listed, it would be a second ``..``
or ``.`` or a nameless entry. ``HiddenNames`` leaves it out and keeps the count and a few of them, for the
mount's one warning (``mounts.ro_mount.hidden_note``).

The kernel never hands the mount a name ``.``, ``..`` or with a ``/``; but Azure Blob Storage takes a
backslash for a folder separator (``mounts.upload.separates_at_backslash``), so a file, folder or rename
target the job names ``..\\..\\x`` would be stored as ``<prefix>/../../x``: out of the output's folder for
whatever reads it back. ``refuse_name`` fails such a name with ``EINVAL`` before anything is staged or
stored (the upload refuses it too: ``mounts.rw_mount._store_upload``).
"""

from __future__ import annotations

import errno
import os
import threading

from mounts.fuse.binding import FuseOSError
from mounts.fuse.ro import HIDDEN_SHOWN, NOT_NAMES
from mounts.transfer.state import bad_segment


class HiddenNames:
    """The stored names a mount's listings left out (``NOT_NAMES``): how many, and the first few."""

    def __init__(self, backslash_separates: bool) -> None:
        self.backslash_separates = backslash_separates  # the store takes a backslash for a ``/``
        self.shown: list[str] = []
        self.count = 0
        self._lock = threading.Lock()

    def hides(self, folder: str, name: str) -> bool:
        """Whether ``name``, listed in ``folder`` (a mount path), is left out (and counted)."""
        if name not in NOT_NAMES:
            return False
        with self._lock:
            self.count += 1
            if len(self.shown) < HIDDEN_SHOWN:
                self.shown.append(f"{folder.rstrip('/')}/{name}".lstrip("/"))
        return True

    def refuse_name(self, path: str) -> None:
        """``EINVAL`` for a mount path the store would keep with an empty, ``.`` or ``..`` segment."""
        rel = path.strip("/")
        if self.backslash_separates and bad_segment(rel.replace("\\", "/")) is not None:
            raise FuseOSError(errno.EINVAL)


def parent_of(path: str) -> str:
    return os.path.dirname(path.rstrip("/")) or "/"


def name_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
