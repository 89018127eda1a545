"""Reuse of block-sized readahead buffers across the fetch threads of one mount.

Why: every fetch used a fresh ``bytearray(block_size)``. glibc serves those from the heap of the
thread that asks (one arena per fetch worker) and keeps what is freed there, so peak RSS of the mount
process grew to 260-280 MB for ~56 MiB of live segments; a fresh buffer also costs its page faults
(9 ms of CPU per 8 MiB on this VM, against 0.7 ms for reused memory: ~1 s per GiB read). The pool's
buffers are anonymous mappings reused by every fetch thread: the faults are paid once per buffer,
RSS follows what is live plus at most ``keep`` idle buffers, and a buffer the pool does not keep is
unmapped (returned to the kernel) as soon as nothing refers to it.

A buffer is reused only when nothing refers to it any more: a view of it may still be on its way to
the kernel in a FUSE reply, in the block cache or in a concurrent read, and each of those holds a
reference, which ``sys.getrefcount`` counts (under the GIL nothing can take a new one meanwhile,
since the free list holds the only remaining reference).
"""

from __future__ import annotations

import mmap
import sys
import threading


def _references(buffers: list[mmap.mmap], index: int) -> int:
    return sys.getrefcount(buffers[index])


# what ``_references`` counts for a buffer held by nothing but the list (measured, not assumed)
_UNSHARED = _references([mmap.mmap(-1, 1)], 0)


class SegmentPool:
    """Free buffers of exactly ``size`` bytes, at most ``keep`` of them."""

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self.keep = keep
        self._free: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self, length: int) -> bytearray | mmap.mmap:
        """A writable buffer of ``length`` bytes: a reused one when ``length`` is the pool's size and
        one is free (its old contents are overwritten by the caller; only what it fills is read)."""
        if length != self.size:
            return bytearray(length)
        with self._lock:
            for index in range(len(self._free)):  # (a loop variable would hold one more reference)
                if _references(self._free, index) <= _UNSHARED:
                    return self._free.pop(index)
        return mmap.mmap(-1, length)

    def give(self, buffer: object) -> None:
        """Offer a buffer back once its segment left the window (ignored unless it is one of ours)."""
        if isinstance(buffer, mmap.mmap) and len(buffer) == self.size:
            with self._lock:
                if len(self._free) < self.keep and all(buffer is not known for known in self._free):
                    self._free.append(buffer)

    def __len__(self) -> int:
        return len(self._free)
