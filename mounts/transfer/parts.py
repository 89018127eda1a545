"""A large file downloaded as ranged parts: how it is split (``plan_parts``), and its ``.part`` file,
finished parts and resume manifest while it is fetched (``PartedFile``; see
``mounts.transfer.downloader``)."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import threading
from pathlib import Path

from mounts.stores.base import RemoteFile

MiB = 1 << 20


def plan_parts(size: int, part_size: int, first_part: int, threshold: int) -> list[tuple[int, int]]:
    """Split ``size`` bytes into ``(offset, length)`` parts: one part up to ``threshold``; above it a
    small first part, then ``part_size`` parts, the tail merged into the last one when it is small."""
    if size <= threshold:
        return [(0, size)]
    parts = [(0, first_part)]
    position = first_part
    while position < size:
        length = min(part_size, size - position)
        if 0 < size - (position + length) < part_size // 4:
            length = size - position  # do not leave a tiny last part
        parts.append((position, length))
        position += length
    return parts


class PartedFile:
    """A large file being fetched as parts: its open ``.part`` file and which parts are finished."""

    def __init__(self, item: RemoteFile, tmp: Path, manifest: Path, parts: list[tuple[int, int]]) -> None:
        self.item = item
        self.tmp = tmp
        self.manifest = manifest
        self.lock = threading.Lock()
        self.failed = False
        # finished parts, and how far unfinished ones got (a rerun resumes them from there)
        self.finished, self.progress = self._load_state()
        self.pending = [p for p in parts if p[0] not in self.finished]
        self.all_starts = [offset for offset, _ in parts]
        self._unclaimed = collections.deque(self.pending)
        # opened when its first part is claimed and closed when its last one ends: every file is
        # queued up front, and a folder of thousands of large files must not hold a descriptor each
        self.fd = -1
        self.outstanding = len(self.pending)
        self.digest = hashlib.md5()  # MD5 of the finished prefix, advanced while other parts download
        self.hashed_upto = 0
        self.hash_lock = threading.Lock()
        # One stream writes into the file at a time: the kernel serializes buffered writes to an inode
        # anyway (ext4's i_rwsem), and its waiters spin on the holder, which slowed the holder's copy
        # 6-10x at 10 GiB with eight streams (bench/RESULTS.md, "eight writers on one file"); waiting
        # here, a stream sleeps instead.
        self.write_lock = threading.Lock()

    def _load_state(self) -> tuple[set[int], dict[int, int]]:
        if not (self.manifest.exists() and self.tmp.exists()):
            return set(), {}
        try:
            data = json.loads(self.manifest.read_text())
            if data.get("size") != self.item.size or data.get("etag") != self.item.etag:
                return set(), {}  # the object changed since: start over
            return ({int(offset) for offset in data.get("done", [])},
                    {int(offset): int(done) for offset, done in data.get("partial", {}).items()})
        except (ValueError, AttributeError, TypeError):
            return set(), {}

    def resumed_bytes(self) -> int:
        """Bytes already here: finished parts and the start of unfinished ones."""
        pending = sum(length for _, length in self.pending)
        return self.item.size - pending + sum(self.progress.get(offset, 0) for offset, _ in self.pending)

    def next_part(self) -> tuple[int, int] | None:
        with self.lock:
            if not self._unclaimed:
                return None
            if self.fd < 0:
                self.fd = os.open(self.tmp, os.O_RDWR | os.O_CREAT, 0o644)
                if not self.finished:
                    os.ftruncate(self.fd, self.item.size)
            return self._unclaimed.popleft()

    def part_finished(self, offset: int, ok: bool, reached: int = 0) -> bool:
        """Record the end of one part's task (``reached``: its bytes in place from ``offset``); True
        when it was the last one and every part succeeded."""
        with self.lock:
            self.outstanding -= 1
            if not ok:
                self.failed = True
                if reached > self.progress.get(offset, 0):  # a rerun goes on from there
                    self.progress[offset] = reached
                    self._save()
                return False
            self.finished.add(offset)
            self.progress.pop(offset, None)
            self._save()
            return self.outstanding == 0 and not self.failed

    def _save(self) -> None:
        state = {"size": self.item.size, "etag": self.item.etag, "done": sorted(self.finished),
                 "partial": {str(offset): done for offset, done in self.progress.items()}}
        scratch = self.manifest.with_suffix(".tmp")
        scratch.write_text(json.dumps(state))
        os.replace(scratch, self.manifest)

    def advance_hash(self, *, to_end: bool = False) -> None:
        """Hash finished parts in order from ``hashed_upto`` (pipelined with the remaining downloads:
        the data is read back from the page cache, so verifying costs no extra time at the end)."""
        if not self.hash_lock.acquire(blocking=to_end):
            return  # another worker is hashing; it (or the final call) picks our part up
        try:
            while self.hashed_upto < self.item.size:
                with self.lock:
                    ready = self.hashed_upto in self.finished
                if not ready and not to_end:
                    return
                end = self._part_end(self.hashed_upto)
                while self.hashed_upto < end:
                    block = os.pread(self.fd, min(4 * MiB, end - self.hashed_upto), self.hashed_upto)
                    if not block:
                        raise OSError(f"{self.tmp} is shorter than expected")
                    self.digest.update(block)
                    self.hashed_upto += len(block)
        finally:
            self.hash_lock.release()

    def _part_end(self, offset: int) -> int:
        later = [start for start in self.all_starts if start > offset]
        return min(later) if later else self.item.size

    def close(self) -> None:
        with self.lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
