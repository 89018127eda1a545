"""Parallel ranged readahead for sequential reads through a mount, with bounded memory.

Each open file gets a ``ReadaheadStream``: a window of contiguous segments ``[start, end)`` fetched
with ranged reads on a shared thread pool. A read outside the window starts a new stream with one
*small* segment (``first_size``), so the first byte arrives after a short request instead of a full
block; the window grows only once that segment has arrived (requests beside it slow it down). Reads
inside the window extend it by up to ``ahead`` segments fetched in parallel: doubling from
``first_size`` while access may be random, and whole ``block_size`` segments once a read started where
an earlier one ended (sequential access). Random access thus costs only small requests, and
sequential access keeps several large requests in flight, which is what reaches the store's bandwidth.

The kernel's readahead reaches a multithreaded FUSE loop out of order, so the window keeps ``behind``
bytes (16 MiB) behind the newest read, grows to a read just past its end when access is sequential,
and serves a straggler just behind it on its own (never restarting the stream for it).

Memory is bounded twice: a stream holds at most ``ahead`` segments plus those of the last ``behind``
bytes, and the segments of all streams share a ``MemoryBudget`` (prefetch is skipped when it is
spent; demand segments are counted when they fit); block-sized buffers are reused through a
``SegmentPool``. Small files (``<= small_file``) are read in one request and kept
in a byte-bounded LRU ``BlockCache`` so reopening them costs nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass

from mounts.fuse.range_fetch import Buffer, RangeFetch, store_receive
from mounts.fuse.range_fetch import fsspec_range_fetch as fsspec_range_fetch  # re-exported (callers)
from mounts.fuse.range_fetch import store_range_fetch as store_range_fetch
from mounts.fuse.segment_pool import SegmentPool
from mounts.fuse.span_fetch import Span, SpanFetcher
from mounts.stores.base import BlobStore

log = logging.getLogger(__name__)

MiB = 1024 * 1024


@dataclass(frozen=True)
class ReadaheadConfig:
    block_size: int = 16 * MiB  # largest request (Azurite: 8 MiB ranges cost it 1.4x the CPU per byte)
    first_size: int = 64 * 1024  # first request of a stream: small, for a fast first byte
    ahead: int = 3  # segments kept in flight beyond the one being read (3 x 16 MiB)
    workers: int = 8  # threads issuing ranged reads (shared by all open files)
    memory_limit: int = 128 * MiB  # bytes of prefetched segments held by all streams together
    small_file: int = 2 * MiB  # files up to this size are fetched whole and cached
    cache_size: int = 16 * MiB  # capacity of the small-file cache (reopened and read-ahead files)
    behind: int = 16 * MiB  # kept behind the newest read (>= the kernel's readahead window, lifecycle)
    # > 0: once access is sequential, one request spans the segments of this many bytes (where the store
    # supports it; mounts.fuse.span_fetch), doubling per request up to span_limit. Off: through the mount it
    # measured no faster than one request per segment here (bench/RESULTS.md, "Spanning requests")
    span_size: int = 0
    span_limit: int = 256 * MiB


class BlockCache:
    """A thread-safe LRU of byte strings, bounded by their total size."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, int], Buffer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._bytes

    def get(self, key: tuple[str, int]) -> Buffer | None:
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
            return data

    def put(self, key: tuple[str, int], data: Buffer) -> None:
        if len(data) > self.capacity:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = data
            self._bytes += len(data)
            while self._bytes > self.capacity:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def discard(self, path: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == path]:
                self._bytes -= len(self._entries.pop(key))


