"""Readahead: correct bytes for every access pattern, small first request, bounded prefetch."""

from __future__ import annotations

import os
import random
import threading

import pytest

from mounts.fuse.readahead import BlockCache, MemoryBudget, Prefetcher, ReadaheadConfig
from mounts.fuse.segment_pool import SegmentPool

KiB = 1024
MiB = 1024 * KiB


class RecordingStore:
    """An in-memory object store that serves ranged reads and records every request."""

    def __init__(self, files: dict[str, bytes], fail_first: int = 0) -> None:
        self.files = files
        self.requests: list[tuple[str, int, int]] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def fetch(self, path: str, start: int, end: int) -> bytes:
        with self._lock:
            self.requests.append((path, start, end))
            if self.fail_first > 0:
                self.fail_first -= 1
                raise ConnectionError("storage unavailable")
        return self.files[path][start:end]


CONFIG = ReadaheadConfig(block_size=1 * MiB, first_size=64 * KiB, ahead=3, workers=4,
                         memory_limit=16 * MiB, small_file=128 * KiB, cache_size=1 * MiB)


@pytest.fixture
def big() -> bytes:
    return os.urandom(5 * MiB + 777)


def read_sequentially(prefetcher: Prefetcher, path: str, size: int, chunk: int) -> bytes:
    stream = prefetcher.stream(path, size)
    parts = []
    offset = 0
    while data := stream.read(offset, chunk):
        parts.append(data)
        offset += len(data)
    stream.close()
    return b"".join(parts)


