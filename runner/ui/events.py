"""A job's live "Outputs + logs": its log file (``JobDir.std_log``) and status as server-sent events.

Events (``static/job-stream.js`` reads them):

- ``log``: one complete line as text (never HTML); its ``id`` is the byte offset after the line, so a
  reconnecting EventSource resumes where it stopped (``Last-Event-ID``).
- ``skipped``: the number of bytes not sent because the log was already long when the page opened (the
  stream starts with its last ``TAIL_BYTES``; the whole log is a download).
- ``status``: ``{"status": ..., "terminal": ...}`` whenever the status changes.
- ``end``: the job ended and its log is drained; the client closes (else EventSource reconnects).
- ``shutdown``: the server is stopping (``runner.ui.server`` wakes every stream at the start of its
  shutdown, so an open page never holds the server up).

The file is polled (no inotify); a partial last line waits for its newline, or for the job's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runner.jobs.operations import JobOperations
from runner.jobs.recovery import job_dir_of

CHUNK = 256 * 1024
TAIL_BYTES = 1024 * 1024
KEEPALIVE_S = 15.0
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # where an EventSource ends a line


def sse(event: str, data: str, event_id: int | None = None) -> str:
    """One event; ``data`` goes one line per ``data:`` field, split where an EventSource ends a line
    (CRLF, LF or a bare CR): a job's text never ends a line of the stream itself (its own ``event:``)."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head + "".join(f"data: {line}\n" for line in _LINE_BREAK.split(data)) + "\n"


def _read(path: Path, offset: int) -> tuple[int, bytes]:
    """(offset to read from, up to ``CHUNK`` bytes from it); a log that shrank is read from 0."""
    try:
        with path.open("rb") as handle:
            if handle.seek(0, 2) < offset:
                offset = 0
            handle.seek(offset)
            return offset, handle.read(CHUNK)
    except FileNotFoundError:
        return offset, b""


def start_offset(path: Path, last_event_id: str) -> tuple[int, int]:
    """(where the stream starts, bytes skipped): after ``Last-Event-ID``, else the last ``TAIL_BYTES``
    of the log from a line start."""
    if last_event_id.isdigit():
        return int(last_event_id), 0
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0, 0
    if size <= TAIL_BYTES:
        return 0, 0
    with path.open("rb") as handle:  # from the end of the line the cut falls in (or the one before it)
        handle.seek(size - TAIL_BYTES - 1)
        skipped = size - TAIL_BYTES - 1 + len(handle.readline(TAIL_BYTES))
    return skipped, skipped


async def job_events(request: Request) -> Response:
    ops: JobOperations = request.app.state.jobs
    name = request.path_params["name"]
    record = await run_in_threadpool(ops.refresh, name)  # an unknown job: 404 before the stream opens
    log_path = job_dir_of(ops.workspace, record).std_log
    offset, skipped = start_offset(log_path, request.headers.get("last-event-id", ""))
    return StreamingResponse(_stream(request, ops, name, log_path, offset, skipped),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _stream(request: Request, ops: JobOperations, name: str, log_path: Path, offset: int,
                  skipped: int) -> AsyncIterator[str]:
    shutdown: asyncio.Event = request.app.state.shutdown
    poll: float = request.app.state.poll_interval
    loop = asyncio.get_running_loop()
    status, quiet_since = "", loop.time()
    yield "retry: 1000\n\n"
    if skipped:
        yield sse("skipped", str(skipped))
    while True:
        record = await run_in_threadpool(ops.refresh, name)
        offset, chunk = _read(log_path, offset)
        complete = chunk.rfind(b"\n") + 1
        if not complete and len(chunk) == CHUNK:  # a line longer than a chunk goes in pieces
            complete = len(chunk)
        sent = bool(complete)
        events = []  # one write per chunk, not one per line (a 1 MiB tail is ~20,000 lines)
        for raw in chunk[:complete].splitlines(keepends=True):
            offset += len(raw)
            events.append(sse("log", raw.decode("utf-8", "replace").rstrip("\r\n"), offset))
        if events:
            yield "".join(events)
        if record.status.value != status:
            status, sent = record.status.value, True
            yield sse("status", json.dumps({"status": status, "terminal": record.status.is_terminal}))
        if record.status.is_terminal and len(chunk) < CHUNK:  # ended, and the log is drained
            if chunk[complete:]:  # a last line without its newline
                offset += len(chunk) - complete
                yield sse("log", chunk[complete:].decode("utf-8", "replace"), offset)
            yield sse("end", status)
            return
        if sent:
            quiet_since = loop.time()
        elif loop.time() - quiet_since > KEEPALIVE_S:
            yield ": keepalive\n\n"
            quiet_since = loop.time()
        if len(chunk) == CHUNK:  # more to send at once
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shutdown.wait(), timeout=poll)
        if shutdown.is_set():
            yield sse("shutdown", "the server is stopping")
            return
