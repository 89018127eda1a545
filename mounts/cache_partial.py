"""The download cache's partial entries (``mounts.cache``): downloads cut short, kept in
``partial/<digest>/`` (``data/``, the downloader's ``state/``, and ``key``, the cache key it fills) so
that the next fill of the key resumes from them.

They count toward the cache's size limit like complete entries: what one holds is the bytes on disk
below it (a large file's ``.part`` is sized to the whole file before its parts arrive, so a sparse file
counts the blocks written, never more than its size; its ``key`` is bookkeeping, as a complete entry's
``entry.json``), and its last use is the last time anything in it was written. Eviction removes an
idle one (``remove_idle``) oldest first, as it does complete entries, but never one in use: a download
writing it holds the key's filler lock (``locks/<digest>.lock``), and a job that found no entry holds
the key's lease (``leases/<digest>.lock``) from then until it is done, while it waits to fill it too.

Reading them walks every partial entry (one ``lstat`` per name, no link followed): eviction and
``runner cache`` do, after a miss or on request; a cache hit never does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mounts.transfer.tree import iter_entries, remove_tree

KEY_FILE = "key"  # partial/<digest>/key: the cache key being filled (not in a complete entry)
MAX_KEY = 64 * 1024  # what of it is read


@dataclass(frozen=True)
class PartialEntry:
    key: str | None  # None: left by a version that did not record it
    digest: str
    folder: Path  # partial/<digest>
    size: int  # bytes held on disk, its download state included
    files: int  # files that arrived (below data/)
    created: float
    last_used: float  # the last write below it

    @property
    def data(self) -> Path:
        return self.folder / "data"


def read_partials(where: Path) -> list[PartialEntry]:
    """Every partial entry in ``where`` (``<cache>/partial``), most recently written first. Anything
    there that is not a folder (a stray file, a link) is not an entry; nor is anything when ``where`` itself
    is not a folder (a link planted in its place is never listed, so never evicted through)."""
    try:
        if not stat.S_ISDIR(os.lstat(where).st_mode):
            return []
        scan = os.scandir(where)
    except OSError:
        return []
    found = []
    with scan:
        for entry in scan:
            if entry.is_dir(follow_symlinks=False) and (partial := _read(Path(entry.path))) is not None:
                found.append(partial)
    return sorted(found, key=lambda p: p.last_used, reverse=True)


def _read(folder: Path) -> PartialEntry | None:
    try:
        top = folder.lstat()
    except OSError:
        return None  # committed or removed since it was listed
    size, files, newest = _held(folder, top.st_mtime)
    key, created = None, top.st_mtime
    with contextlib.suppress(OSError):  # none (an older version's), or not a file: no key shown
        fd = os.open(folder / KEY_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode):
                key, created = os.read(fd, MAX_KEY).decode("utf-8", "surrogateescape"), info.st_mtime
        finally:
            os.close(fd)
    return PartialEntry(key=key, digest=folder.name, folder=folder, size=size, files=files,
                        created=created, last_used=newest)


def _held(folder: Path, newest: float) -> tuple[int, int, float]:
    """Bytes on disk, files below ``data/`` and the newest modification time below ``folder``. No link
    is followed; a name that vanishes while it is walked (a download is writing) is skipped."""
    size, files, top = 0, 0, os.fspath(folder)
    folders = [(top, False)]
    while folders:
        path, in_data = folders.pop()
        try:
            scan = os.scandir(path)
        except OSError:
            continue
        with scan:
            for entry in scan:
                if path == top and entry.name == KEY_FILE:
                    continue  # the cache's own note, as an entry's entry.json: not what it holds
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                newest = max(newest, info.st_mtime)
                if stat.S_ISDIR(info.st_mode):
                    folders.append((entry.path, in_data or (path == top and entry.name == "data")))
                    continue
                size += min(info.st_size, info.st_blocks * 512)
                if in_data and stat.S_ISREG(info.st_mode):
                    files += 1
    return size, files, newest


def note_key(folder: Path, key: str) -> None:
    """Record ``key`` in the partial entry ``folder`` unless it is there (a new file: nothing followed)."""
    try:
        fd = os.open(folder / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.encode("utf-8", "surrogateescape"))


def resumable(folder: Path) -> bool:
    """Whether anything arrived in the partial entry ``folder`` (a file below ``data/`` or ``state/``):
    a fill cut short before that (or whose download removed it, a full disk) leaves nothing to keep."""
    try:
        for part in (folder / "data", folder / "state"):
            if part.is_symlink() or (part.is_dir() and any(not entry.is_dir(follow_symlinks=False)
                                                           for _rel, entry in iter_entries(part))):
                return True
    except OSError:
        return True  # not known: kept (``runner cache prune`` drops it)
    return False


@contextlib.contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """``path`` locked exclusively if nobody holds it (True), else False at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_idle(root: Path, partial: PartialEntry) -> bool:
    """Remove ``partial`` unless it is in use (a download writes it, a job waits to fill it); True when
    it was removed. ``root``: the cache's folder."""
    with try_lock(root / "leases" / f"{partial.digest}.lock") as unleased, \
            try_lock(root / "locks" / f"{partial.digest}.lock") as unfilled:
        if not (unleased and unfilled):
            return False
        try:
            if not partial.folder.is_dir() or partial.folder.is_symlink():
                return False  # committed (or removed) since it was read
        except OSError:
            return False
        return remove_tree(partial.folder)