@pytest.mark.parametrize("chunk", [4 * KiB, 128 * KiB])
def test_sequential_read_is_identical_with_few_growing_requests(big: bytes, chunk: int) -> None:
    """One small first request (the first byte waits for it alone), then whole blocks: the requests
    grow from ``first_size`` (or the read's size) to ``block_size`` at once, cover the file exactly
    once, and are as few as that allows."""
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    assert read_sequentially(prefetcher, "f", len(big), chunk) == big
    prefetcher.close()
    assert store.requests[0][1:] == (0, max(CONFIG.first_size, chunk))  # asked first, and small
    spans = sorted((start, end) for _, start, end in store.requests)
    assert [start for start, _ in spans[1:]] == [end for _, end in spans[:-1]]  # contiguous, no overlap
    assert spans[0][0] == 0 and spans[-1][1] == len(big)
    sizes = [end - start for start, end in spans]
    first = max(CONFIG.first_size, chunk)
    assert sizes[0] == first < CONFIG.block_size
    assert sizes[1:-1] == [CONFIG.block_size] * (len(sizes) - 2)  # grown to whole blocks
    assert 0 < sizes[-1] <= CONFIG.block_size
    assert len(sizes) == 1 + -(-(len(big) - first) // CONFIG.block_size)  # no more requests than that


def test_random_reads_are_identical_and_fetch_no_blocks(big: bytes) -> None:
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    rng = random.Random(7)
    for _ in range(40):
        offset = rng.randrange(0, len(big))
        size = rng.randrange(1, 32 * KiB)
        assert stream.read(offset, size) == big[offset:offset + size]
    assert max(end - start for _, start, end in store.requests) <= 2 * CONFIG.first_size
    prefetcher.close()


def test_reads_past_the_end_are_empty_and_short_reads_end_at_eof(big: bytes) -> None:
    prefetcher = Prefetcher(RecordingStore({"f": big}).fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    assert stream.read(len(big), 100) == b""
    assert stream.read(len(big) - 10, 100) == big[-10:]
    assert stream.read(0, 0) == b""
    prefetcher.close()


def test_small_file_is_one_request_and_cached_for_the_next_open() -> None:
    data = os.urandom(100 * KiB)
    store = RecordingStore({"s": data})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    first = prefetcher.stream("s", len(data))
    first.prime()  # what FUSE open does: the request starts before the first read arrives
    assert b"".join(first.read(offset, 4 * KiB) for offset in range(0, len(data), 4 * KiB)) == data
    assert store.requests == [("s", 0, len(data))]
    assert read_sequentially(prefetcher, "s", len(data), 32 * KiB) == data
    assert len(store.requests) == 1  # served from the block cache
    first.close()
    prefetcher.close()


def test_prefetch_respects_the_memory_budget(big: bytes) -> None:
    config = ReadaheadConfig(block_size=1 * MiB, first_size=64 * KiB, ahead=8, workers=4,
                             memory_limit=2 * MiB, small_file=0, cache_size=0)
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, config)
    stream = prefetcher.stream("f", len(big))
    offset = 0
    while data := stream.read(offset, 256 * KiB):
        assert prefetcher.budget.used <= config.memory_limit
        assert data == big[offset:offset + len(data)]
        offset += len(data)
    stream.close()
    assert prefetcher.budget.used == 0  # everything charged was released
    prefetcher.close()


def test_a_failed_fetch_raises_and_a_retry_succeeds(big: bytes) -> None:
    store = RecordingStore({"f": big}, fail_first=1)
    prefetcher = Prefetcher(store.fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    with pytest.raises(ConnectionError):
        stream.read(0, 4096)
    assert stream.read(0, 4096) == big[:4096]
    prefetcher.close()


def test_block_cache_evicts_least_recently_used_by_bytes() -> None:
    cache = BlockCache(capacity=10)
    cache.put(("a", 0), b"1234")
    cache.put(("b", 0), b"5678")
    assert cache.get(("a", 0)) == b"1234"  # a is now the most recently used
    cache.put(("c", 0), b"90ab")
    assert cache.get(("b", 0)) is None
    assert cache.get(("a", 0)) == b"1234" and cache.get(("c", 0)) == b"90ab"
    assert cache.size == 8
    cache.put(("huge", 0), b"x" * 11)  # larger than the cache: not stored
    assert cache.get(("huge", 0)) is None
    cache.discard("a")
    assert cache.get(("a", 0)) is None and cache.size == 4


def test_memory_budget_refuses_beyond_its_limit() -> None:
    budget = MemoryBudget(100)
    assert budget.try_acquire(60)
    assert not budget.try_acquire(50)
    budget.release(60)
    assert budget.try_acquire(100)


def test_concurrent_reads_of_one_stream_are_identical(big: bytes) -> None:
    """A multithreaded FUSE loop sends reads of one file from several threads, slightly reordered."""
    prefetcher = Prefetcher(RecordingStore({"f": big}).fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    chunk = 128 * KiB
    offsets = list(range(0, len(big), chunk))
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def reader(mine: list[int]) -> None:
        try:
            for offset in mine:
                results[offset] = stream.read(offset, chunk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(offsets[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert b"".join(results[offset] for offset in offsets) == big
    prefetcher.close()


def test_reordered_parallel_reads_keep_the_stream(big: bytes) -> None:
    """Reads a little ahead of the window (or behind it) do not restart the stream."""
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    chunk = 256 * KiB
    order = [0, 2 * chunk, chunk, 4 * chunk, 3 * chunk, 5 * chunk, 7 * chunk, 6 * chunk]
    for offset in order:
        assert stream.read(offset, chunk) == big[offset:offset + chunk]
    later = range(8 * chunk, len(big), chunk)
    assert b"".join(stream.read(offset, chunk) for offset in later) == big[8 * chunk:]
    first_sizes = [end - start for _, start, end in store.requests if start == 0]
    assert first_sizes == [chunk]  # the stream started once
    prefetcher.close()


def test_a_read_inside_one_segment_is_a_view_without_a_copy(big: bytes) -> None:
    prefetcher = Prefetcher(RecordingStore({"f": big}).fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    stream.prime()
    inside = stream.read_view(1000, 4 * KiB)
    assert isinstance(inside, memoryview) and bytes(inside) == big[1000:1000 + 4 * KiB]
    across = stream.read_view(CONFIG.first_size - 100, 4 * KiB)  # spans two segments: joined
    assert bytes(across) == big[CONFIG.first_size - 100:CONFIG.first_size - 100 + 4 * KiB]
    stream.close()
    assert bytes(inside) == big[1000:1000 + 4 * KiB]  # still valid after the window is dropped
    prefetcher.close()


def test_sequential_reads_grow_the_window_in_whole_blocks(big: bytes) -> None:
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    assert read_sequentially(prefetcher, "f", len(big), 128 * KiB) == big
    sizes = [end - start for _, start, end in sorted(store.requests, key=lambda r: r[1])]
    assert sizes[0] == 128 * KiB  # the first read, alone
    assert all(size == CONFIG.block_size for size in sizes[1:-1])  # then no ramp: whole blocks
    prefetcher.close()


def test_a_read_behind_the_window_is_served_from_it_without_a_new_request(big: bytes) -> None:
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    for offset in range(0, 3 * MiB, 128 * KiB):
        assert stream.read(offset, 128 * KiB) == big[offset:offset + 128 * KiB]
    requests = len(store.requests)
    late = 3 * MiB - 2 * CONFIG.block_size + 4 * KiB  # a reordered read two blocks behind the newest
    assert stream.read(late, 64 * KiB) == big[late:late + 64 * KiB]
    assert len(store.requests) == requests
    prefetcher.close()


def test_the_window_grows_only_after_the_first_segment_arrived(big: bytes) -> None:
    gate = threading.Event()
    store = RecordingStore({"f": big})

    def fetch(path: str, start: int, end: int) -> bytes:
        if start == 0:
            gate.wait(10)
        return store.fetch(path, start, end)

    prefetcher = Prefetcher(fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    stream.prime()
    reader = threading.Thread(target=stream.read, args=(0, 4 * KiB))
    reader.start()
    reader.join(0.2)
    assert [start for _, start, _ in store.requests] == []  # only the first segment is in flight
    gate.set()
    reader.join(10)
    pause = threading.Event()
    for _ in range(200):  # the window grows from the fetch thread, right after the segment arrives
        if len(store.requests) >= 1 + CONFIG.ahead:
            break
        pause.wait(0.05)
    assert sorted(start for _, start, _ in store.requests)[:2] == [0, CONFIG.first_size]
    prefetcher.close()


def test_segment_pool_reuses_a_buffer_only_when_nothing_refers_to_it() -> None:
    pool = SegmentPool(size=1 * KiB, keep=2)
    first = pool.take(1 * KiB)
    view = memoryview(first)  # e.g. a FUSE reply still on its way
    pool.give(first)
    del first
    assert pool.take(1 * KiB) is not view.obj  # still referenced: a new buffer
    view.release()
    reused = pool.take(1 * KiB)
    assert len(pool) == 0 and len(reused) == 1 * KiB  # the released one came back
    assert len(pool.take(100)) == 100  # other sizes are never pooled
    pool.give(bytearray(100))
    assert len(pool) == 0


def test_sequential_reads_through_a_segment_pool_are_identical(big: bytes) -> None:
    pool = SegmentPool(size=CONFIG.block_size, keep=CONFIG.ahead + 2)
    store = RecordingStore({"f": big})

    def fetch(path: str, start: int, end: int) -> bytearray:
        buffer = pool.take(end - start)  # what store_range_fetch does with a pool
        buffer[:] = store.fetch(path, start, end)
        return buffer

    prefetcher = Prefetcher(fetch, CONFIG, segment_pool=pool)
    for _ in range(3):  # buffers of one file's window come back for the next file
        assert read_sequentially(prefetcher, "f", len(big), 128 * KiB) == big
    assert 0 < len(pool) <= CONFIG.ahead + 2
    prefetcher.close()


def test_a_stream_primed_as_sequential_starts_its_whole_window_at_once(big: bytes) -> None:
    store = RecordingStore({"f": big})
    prefetcher = Prefetcher(store.fetch, CONFIG)
    stream = prefetcher.stream("f", len(big))
    stream.prime(sequential=True)  # FsspecReadOnly: the file was opened in folder order
    pause = threading.Event()
    for _ in range(200):
        if len(store.requests) >= 1 + CONFIG.ahead:
            break
        pause.wait(0.05)
    sizes = sorted((start, end - start) for _, start, end in store.requests)
    assert sizes[0] == (0, CONFIG.first_size)
    assert [size for _, size in sizes[1:]] == [CONFIG.block_size] * CONFIG.ahead
    offsets = range(0, len(big), 128 * KiB)
    assert b"".join(stream.read(offset, 128 * KiB) for offset in offsets) == big
    stream.close()
    prefetcher.close()