class MemoryBudget:
    """Counts bytes of prefetched data; prefetch is skipped (not blocked) when the budget is spent."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def try_acquire(self, amount: int) -> bool:
        with self._lock:
            if self.used + amount > self.limit:
                return False
            self.used += amount
            return True

    def release(self, amount: int) -> None:
        with self._lock:
            self.used -= amount


@dataclass
class _Segment:
    start: int
    end: int
    future: Future[Buffer]
    charged: int  # bytes counted against the budget


class Prefetcher:
    """The shared pool, budget and cache behind every open file of one mount."""

    def __init__(self, fetch: RangeFetch, config: ReadaheadConfig | None = None,
                 segment_pool: SegmentPool | None = None, spans: SpanFetcher | None = None) -> None:
        self.fetch = fetch
        self.config = config or ReadaheadConfig()
        self.segment_pool = segment_pool  # where dropped segments' buffers go (the fetch takes them)
        self.spans = spans if self.config.span_size else None  # one request for many block segments
        self.budget = MemoryBudget(self.config.memory_limit)
        self.cache = BlockCache(self.config.cache_size)
        self._pool = ThreadPoolExecutor(self.config.workers, thread_name_prefix="readahead")
        self._whole: dict[str, Future[Buffer]] = {}  # small files being fetched ahead of their open
        self._lock = threading.Lock()

    @classmethod
    def for_store(cls, store: BlobStore, config: ReadaheadConfig) -> Prefetcher:
        """Ranged reads of ``store`` into block-sized buffers that all fetch threads reuse
        (``mounts.fuse.segment_pool``: bounded RSS), as both mounts read."""
        pool = SegmentPool(config.block_size, keep=config.ahead)
        receive = store_receive(store) if config.span_size else None
        spans = SpanFetcher(receive, pool) if receive is not None else None
        return cls(store_range_fetch(store, pool), config, segment_pool=pool, spans=spans)

    def submit(self, path: str, start: int, end: int) -> Future[Buffer]:
        return self._pool.submit(self.fetch, path, start, end)

    def prefetch_whole(self, path: str, size: int) -> None:
        """Fetch a small file into the cache before it is opened (``FsspecReadOnly`` asks for the next
        files of a folder that is being read file after file); its open then joins the fetch."""
        with self._lock:
            if path in self._whole or self.cache.get((path, 0)) is not None:
                return
            future = self._whole[path] = self.submit(path, 0, size)
        future.add_done_callback(lambda done: self._whole_arrived(path, done))

    def _whole_arrived(self, path: str, future: Future[Buffer]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.cache.put((path, 0), future.result())
        with self._lock:
            self._whole.pop(path, None)

    def whole_in_flight(self, path: str) -> Future[Buffer] | None:
        with self._lock:
            return self._whole.get(path)

    def stream(self, path: str, size: int) -> ReadaheadStream:
        return ReadaheadStream(self, path, size)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.spans is not None:
            self.spans.close()


class ReadaheadStream:
    """Reads of one open file, served from a window of parallel ranged fetches."""

    def __init__(self, prefetcher: Prefetcher, path: str, size: int) -> None:
        self._prefetcher = prefetcher
        self._config = prefetcher.config
        self.path = path
        self.size = size
        self._segments: list[_Segment] = []
        self._lock = threading.RLock()  # reentrant: see _extend_ahead
        # ends of the latest reads: a read starting at one of them proves sequential access, after
        # which the window grows in whole blocks (random reads only ever cost small requests)
        self._read_ends: deque[int] = deque(maxlen=64)
        self._sequential = False
        self._span: Span | None = None  # the request the next block segment joins (sequential)
        self._span_size = 0  # size of the latest span (the next one doubles it)

    def prime(self, sequential: bool = False) -> None:
        """Start fetching the beginning of the file before the first read arrives; ``sequential``
        (the caller expects the whole file to be read) starts the whole window at once."""
        with self._lock:
            if not self._segments and self.size > 0 and self._cached_whole() is None:
                self._restart(0, 0)
                if sequential and self.size > self._config.small_file:
                    self._sequential = True
                    self._extend_ahead(0)

    def read(self, offset: int, size: int) -> bytes:
        """The bytes of ``[offset, offset + size)`` (short at the end of the file)."""
        return bytes(self.read_view(offset, size))

    def read_view(self, offset: int, size: int) -> Buffer | memoryview:
        """Like ``read``, but a read inside one segment (the usual case: 1 MiB FUSE reads of 8 MiB
        segments) is a view of that segment, not a copy. Segments are never written once fetched, so
        the view stays valid for as long as it is held, even after the window moves on."""
        end = min(offset + size, self.size)
        if size <= 0 or offset >= end:
            return b""
        whole = self._cached_whole()
        if whole is not None:
            return memoryview(whole)[offset:end]
        with self._lock:
            position = self._position(offset)
            if position == "outside":
                self._restart(offset, end - offset)
            elif position == "inside" or (position == "ahead" and self._sequential):
                # sequential: the window grows to this read (a read just past it is the kernel's
                # parallel readahead handed over out of order, not a seek)
                self._sequential = self._sequential or offset in self._read_ends
                self._drop_consumed(offset)
                self._extend_ahead(offset)
                position = "inside"
            self._read_ends.append(end)
            needed = []
            if position in ("inside", "outside"):
                self._cover(end)
                needed = [s for s in self._segments if s.start < end and s.end > offset]
        if not needed:  # a straggler behind the window or a jump just past it: served alone
            return self._prefetcher.fetch(self.path, offset, end)
        return self._assemble(needed, offset, end)

    def _position(self, offset: int) -> str:
        """Where ``offset`` lies relative to the window: ``inside``, just ``ahead`` of it, just
        ``behind`` it, or ``outside`` (a new stream). A multithreaded FUSE loop hands over the kernel's
        parallel readahead requests out of order (up to its 16 MiB readahead window apart); a read
        ``behind`` the window is fetched on its own, without dropping the prefetched window, and so is
        one ``ahead`` of it unless the stream is known to be sequential."""
        if not self._segments:
            return "outside"
        first, last = self._segments[0].start, self._segments[-1].end
        reach = self._config.block_size
        if first <= offset <= last:
            return "inside"
        if last < offset <= last + reach:
            return "ahead"
        if first - 2 * reach <= offset < first:
            return "behind"
        return "outside"

    def close(self) -> None:
        with self._lock:
            self._drop(len(self._segments))

    # -- window management (called with the lock held) --

    def _cached_whole(self) -> Buffer | None:
        if self.size > self._config.small_file:
            return None
        return self._prefetcher.cache.get((self.path, 0))

    def _restart(self, offset: int, size: int) -> None:
        self._drop(len(self._segments))
        self._sequential = False
        self._span_size = 0
        remaining = self.size - offset
        if self.size <= self._config.small_file:
            # fetched ahead of this open: join that request (or take its result, if it arrived since
            # ``prime`` looked: the cache is filled before the request leaves ``whole_in_flight``)
            ahead = self._prefetcher.whole_in_flight(self.path)
            cached = self._cached_whole() if ahead is None else None
            if cached is not None:
                ahead = Future()
                ahead.set_result(cached)
            if ahead is not None:
                self._segments.append(_Segment(0, self.size, ahead, 0))
                return
            offset, length = 0, self.size  # one request for the whole small file
        else:
            length = max(self._config.first_size, size)
            if remaining <= 2 * length:
                length = remaining
        self._schedule(offset, length, prefetch=False)

    def _extend_ahead(self, offset: int) -> None:
        first = self._segments[0]
        if not self._sequential and len(self._segments) == 1 and not first.future.done():
            # the first byte waits for this small segment: block requests sent next to it slow it
            # down 2-4x at the store (Azurite, 256 KiB: 9-20 ms alone, 36-61 ms beside 4 x 8 MiB), so
            # the window grows once it has arrived (at once if it just did: the lock is reentrant)
            first.future.add_done_callback(self._extend_after_first)
            return
        current = next(i for i, s in enumerate(self._segments) if s.end > offset or s is self._segments[-1])
        while len(self._segments) - 1 - current < self._config.ahead and self._segments[-1].end < self.size:
            # once access is known to be sequential, straight to full blocks: the doubling ramp
            # (256 KiB, 512 KiB, ... 8 MiB) spent a third of a 50 MiB file in small requests, which
            # Azurite serves slowly (it hashes ranges <= 4 MiB); until then it keeps random reads cheap
            last = self._segments[-1]
            length = self._config.block_size if self._sequential else min(
                self._config.block_size, max(self._config.first_size, 2 * (last.end - last.start)))
            if not self._schedule(last.end, length, prefetch=True):
                break

    def _extend_after_first(self, future: Future[Buffer]) -> None:
        with self._lock:
            if self._segments and self._segments[0].future is future and not future.cancelled():
                self._extend_ahead(self._segments[0].start)

    def _cover(self, end: int) -> None:
        """Demand-fetch whatever part of [.., end) the window does not reach (budget spent)."""
        while self._segments[-1].end < end:
            last_end = self._segments[-1].end
            wanted = self._config.block_size if self._sequential else end - last_end
            length = min(self._config.block_size, max(wanted, self._config.first_size))
            self._schedule(last_end, length, prefetch=False)

    def _schedule(self, start: int, length: int, prefetch: bool) -> bool:
        """Fetch [start, start+length). A demand segment is always fetched, and counted in the budget
        when it fits, so prefetch of every stream backs off while demand segments are held."""
        end = min(start + length, self.size)
        charged = end - start
        if not self._prefetcher.budget.try_acquire(charged):
            if prefetch:
                return False
            charged = 0  # over the budget: held anyway (a read waits for it), bounded by the reads
        future = self._span_submit(start, end) if self._sequential else None
        if future is None:
            future = self._prefetcher.submit(self.path, start, end)
        self._segments.append(_Segment(start, end, future, charged))
        return True

    def _span_submit(self, start: int, end: int) -> Future[Buffer] | None:
        """Attach ``[start, end)`` to the stream's span, opening the next one (twice as long, up to
        ``span_limit``) where it ends; None without spans (the segment gets its own request)."""
        spans = self._prefetcher.spans
        if spans is None:
            return None
        future: Future[Buffer] = Future()
        if self._span is not None and self._span.attach(start, end, future):
            return future
        if self._span is not None:
            self._span.seal()
        size = min(max(2 * self._span_size, self._config.span_size), self._config.span_limit)
        self._span = spans.open(self.path, start, min(start + size, self.size))
        if self._span is None or not self._span.attach(start, end, future):
            return None
        self._span_size = size
        return future

    def _drop_consumed(self, offset: int) -> None:
        """Forget segments that end ``behind`` or more before ``offset``. Reordered reads of the
        kernel's readahead arrive up to its window (4 MiB now) behind the newest one; keeping one segment
        behind made ~10% of a 1 GiB read stragglers, each fetched again in a 1 MiB request."""
        horizon = offset - self._config.behind
        self._drop(next((i for i, s in enumerate(self._segments) if s.end > horizon), len(self._segments)))

    def _drop(self, count: int) -> None:
        if count >= len(self._segments) and self._span is not None:
            self._span.cancel()  # the whole window goes: so does its request
            self._span = None
        pool = self._prefetcher.segment_pool
        for segment in self._segments[:count]:
            future = segment.future
            future.cancel()
            if segment.charged:
                self._prefetcher.budget.release(segment.charged)
            if pool is not None and future.done() and not future.cancelled() and future.exception() is None:
                pool.give(future.result())
        del self._segments[:count]

    # -- data --

    def _assemble(self, segments: list[_Segment], offset: int, end: int) -> Buffer | memoryview:
        parts: list[memoryview] = []
        for segment in segments:
            try:
                data = segment.future.result()
            except CancelledError:  # dropped by a concurrent read that moved the window: fetch directly
                lo, hi = max(offset, segment.start), min(end, segment.end)
                parts.append(memoryview(self._prefetcher.fetch(self.path, lo, hi)))
                continue
            except BaseException:
                with self._lock:
                    if segment in self._segments:  # let a retry fetch it again
                        self._drop(len(self._segments))
                raise
            if segment.start == 0 and segment.end == self.size <= self._config.small_file:
                self._prefetcher.cache.put((self.path, 0), data)
            lo, hi = max(offset, segment.start) - segment.start, min(end, segment.end) - segment.start
            parts.append(memoryview(data)[lo:hi])
        return parts[0] if len(parts) == 1 else b"".join(parts)
