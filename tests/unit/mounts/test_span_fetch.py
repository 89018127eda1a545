"""Spans: one streamed request fills the readahead's segments in order, stops when told, fails cleanly."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future

import pytest

from mounts.fuse.range_fetch import Buffer
from mounts.fuse.readahead import Prefetcher, ReadaheadConfig
from mounts.fuse.segment_pool import SegmentPool
from mounts.fuse.span_fetch import Span, SpanFetcher

KiB = 1024
MiB = 1024 * KiB
WAIT = 10.0  # seconds: a bound for a hang, never a timing assertion


class StreamingStore:
    """Serves ``receive`` (``mounts.fuse.range_fetch.Receive``) from memory in ``chunk``-sized recvs, like a
    socket; records each request; can stop before a given offset (gate) or fail there once."""

    def __init__(self, data: bytes, chunk: int = 64 * KiB) -> None:
        self.data = data
        self.chunk = chunk
        self.requests: list[tuple[int, int]] = []
        self.received = 0  # bytes handed out over all requests
        self.gate: tuple[int, threading.Event] | None = None  # block before this offset until set
        self.fail_at: int | None = None  # one ConnectionError before this offset
        self.resumes = 0  # requests the store retried itself (as AzureBlobStore.receive_range does)

    def receive(self, path: str, start: int, end: int, target: Callable[[int], memoryview],
                received: Callable[[memoryview], None]) -> None:
        self.requests.append((start, end))
        position = start
        while position < end:
            if self.gate is not None and position >= self.gate[0]:
                assert self.gate[1].wait(WAIT)
                self.gate = None
            if self.fail_at is not None and position >= self.fail_at:
                self.fail_at = None
                self.resumes += 1  # the client resumes at ``position``: nothing is delivered twice
            view = target(position)
            count = min(len(view), self.chunk, end - position)
            view[:count] = self.data[position:position + count]
            self.received += count
            received(view[:count])
            position += count


def futures(span: Span, start: int, size: int, count: int) -> list[Future[Buffer]]:
    out = []
    for index in range(count):
        future: Future[Buffer] = Future()
        assert span.attach(start + index * size, start + (index + 1) * size, future)
        out.append(future)
    return out


@pytest.fixture
def data() -> bytes:
    return os.urandom(8 * MiB + 333)


def start(span: Span) -> threading.Thread:
    thread = threading.Thread(target=span.run, daemon=True)
    thread.start()
    return thread


def test_one_request_fills_the_attached_segments_in_order(data: bytes) -> None:
    store = StreamingStore(data)
    span = Span(store.receive, "f", 1 * MiB, 5 * MiB, None, idle_timeout=WAIT)
    parts = futures(span, 1 * MiB, 1 * MiB, 4)
    thread = start(span)
    for index, future in enumerate(parts):
        assert bytes(future.result(WAIT)) == data[(1 + index) * MiB:(2 + index) * MiB]
    thread.join(WAIT)
    assert store.requests == [(1 * MiB, 5 * MiB)]
    assert not span.attach(5 * MiB, 6 * MiB, Future())  # past its range: the caller opens another


def test_the_span_reads_no_further_than_the_attached_segments(data: bytes) -> None:
    """The memory bound: bytes are received only into segments the window attached."""
    store = StreamingStore(data)
    span = Span(store.receive, "f", 0, 8 * MiB, None, idle_timeout=WAIT)
    first = futures(span, 0, 1 * MiB, 2)
    thread = start(span)
    assert first[1].result(WAIT)
    pause = threading.Event()
    pause.wait(0.1)  # (room for a wrong implementation to read on; no timing is asserted)
    assert store.received == 2 * MiB
    later: Future[Buffer] = Future()
    assert span.attach(2 * MiB, 3 * MiB, later)
    assert bytes(later.result(WAIT)) == data[2 * MiB:3 * MiB]
    assert store.received == 3 * MiB
    span.seal()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_seal_stops_after_the_attached_segments(data: bytes) -> None:
    store = StreamingStore(data)
    span = Span(store.receive, "f", 0, 8 * MiB, None, idle_timeout=WAIT)
    parts = futures(span, 0, 1 * MiB, 2)
    span.seal()
    thread = start(span)
    thread.join(WAIT)
    assert [bytes(f.result(0)) for f in parts] == [data[:MiB], data[MiB:2 * MiB]]
    assert store.received == 2 * MiB
    assert not span.attach(2 * MiB, 3 * MiB, Future())


def test_an_idle_span_ends_and_refuses_later_segments(data: bytes) -> None:
    store = StreamingStore(data)
    span = Span(store.receive, "f", 0, 8 * MiB, None, idle_timeout=0.05)
    parts = futures(span, 0, 1 * MiB, 1)
    thread = start(span)
    thread.join(WAIT)
    assert bytes(parts[0].result(0)) == data[:MiB]
    assert not span.attach(1 * MiB, 2 * MiB, Future())


def test_cancel_mid_segment_fails_that_segment_and_cancels_the_rest(data: bytes) -> None:
    store = StreamingStore(data)
    gate = threading.Event()
    store.gate = (MiB + 512 * KiB, gate)  # the request stalls half-way through the second segment
    span = Span(store.receive, "f", 0, 8 * MiB, None, idle_timeout=WAIT)
    parts = futures(span, 0, 1 * MiB, 4)
    thread = start(span)
    assert bytes(parts[0].result(WAIT)) == data[:MiB]
    span.cancel()  # e.g. the file was closed
    gate.set()
    thread.join(WAIT)
    with pytest.raises(CancelledError):
        parts[1].result(0)  # half filled: a reader still waiting fetches its bytes alone
    assert all(future.cancelled() for future in parts[2:])
    assert store.received < 2 * MiB  # stopped within the segment being received, not at the end


def test_an_error_mid_stream_fails_every_segment_not_filled(data: bytes) -> None:
    def failing(path: str, start: int, end: int, target: Callable[[int], memoryview],
                received: Callable[[memoryview], None]) -> None:
        view = target(start)
        view[:100] = data[start:start + 100]
        received(view[:100])
        raise ConnectionError("storage unavailable")  # the client's retries were spent

    span = Span(failing, "f", 0, 4 * MiB, None, idle_timeout=WAIT)
    parts = futures(span, 0, 1 * MiB, 3)
    start(span).join(WAIT)
    for future in parts:
        with pytest.raises(ConnectionError):
            future.result(0)
    assert not span.attach(3 * MiB, 4 * MiB, Future())


def test_a_resumed_request_delivers_each_byte_once(data: bytes) -> None:
    store = StreamingStore(data)
    store.fail_at = MiB + 100  # the client resumes from the byte it reached
    span = Span(store.receive, "f", 0, 3 * MiB, None, idle_timeout=WAIT)
    parts = futures(span, 0, 1 * MiB, 3)
    start(span).join(WAIT)
    assert b"".join(bytes(f.result(0)) for f in parts) == data[:3 * MiB]
    assert store.resumes == 1 and store.received == 3 * MiB


def test_a_segment_dropped_before_its_turn_is_skipped_and_the_next_one_filled(data: bytes) -> None:
    store = StreamingStore(data)
    pool = SegmentPool(1 * MiB, keep=2)
    span = Span(store.receive, "f", 0, 3 * MiB, pool, idle_timeout=WAIT)
    parts = futures(span, 0, 1 * MiB, 3)
    assert parts[1].cancel()  # the window let it go while it was still queued
    start(span).join(WAIT)
    assert bytes(parts[2].result(0)) == data[2 * MiB:3 * MiB]
    assert store.requests == [(0, 3 * MiB)] and len(pool) == 1  # one request; its buffer reused


def test_the_fetcher_caps_running_spans_and_close_cancels_them(data: bytes) -> None:
    store = StreamingStore(data)
    fetcher = SpanFetcher(store.receive, limit=1, idle_timeout=WAIT)
    span = fetcher.open("f", 0, 4 * MiB)
    assert span is not None and fetcher.open("g", 0, 1 * MiB) is None
    fetcher.close()  # the span was waiting for a segment: it stops
    for _ in range(200):
        if fetcher.active == 0:
            break
        threading.Event().wait(0.05)
    assert fetcher.active == 0
    assert not span.attach(0, 1 * MiB, Future())
    assert fetcher.open("g", 0, 1 * MiB) is None
    assert store.received == 0


CONFIG = ReadaheadConfig(block_size=1 * MiB, first_size=64 * KiB, ahead=3, workers=4, memory_limit=16 * MiB,
                         small_file=128 * KiB, cache_size=1 * MiB, span_size=2 * MiB, span_limit=4 * MiB)


def readahead(data: bytes, config: ReadaheadConfig = CONFIG) -> tuple[Prefetcher, StreamingStore, list]:
    store = StreamingStore(data)
    segment_requests: list[tuple[int, int]] = []

    def fetch(path: str, start: int, end: int) -> bytes:
        segment_requests.append((start, end))
        return data[start:end]

    return Prefetcher(fetch, config, spans=SpanFetcher(store.receive)), store, segment_requests


def test_sequential_reads_go_through_few_growing_spans(data: bytes) -> None:
    prefetcher, store, segments = readahead(data)
    stream = prefetcher.stream("f", len(data))
    offsets = range(0, len(data), 128 * KiB)
    assert b"".join(stream.read(offset, 128 * KiB) for offset in offsets) == data
    stream.close()
    spans = [end - start for start, end in store.requests]
    assert spans[:2] == [2 * MiB, 4 * MiB] and max(spans) <= CONFIG.span_limit  # doubling, capped
    assert all(end - start < CONFIG.block_size for start, end in segments)  # blocks only in spans
    covered = sorted(segments + store.requests)
    assert covered[0][0] == 0 and covered[-1][1] == len(data)
    prefetcher.close()


def test_spans_keep_the_window_within_the_memory_budget(data: bytes) -> None:
    prefetcher, store, _ = readahead(data)
    stream = prefetcher.stream("f", len(data))
    offset = 0
    while chunk := stream.read(offset, 256 * KiB):
        assert chunk == data[offset:offset + len(chunk)]
        assert prefetcher.budget.used <= CONFIG.memory_limit
        # never more received than the window holds: ahead segments plus the one being read, and behind
        window = (CONFIG.ahead + 1) * CONFIG.block_size + CONFIG.behind
        assert store.received <= offset + len(chunk) + window
        offset += len(chunk)
    stream.close()
    assert prefetcher.budget.used == 0
    prefetcher.close()


def test_a_seek_away_cancels_the_span_and_reads_stay_correct(data: bytes) -> None:
    prefetcher, store, _ = readahead(data)
    stream = prefetcher.stream("f", len(data))
    for offset in range(0, 3 * MiB, 128 * KiB):
        assert stream.read(offset, 128 * KiB) == data[offset:offset + 128 * KiB]
    assert store.requests  # sequential: a span is running
    far = 7 * MiB + 5
    assert stream.read(far, 4 * KiB) == data[far:far + 4 * KiB]  # a new stream, small request
    for _ in range(200):
        if prefetcher.spans is not None and prefetcher.spans.active == 0:
            break
        threading.Event().wait(0.05)
    assert prefetcher.spans is not None and prefetcher.spans.active == 0
    stream.close()
    prefetcher.close()


def test_without_span_support_segments_are_fetched_one_by_one(data: bytes) -> None:
    requests: list[tuple[int, int]] = []

    def fetch(path: str, start: int, end: int) -> bytes:
        requests.append((start, end))
        return data[start:end]

    prefetcher = Prefetcher(fetch, CONFIG)  # e.g. an fsspec store: no SpanFetcher
    stream = prefetcher.stream("f", len(data))
    assert b"".join(stream.read(o, 128 * KiB) for o in range(0, len(data), 128 * KiB)) == data
    assert max(end - start for start, end in requests) == CONFIG.block_size
    prefetcher.close()
