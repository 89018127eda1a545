"""The download content cache: an unchanged model or data set is fetched once, then hard-linked.

Entries are keyed by the caller's ``cache_key`` (datastore + path + etag, or model name + version), so
a changed object is a different key. Layout under ``root`` (``<workspace>/cache``)::

    entries/<digest>/entry.json   key, size, file count, created; its mtime is the last use (LRU)
    entries/<digest>/data/...     the content, files made read-only (jobs get hard links to them)
    partial/<digest>/{data,state} a download in progress (resumable, see ``mounts.transfer.downloader``)
    locks/<digest>.lock           one filler per key, across processes
    .lock                         shared while linking from an entry, exclusive to commit or evict

A job directory gets hard links (copies when linking is impossible, e.g. another filesystem). When the
cache grows past ``max_bytes``, least recently used entries are evicted; files already linked into job
directories survive eviction (a hard link is a name of its own).

Cached files are read-only, but root ignores that: a job run as root outside a container (where the
input is not bound read-only) can write into the cache through its hard link. So each entry records a
fingerprint of its files' names, sizes and modification times; an entry whose files no longer match
is dropped and fetched again instead of being handed to the next job.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mounts.errors import MountsError

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
    fingerprint: str | None = None  # of names, sizes and mtimes (None: written before fingerprints)


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


def link_tree(source: Path, dest: Path) -> int:
    """Hard-link every file under ``source`` into ``dest`` (copy when linking fails); returns files."""
    count = 0
    dest.mkdir(parents=True, exist_ok=True)
    for dirpath, dirs, names in os.walk(source):
        target_dir = dest / Path(dirpath).relative_to(source)
        for name in dirs:
            (target_dir / name).mkdir(exist_ok=True)
        for name in names:
            link_file(Path(dirpath) / name, target_dir / name)
            count += 1
    return count


def link_file(source: Path, target: Path) -> None:
    """``target`` becomes a hard link to ``source``, or a copy when a link is impossible."""
    if target.exists() or target.is_symlink():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:  # another filesystem (EXDEV), no permission, too many links: copy instead
        shutil.copy2(source, target)


def _tree_stats(root: Path) -> tuple[int, int, str]:
    """Total size, file count, and a fingerprint of every file's path, size and mtime under ``root``."""
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            stat = os.lstat(path)
            found.append((os.path.relpath(path, root), stat.st_size, stat.st_mtime_ns))
    found.sort()
    digest = hashlib.sha256()
    for rel, size, mtime in found:
        digest.update(f"{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
    return sum(size for _rel, size, _mtime in found), len(found), digest.hexdigest()


def _make_read_only(root: Path) -> None:
    """Drop the write bits (keep execute bits: a cached folder may hold scripts)."""
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            os.chmod(path, path.stat().st_mode & ~WRITE_BITS & 0o7777)


def _unchanged(entry: CacheEntry) -> bool:
    return entry.fingerprint is None or _tree_stats(entry.data)[2] == entry.fingerprint


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
        """Every complete entry, most recently used first."""
        if not self._entries.is_dir():
            return []
        found = [e for d in self._entries.iterdir() if (e := self._read_entry(d)) is not None]
        return sorted(found, key=lambda e: e.last_used, reverse=True)

    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries())

    # -- using ---------------------------------------------------------------------------------------
    def _link_hit(self, key: str, dest: Path) -> bool:
        with _flock(self._global_lock, fcntl.LOCK_SH):
            entry = self.lookup(key)
            if entry is None:
                return False
            if _unchanged(entry):
                link_tree(entry.data, dest)
                os.utime(self._entries / entry.digest / "entry.json")  # LRU: used now
                return True
        self._drop_changed(key)
        return False

    def _drop_changed(self, key: str) -> None:
        """Remove the entry for ``key`` if its files changed since it was cached (see the module)."""
        with _flock(self._global_lock, fcntl.LOCK_EX):
            entry = self.lookup(key)
            if entry is None or _unchanged(entry):
                return
            log.warning("cache: the cached files of %s changed after they were cached (a job running "
                        "outside a container wrote into its hard-linked input?); fetching them again", key)
            shutil.rmtree(self._entries / entry.digest, ignore_errors=True)

    def get_or_fill(self, key: str, dest: Path, fill: Callable[[Path, Path], None]) -> bool:
        """Put the content for ``key`` at ``dest`` (hard links); on a miss first call
        ``fill(data_dir, state_dir)`` to download it into the cache. Returns True on a hit.

        An interrupted ``fill`` leaves its partial data for the next call to resume.
        """
        if self._link_hit(key, dest):
            return True
        digest = key_digest(key)
        with _flock(self.root / "locks" / f"{digest}.lock", fcntl.LOCK_EX):
            if self._link_hit(key, dest):  # another process filled it while we waited
                return True
            partial = self._partial / digest
            (partial / "data").mkdir(parents=True, exist_ok=True)
            fill(partial / "data", partial / "state")
            self._commit(key, partial)
            if not self._link_hit(key, dest):
                raise OSError(f"cache entry for {key!r} vanished right after it was written")
        self.evict(keep={digest})
        return False

    def _commit(self, key: str, partial: Path) -> None:
        _make_read_only(partial / "data")
        size, files, fingerprint = _tree_stats(partial / "data")
        shutil.rmtree(partial / "state", ignore_errors=True)
        meta = {"key": key, "size": size, "files": files, "created": time.time(), "fingerprint": fingerprint}
        (partial / "entry.json").write_text(json.dumps(meta))
        with _flock(self._global_lock, fcntl.LOCK_EX):
            final = self._entries / partial.name
            if final.exists():
                shutil.rmtree(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(partial, final)

    # -- evicting ------------------------------------------------------------------------------------
    def evict(self, max_bytes: int | None = None, keep: set[str] | None = None) -> list[CacheEntry]:
        """Remove least recently used entries until the cache holds at most ``max_bytes``."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        removed: list[CacheEntry] = []
        with _flock(self._global_lock, fcntl.LOCK_EX):
            entries = self.entries()
            total = sum(e.size for e in entries)
            for entry in reversed(entries):  # least recently used first
                if total <= limit:
                    break
                if keep and entry.digest in keep:
                    continue
                shutil.rmtree(self._entries / entry.digest, ignore_errors=True)
                total -= entry.size
                removed.append(entry)
        for entry in removed:
            log.info("cache: evicted %s (%d bytes)", entry.key, entry.size)
        return removed

    def prune(self, max_bytes: int = 0) -> list[CacheEntry]:
        """Evict down to ``max_bytes`` (0: everything) and drop abandoned partial downloads."""
        removed = self.evict(max_bytes)
        if self._partial.is_dir():
            for partial in self._partial.iterdir():
                lock = self.root / "locks" / f"{partial.name}.lock"
                lock.parent.mkdir(parents=True, exist_ok=True)
                with open(lock, "a+") as handle:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a download is filling it right now
                    shutil.rmtree(partial, ignore_errors=True)
                    fcntl.flock(handle, fcntl.LOCK_UN)
        return removed
