"""One ranged GET that fills several readahead segments in order, as its body arrives.

Why: a sequential read through the mount is limited by the store's CPU (Azurite: one Node core), and
one stream costs it less than several in parallel (``bench/azurite_range_cost.py``; Azurite's CPU per
GiB fell 5-16%). Through the mount it measured no faster on this machine, so ``ReadaheadConfig``
leaves it off by default (bench/RESULTS.md, "Spanning requests").

A ``Span`` covers ``[start, end)`` of one file with one request, one connection and one thread. The
readahead window (``mounts.fuse.readahead``) still decides what is fetched and bounds memory:
it creates its segments as before and *attaches* each one to the file's span instead of sending a
request for it. The span's thread receives the body straight into the attached segments' buffers, one
after the other, and resolves each segment's future as soon as it is full: a reader waits for its
segment, never for the whole request. While no segment is attached the thread reads nothing more (the
socket buffers fill and TCP slows the server), so memory stays bounded by the window.

How a span ends:

* its range is received (the connection goes back to the pool);
* ``seal()``: no more segments will come (the next one opened a new span): stop once the attached ones
  are filled;
* idle: nothing attached for ``idle_timeout`` seconds (the reader paused): stop;
* ``cancel()``: the window was dropped (file closed, seek away, error): stop at once; a segment half
  filled fails with ``CancelledError`` (a reader still waiting for it then fetches its bytes alone);
* an error the client gave up on (it resumes a dropped connection from the byte reached itself): every
  segment not filled yet fails with it, as a failed request fails its segment.

A span that stops early closes its connection instead of reading the rest of the body. A segment the
window dropped before the span reached it (a straggling read moved the window) is received and thrown
away: cheaper than a new request for what follows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass

from mounts.fuse.range_fetch import Buffer, Receive
from mounts.fuse.segment_pool import SegmentPool

log = logging.getLogger(__name__)


class SpanStopped(Exception):
    """Ends a span's request from inside its receive loop (the client does not retry it)."""


@dataclass
class _Part:
    """An attached segment: ``buffer`` is set once the span starts filling it."""

    start: int
    end: int
    future: Future[Buffer]
    buffer: Buffer | None = None
    filled: int = 0
    wanted: bool = True  # False: the window dropped it before its turn (received, then discarded)


class Span:
    """``[start, end)`` of ``path`` in one request, filling the segments attached to it in order."""

    def __init__(self, receive: Receive, path: str, start: int, end: int, pool: SegmentPool | None,
                 idle_timeout: float) -> None:
        self.path, self.start, self.end = path, start, end
        self._receive = receive
        self._pool = pool
        self._idle_timeout = idle_timeout
        self._parts: deque[_Part] = deque()  # attached and not filled yet; the first may be filling
        self._next = start  # where the next attached segment must start
        self._sealed = False
        self._cancelled = False
        self._cond = threading.Condition(threading.Lock())

    def attach(self, start: int, end: int, future: Future[Buffer]) -> bool:
        """Have the span fill ``[start, end)`` into ``future`` (False: not where the span is, or it
        ended; the caller fetches the segment otherwise)."""
        with self._cond:
            if self._sealed or self._cancelled or start != self._next or end > self.end:
                return False
            self._parts.append(_Part(start, end, future))
            self._next = end
            self._cond.notify()
            return True

    def seal(self) -> None:
        """No more segments: stop once the attached ones are filled."""
        with self._cond:
            self._sealed = True
            self._cond.notify()

    def cancel(self) -> None:
        """Stop now (checked between receives: at most one segment's recv later)."""
        with self._cond:
            self._cancelled = True
            self._cond.notify()

    def run(self) -> None:
        """The request (on the span's own thread)."""
        error: BaseException = CancelledError()
        try:
            self._receive(self.path, self.start, self.end, self._target, self._received)
        except SpanStopped:
            pass
        except Exception as exc:  # noqa: BLE001 - handed to the segments' readers
            log.debug("span %s [%d, %d) failed: %r", self.path, self.start, self.end, exc)
            error = exc
        finally:
            self._finish(error)

    # -- the receive loop's callbacks (span thread) --

    def _target(self, position: int) -> memoryview:
        """Where the bytes at ``position`` go: the rest of the segment being filled, or the next
        attached one (waiting for it to be attached)."""
        with self._cond:
            deadline = time.monotonic() + self._idle_timeout
            while not self._parts and not (self._sealed or self._cancelled):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._sealed = True  # the reader paused: end the request, the next span resumes
                    break
                self._cond.wait(remaining)
            if self._cancelled or not self._parts:
                raise SpanStopped
            part = self._parts[0]
        if part.start + part.filled != position:
            raise RuntimeError(f"span of {self.path}: at {position}, segment at {part.start + part.filled}")
        if part.buffer is None:
            part.wanted = part.future.set_running_or_notify_cancel()
            length = part.end - part.start
            part.buffer = self._pool.take(length) if self._pool is not None else bytearray(length)
        return memoryview(part.buffer)[part.filled:]

    def _received(self, chunk: memoryview) -> None:
        with self._cond:
            part = self._parts[0]
            part.filled += len(chunk)
            if part.filled < part.end - part.start:
                return
            self._parts.popleft()
        if part.wanted:
            part.future.set_result(part.buffer)  # type: ignore[arg-type]  # set in _target
        elif self._pool is not None:
            self._pool.give(part.buffer)

    def _finish(self, error: BaseException) -> None:
        """The request ended: what was attached and not filled fails (or is cancelled)."""
        with self._cond:
            self._sealed = True
            parts = list(self._parts)
            self._parts.clear()
        for part in parts:
            if part.buffer is not None:  # being filled: its future is running
                if part.wanted:
                    part.future.set_exception(error)
            elif isinstance(error, CancelledError):
                part.future.cancel()
            elif part.future.set_running_or_notify_cancel():
                part.future.set_exception(error)


class SpanFetcher:
    """Opens the spans of one mount's streams, each on its own thread (not the readahead pool: a span
    waits for its reader). At most ``limit`` run at once; beyond that segments are fetched one by one."""

    def __init__(self, receive: Receive, pool: SegmentPool | None = None, limit: int = 4,
                 idle_timeout: float = 10.0) -> None:
        self._receive = receive
        self._pool = pool
        self.limit = limit
        self.idle_timeout = idle_timeout
        self._active: set[Span] = set()
        self._closed = False
        self._lock = threading.Lock()

    def open(self, path: str, start: int, end: int) -> Span | None:
        """A new span whose request starts now (None when ``limit`` spans are running)."""
        with self._lock:
            if self._closed or len(self._active) >= self.limit:
                return None
            span = Span(self._receive, path, start, end, self._pool, self.idle_timeout)
            self._active.add(span)
        threading.Thread(target=self._run, args=(span,), name="readahead-span", daemon=True).start()
        return span

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._active)

    def _run(self, span: Span) -> None:
        try:
            span.run()
        finally:
            with self._lock:
                self._active.discard(span)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spans = list(self._active)
        for span in spans:
            span.cancel()
