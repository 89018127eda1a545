"""The download content cache: an unchanged model or data set is fetched once, then handed to every
job that reads it, read-only.

Entries are keyed by the caller's ``cache_key`` (datastore + path + etag, or model name + version), so
a changed object is a different key. Layout under ``root`` (``<workspace>/cache``)::

    entries/<digest>/entry.json   key, size, file count, created, fingerprint; its mtime is the last use
    entries/<digest>/digests.json every file's SHA-256, recorded when the entry was filled
    entries/<digest>/data/...     the content, files made read-only
    partial/<digest>/{data,state} a download in progress or cut short (resumable, see
                                  ``mounts.transfer.downloader``); ``key`` names it (``mounts.cache_partial``)
    locks/<digest>.lock           one filler per key, across processes
    leases/<digest>.lock          held shared by every job using the entry: eviction skips it
    .lock                         shared while reading an entry, exclusive to commit or evict

A job gets the entry's own ``data`` folder (``use``), never a copy or a hard link: the backend makes
it read-only for the job (a read-only bind into a container, a read-only FUSE view for a host
process). Nothing a job is given can write into the cache.

Each use verifies the entry before handing it over: its fingerprint (every file's name, size,
modification and change times and inode) must be the one recorded at fill time. Writing a file, or
restoring its modification time afterwards, changes its change time (ctime), which only the kernel
sets. When the fingerprint differs, the content is hashed and compared with the SHA-256 digests
recorded at fill time: the same content is used (its new fingerprint recorded), other content is
dropped and fetched again.

The size limit counts partial entries too (``mounts.cache_partial``): eviction, after every fill (one
cut short included), removes the least recently used entries, complete or partial, until the cache fits,
but none in use. Only a miss walks the partial entries; a hit never does.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mounts.cache_partial import (
    KEY_FILE,
    PartialEntry,
    note_key,
    read_partials,
    remove_idle,
    resumable,
    try_lock,
)
from mounts.errors import MountsError
from mounts.transfer.tree import iter_entries, remove_tree

log = logging.getLogger(__name__)

GiB = 1 << 30
DEFAULT_MAX_BYTES = 20 * GiB
WRITE_BITS = 0o222


@dataclass(frozen=True)
class CacheEntry:
    key: str
    digest: str
    data: Path  # the content directory
    size: int
    files: int
    created: float
    last_used: float
    fingerprint: str | None = None  # of names, sizes, mtimes, ctimes and inodes (see _tree_stats)


Held = CacheEntry | PartialEntry  # what counts toward the size limit


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000**2,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1000**3, "gib": 1 << 30, "t": 1 << 40, "tb": 1000**4,
          "tib": 1 << 40}


def size_from_text(text: str) -> int:
    """``"500M"``, ``"10GiB"``, ``"1.5g"`` or plain bytes → bytes (``K/M/G/T`` are binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size; use bytes or a unit, e.g. 500M, 10G, 2GiB")
    return int(float(match.group(1)) * _UNITS[unit])


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tree_stats(root: Path) -> tuple[int, int, str]:
    """Total size, file count, and a fingerprint of every file under ``root``: its path, size, mtime,
    ctime and inode (a write, a chmod or a restored mtime changes the ctime; a replaced file its inode).

    Every use of an entry computes this, so it is the cost of a cache hit: one ``lstat`` per file
    (through ``os.scandir``, which gives names and types without a stat), relative paths built by
    concatenation, one hash over the sorted lines. Sorting the lines sorts by path (a path never holds
    the separator ``\\0``), so the value is the one recorded by earlier versions. 100,000 files:
    0.6-0.8 s at load 10 on 2 cores, against 1.2-2.7 s with ``os.walk``, ``relpath`` and a hash
    update per file (``bench/bench_scale.py``, RESULTS.md).
    """
    lines: list[str] = []
    total = 0
    folders = [("", os.fspath(root))]
    while folders:
        prefix, folder = folders.pop()
        try:
            scan = os.scandir(folder)
        except OSError:
            continue  # as os.walk: an unreadable folder lists nothing (its files are then "changed")
        with scan:
            for entry in scan:
                if entry.is_dir():  # a link to a folder is neither followed nor listed, as with os.walk
                    if not entry.is_symlink():
                        folders.append((f"{prefix}{entry.name}/", entry.path))
                    continue
                info = entry.stat(follow_symlinks=False)
                total += info.st_size
                lines.append(f"{prefix}{entry.name}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}"
                             f"\0{info.st_ino}\n")
    lines.sort()
    digest = hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape"))
    return total, len(lines), digest.hexdigest()


def _content_digests(root: Path) -> dict[str, str]:
    """Every file's SHA-256 under ``root`` (streamed: memory stays bounded), by relative path."""
    digests = {}
    for rel, entry in iter_entries(root):  # no recursion: any depth
        if entry.is_dir():  # a folder, or a link to one: not a file (as ``os.walk`` lists them)
            continue
        if entry.is_symlink():
            digests[rel] = "link:" + os.readlink(entry.path)
            continue
        with open(entry.path, "rb") as handle:
            digests[rel] = hashlib.file_digest(handle, "sha256").hexdigest()
    return digests


def _make_read_only(root: Path) -> None:
    """Drop the write bits (keep execute bits: a cached folder may hold scripts)."""
    for _rel, entry in iter_entries(root):  # no recursion: any depth
        if not entry.is_dir() and not entry.is_symlink():
            os.chmod(entry.path, entry.stat().st_mode & ~WRITE_BITS & 0o7777)


def _limit_from_env() -> int:
    text = os.environ.get("RUNNER_CACHE_MAX_BYTES", "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        return size_from_text(text)
    except ValueError as exc:
        raise MountsError(f"RUNNER_CACHE_MAX_BYTES: {exc}") from None


class ContentCache:
    """A size-limited LRU cache of downloaded content, shared by all jobs of a workspace."""

    def __init__(self, root: Path, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes if max_bytes is not None else _limit_from_env()
        self._entries = self.root / "entries"
        self._partial = self.root / "partial"
        self._global_lock = self.root / ".lock"

    def __repr__(self) -> str:
        return f"ContentCache(root={str(self.root)!r}, max_bytes={self.max_bytes})"

    # -- reading -------------------------------------------------------------------------------------
    def _read_entry(self, directory: Path) -> CacheEntry | None:
        meta = directory / "entry.json"
        try:
            data = json.loads(meta.read_text())
            used = meta.stat().st_mtime
        except (OSError, ValueError):
            return None
        return CacheEntry(key=data["key"], digest=directory.name, data=directory / "data",
                          size=int(data["size"]), files=int(data["files"]),
                          created=float(data["created"]), last_used=used,
                          fingerprint=data.get("fingerprint"))

    def lookup(self, key: str) -> CacheEntry | None:
        """The complete entry for ``key``, or None."""
        entry = self._read_entry(self._entries / key_digest(key))
        return entry if entry is not None and entry.key == key else None

    def entries(self) -> list[CacheEntry]:
        """Every complete entry, most recently used first (none when ``entries/`` is not a folder: a link
        planted in its place is never listed, so never evicted through)."""
        try:
            if not stat.S_ISDIR(os.lstat(self._entries).st_mode):
                return []
        except OSError:
            return []
        with os.scandir(self._entries) as scan:  # an entry is a folder: a link in its place is none
            found = [e for d in scan if d.is_dir(follow_symlinks=False)
                     and (e := self._read_entry(Path(d.path))) is not None]
        return sorted(found, key=lambda e: e.last_used, reverse=True)

    def partials(self) -> list[PartialEntry]:
        """Every partial entry (a download in progress or cut short), most recently written first."""
        return read_partials(self._partial)

    def total_bytes(self) -> int:
        """What counts toward the limit: complete entries and partial ones."""
        return sum(e.size for e in self.entries()) + sum(p.size for p in self.partials())

    # -- using ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, key: str, fill: Callable[[Path, Path], None]) -> Iterator[tuple[Path, bool]]:
        """The content for ``key``, as ``(folder, hit)``, for the duration of the block.

        On a miss ``fill(data_dir, state_dir)`` downloads it into the cache first (an interrupted fill
        leaves its partial data for the next call to resume). The folder is the entry itself, verified
        (see the module); the caller hands it to the job read-only, and eviction leaves it alone until
        the block exits.
        """
        digest = key_digest(key)
        with _flock(self.root / "leases" / f"{digest}.lock", fcntl.LOCK_SH):
            hit = self._verified(key)
            if not hit:
                try:
                    self._fill(key, fill)
                except Exception:
                    self._evict_after_failure(digest)  # what arrived counts toward the limit too
                    raise
                self.evict(keep={digest})
            entry = self._entries / digest
            os.utime(entry / "entry.json")  # LRU: used now
            yield entry / "data", hit

    def _fill(self, key: str, fill: Callable[[Path, Path], None]) -> None:
        digest = key_digest(key)
        with _flock(self.root / "locks" / f"{digest}.lock", fcntl.LOCK_EX):
            if self._verified(key):  # somebody filled it while we waited
                return
            partial = self._partial / digest
            (partial / "data").mkdir(parents=True, exist_ok=True)
            note_key(partial, key)
            os.utime(partial)  # used now (eviction goes by the newest write below it)
            try:
                fill(partial / "data", partial / "state")
            except BaseException:
                if not resumable(partial):  # nothing arrived (or the download removed it): nothing kept
                    remove_tree(partial)
                raise
            self._commit(key, partial)
            if not self._verified(key):
                raise OSError(f"cache entry for {key!r} vanished right after it was written")

    def _evict_after_failure(self, digest: str) -> None:
        """Evict down to the limit after a fill cut short (its partial entry kept): the fill's own
        error is the one raised, so a failure here is only logged."""
        try:
            self.evict(keep={digest})
        except OSError as exc:
            log.warning("cache: could not evict down to the limit after a failed download: %s", exc)

    def _verified(self, key: str) -> bool:
        """True when the entry for ``key`` exists and holds what was cached; an entry whose content
        changed is dropped (the next fill fetches it again)."""
        with _flock(self._global_lock, fcntl.LOCK_SH):
            entry = self.lookup(key)
            if entry is None:
                return False
            if entry.fingerprint == _tree_stats(entry.data)[2]:
                return True
        with _flock(self._global_lock, fcntl.LOCK_EX):
            entry = self.lookup(key)
            if entry is None:
                return False
            _size, _files, fingerprint = _tree_stats(entry.data)
            if fingerprint == entry.fingerprint:
                return True
            if self._same_content(entry):  # touched, not changed: remember how it looks now
                self._write_meta(self._entries / entry.digest, entry.key, fingerprint)
                return True
            log.warning("cache: the cached files of %s changed after they were cached; fetching them "
                        "again", key)
            remove_tree(self._entries / entry.digest)
            return False

    def _same_content(self, entry: CacheEntry) -> bool:
        try:
            recorded = json.loads((self._entries / entry.digest / "digests.json").read_text())
        except (OSError, ValueError):
            return False  # an entry from before digests were recorded: not verifiable, refetch
        return bool(recorded == _content_digests(entry.data))

    def _write_meta(self, directory: Path, key: str, fingerprint: str) -> None:
        size, files, _ = _tree_stats(directory / "data")
        meta = {"key": key, "size": size, "files": files, "created": time.time(), "fingerprint": fingerprint}
        tmp = directory / "entry.json.tmp"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, directory / "entry.json")

    def _commit(self, key: str, partial: Path) -> None:
        _make_read_only(partial / "data")
        remove_tree(partial / "state")
        (partial / KEY_FILE).unlink(missing_ok=True)
        (partial / "digests.json").write_text(json.dumps(_content_digests(partial / "data")))
        self._write_meta(partial, key, _tree_stats(partial / "data")[2])
        with _flock(self._global_lock, fcntl.LOCK_EX):
            final = self._entries / partial.name
            if final.exists() and not remove_tree(final):
                raise OSError(f"the old cache entry {final} could not be removed")
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(partial, final)

    # -- evicting ------------------------------------------------------------------------------------
    def evict(self, max_bytes: int | None = None, keep: set[str] | None = None) -> list[Held]:
        """Remove least recently used entries, complete or partial, until the cache holds at most
        ``max_bytes``; none in use, none whose digest is in ``keep``."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        removed: list[Held] = []
        partials = self.partials()  # walked before the lock, which every hit takes shared
        with _flock(self._global_lock, fcntl.LOCK_EX):
            entries = self.entries()
            complete = {e.digest for e in entries}  # a partial committed since it was read is here
            held: list[Held] = [*entries, *(p for p in partials if p.digest not in complete)]
            total = sum(e.size for e in held)
            for entry in sorted(held, key=lambda e: e.last_used):  # least recently used first
                if total <= limit:
                    break
                if (keep and entry.digest in keep) or not self._remove_unused(entry):
                    continue
                total -= entry.size
                removed.append(entry)
        for entry in removed:
            log.info("cache: evicted %s (%d bytes)", _shown(entry), entry.size)
        return removed

    def _remove_unused(self, entry: Held) -> bool:
        """Remove ``entry`` unless a job is using it (holds its lease) or, a partial entry, a download
        is writing it; True when removed."""
        if isinstance(entry, PartialEntry):
            return remove_idle(self.root, entry)
        with try_lock(self.root / "leases" / f"{entry.digest}.lock") as unleased:
            if not unleased:
                return False  # in use: bound into a running job
            remove_tree(self._entries / entry.digest)
        return True

    def prune(self, max_bytes: int = 0) -> list[Held]:
        """Drop abandoned partial downloads (none in use), then evict down to ``max_bytes`` (0:
        everything); what was removed, partial entries first."""
        removed: list[Held] = [p for p in self.partials() if remove_idle(self.root, p)]
        return removed + self.evict(max_bytes)


def _shown(entry: Held) -> str:
    if isinstance(entry, PartialEntry):
        return f"the partial download of {entry.key or entry.digest}"
    return entry.key
