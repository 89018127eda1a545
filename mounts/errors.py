"""Errors of the materialization layer. ``runner.workspace.transfers.translated`` turns them into
``runner.errors`` at one boundary; ``mounts`` never imports ``runner``."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class MountsError(Exception):
    """Base class for errors raised by ``mounts``."""


class MountFailed(MountsError):
    """A FUSE mount could not be made, did not become ready in time, or could not be unmounted."""


class TransferFailed(MountsError):
    """Some files could not be transferred; ``staged`` keeps what was not made durable; ``hint`` says
    what to do (when the strategy knows better than the generic advice); ``total``: how many files the
    transfer had, when it counted them (``failed`` are of those)."""

    def __init__(self, message: str, failed: list[str], staged: Path | None = None,
                 hint: str | None = None, *, disk_full: bool = False, total: int | None = None,
                 reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.failed = failed
        self.reasons = reasons  # why files failed, when the message does not say it (rw_mount's uploads)
        self.staged = staged
        self.hint = hint
        self.disk_full = disk_full  # a local write found no space left
        self.total = total


class LinkNotFollowed(MountsError):
    """A symbolic link (or something else than a folder) where the runner was to write into a folder of a
    local target: a job may have made it, so the runner does not write through it
    (``mounts.transfer.nofollow``)."""


def is_no_space(exc: BaseException) -> bool:
    """True for "no space left on device" and "disk quota exceeded"."""
    return isinstance(exc, OSError) and exc.errno in NO_SPACE


def mount_point(path: Path | str) -> Path:
    """The mount point of the filesystem holding ``path`` (or its nearest existing parent)."""
    current = Path(os.path.abspath(path))
    while not current.exists() and current != current.parent:
        current = current.parent
    device = current.stat().st_dev
    while current != current.parent and current.parent.stat().st_dev == device:
        current = current.parent
    return current


def no_space_message(path: Path | str) -> str:
    """``no space left on <mount point>`` naming what was being written (the one wording for a full
    disk, whoever meets it)."""
    try:
        where = mount_point(path)
    except OSError:
        where = Path(path)
    if where == Path(path):
        return f"no space left on {where}"
    return f"no space left on {where} (writing {path})"


# the lean client's words (``mounts.stores.azure``) for a write Azure answered 404 ContainerNotFound (the
# container named first in its path) or the DFS API's FilesystemNotFound
_CONTAINER_GONE = re.compile(r"(?:write|commit|write block \d+ of) /?([^/\s]+)/\S*: HTTP 404 "
                             r"(?:ContainerNotFound|FilesystemNotFound)")


def missing_container(failure: TransferFailed) -> str | None:
    """The container a failed transfer was told does not exist, from its message and why each file failed
    (``reasons``): its name in the lean client's words, "" when only Azure's code says it (the SDK's
    ``ErrorCode:ContainerNotFound``), else None (no file failed for that)."""
    texts = (str(failure), *failure.reasons)
    for text in texts:
        if (found := _CONTAINER_GONE.search(text)) is not None:
            return found.group(1)
    gone = ("ContainerNotFound", "FilesystemNotFound")
    return "" if any(code in text for text in texts for code in gone) else None
