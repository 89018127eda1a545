"""Bookkeeping of a transfer: per-file failures, the resume journal, safe paths, file hashes."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path, PurePosixPath

from mounts.errors import TransferFailed
from mounts.stores.base import RemoteFile
from mounts.transfer.tree import printable

MiB = 1 << 20


class FailureLog:
    """Failures per file, and when to stop trying the rest: after ``give_up_after`` files failed
    because the storage stayed unreachable through their retries (each further file would wait as long
    for nothing), or at once when the local disk is full."""

    def __init__(self, give_up_after: int = 3) -> None:
        self.failures: dict[str, str] = {}  # attempted and failed: why
        self.skipped: set[str] = set()  # not attempted once ``stop`` was set
        self.stop = threading.Event()
        self.cause: str | None = None  # why the transfer stopped early
        self.no_space = False
        self.hint: str | None = None  # what to do, when every attempt would fail the same way (``refuse``)
        self._unreachable = 0
        self._give_up_after = give_up_after
        self._lock = threading.Lock()

    def __contains__(self, rel: str) -> bool:
        return rel in self.failures

    def record(self, rel: str, exc: BaseException) -> None:
        with self._lock:
            self.failures.setdefault(rel, f"{type(exc).__name__}: {exc}")
            if isinstance(exc, (ConnectionError, TimeoutError)):
                self._unreachable += 1
                if self._unreachable >= self._give_up_after and self.cause is None:
                    self.cause = "the storage stayed unreachable"
                    self.stop.set()

    def refuse(self, rel: str, why: str, hint: str) -> None:
        """``rel`` is not attempted: no attempt could succeed (``why``; ``hint``: what to do)."""
        with self._lock:
            self.failures.setdefault(rel, why)
            self.hint = self.hint or hint

    def disk_full(self, rel: str, message: str) -> None:
        """``rel`` could not be written: no space left (``message`` says where). Stops the transfer."""
        with self._lock:
            self.failures.setdefault(rel, message)
            self.cause, self.no_space = message, True
            self.stop.set()

    def skip(self, rel: str) -> None:
        with self._lock:
            self.skipped.add(rel)

    def raise_if_any(self, what: str, total: int, *, hint: str | None = None,
                     staged: Path | None = None, note: str = "") -> None:
        """Raise ``TransferFailed``: how many of ``total`` files could not be ``what``, why (the cause
        first, then the first failures), and ``note`` (what happened to partial data)."""
        if not self.failures and not self.skipped:
            return
        names = sorted(self.failures)
        skipped = sorted(self.skipped - self.failures.keys())
        count = len(names) + len(skipped)
        text = f"{count} of {total} file(s) could not be {what}"
        if self.cause:
            text += f": {self.cause}"
        # each name (and why: an error may repeat it) as the job record shows it (``printable``)
        shown = [printable(f"{n}: {self.failures[n]}") for n in names[:3] if self.failures[n] != self.cause]
        if shown:
            text += f" ({'; '.join(shown)}{f' and {len(names) - 3} more' if len(names) > 3 else ''})"
        if skipped:
            text += f"; {len(skipped)} not attempted"
        raise TransferFailed(text + note, failed=names + skipped, staged=staged, hint=hint or self.hint,
                             disk_full=self.no_space, total=total)


def safe_relative(rel: str) -> PurePosixPath:
    """``rel`` as a relative path that cannot escape the destination directory."""
    path = PurePosixPath(rel)
    if path.is_absolute() or not path.parts or any(p in ("..", ".", "") for p in path.parts):
        raise ValueError(f"refusing unsafe path {rel!r} from the store")
    return path


def file_id(rel: str) -> str:
    return hashlib.sha1(rel.encode()).hexdigest()[:20]


def md5_of_file(path: Path, chunk: int = 1 * MiB) -> bytes:
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        while block := stream.read(chunk):
            digest.update(block)
    return digest.digest()


class DownloadJournal:
    """Append-only record of finished files, so an interrupted download resumes where it stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = -1  # the journal, opened for appending on the first record
        self.done: dict[str, tuple[int, str | None]] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                    self.done[record["rel"]] = (int(record["size"]), record.get("etag"))
                except (ValueError, KeyError):
                    continue  # a torn last line after a crash

    def is_done(self, item: RemoteFile, dest: Path) -> bool:
        if self.done.get(item.rel) != (item.size, item.etag):
            return False
        return dest.is_file() and dest.stat().st_size == item.size

    def record(self, item: RemoteFile) -> None:
        line = (json.dumps({"rel": item.rel, "size": item.size, "etag": item.etag}) + "\n").encode()
        fd = self._fd if self._fd >= 0 else self._open()
        # one O_APPEND write per record, in the OS once the file is in place (a crash keeps it); no
        # lock around the syscall: a lock held while the writer waits for the GIL again convoys every
        # worker behind it (the largest CPU-side cost of many small files)
        os.write(fd, line)

    def _open(self) -> int:
        with self._lock:
            if self._fd < 0:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            return self._fd

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


class TaskWindow:
    """Submits tasks to ``pool`` with at most ``limit`` of them queued or running at once: the caller
    blocks until one finishes. A transfer of 100,000 files queued up front would hold 100,000 futures
    and their arguments (~190 MB) before the first byte moved; the window keeps that to ``limit``."""

    def __init__(self, pool: Executor, limit: int) -> None:
        self._pool = pool
        self._slots = threading.BoundedSemaphore(limit)

    def submit(self, work: Callable[..., object], *args: object) -> None:
        self._slots.acquire()
        try:
            future = self._pool.submit(work, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(self._release)

    def _release(self, _future: Future[object]) -> None:
        self._slots.release()
