"""Bookkeeping of a transfer: per-file failures, the resume journal, safe paths, file hashes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path, PurePosixPath

from mounts.errors import MountsError, TransferFailed
from mounts.retry import sdk_gave_up
from mounts.stores.base import RemoteFile
from mounts.transfer.tree import printable

MiB = 1 << 20


class FailureLog:
    """Failures per file, and when to stop trying the rest: after ``give_up_after`` files failed
    because the storage stayed unreachable (or kept answering with an error status) through their retries
    (each further file would wait as long for nothing), or at once when the local disk is full."""

    def __init__(self, give_up_after: int = 3) -> None:
        self.failures: dict[str, str] = {}  # attempted and failed: why
        self.skipped: set[str] = set()  # not attempted once ``stop`` was set
        self.stop = threading.Event()
        self.cause: str | None = None  # why the transfer stopped early
        self.no_space = False
        self.hint: str | None = None  # what to do, when every attempt would fail the same way (``refuse``)
        self._outage: dict[str, str] = {}  # failed files counted towards stopping: how (``_outage``)
        self._give_up_after = give_up_after
        self._lock = threading.Lock()

    def __contains__(self, rel: str) -> bool:
        return rel in self.failures

    def record(self, rel: str, exc: BaseException) -> None:
        kind = _outage(exc)
        with self._lock:
            if rel in self.failures:  # another part of the same file: the file failed once
                return
            self.failures[rel] = f"{type(exc).__name__}: {exc}"
            if kind is not None:
                self._outage[rel] = kind
                if len(self._outage) >= self._give_up_after and self.cause is None:
                    self.cause = UNREACHABLE if UNREACHABLE in self._outage.values() else KEPT_FAILING
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
        first, then the first failures), and ``note`` (what happened to partial data). Once an outage
        stopped the transfer, the files it failed are said apart from those that failed otherwise (refused,
        missing, content that did not match), each group with its first failures."""
        if not self.failures and not self.skipped:
            return
        names = sorted(self.failures)
        skipped = sorted(self.skipped - self.failures.keys())
        count = len(names) + len(skipped)
        text = f"{count} of {total} file(s) could not be {what}"
        if self.cause and not self.no_space:  # stopped by an outage: its files apart from the others
            groups = [(kind, [n for n in names if self._outage.get(n) == kind]) for kind in OUTAGES]
            groups = [(kind, group) for kind, group in groups if group]
            others = [n for n in names if n not in self._outage]
            if len(groups) == 1 and not others:
                text += f": {groups[0][0]}{self._listed(names)}"
            else:
                said = [f"{kind} for {len(group)}{self._listed(group)}" for kind, group in groups]
                text += ": " + ", ".join(said + ([f"{len(others)} failed otherwise{self._listed(others)}"]
                                                 if others else []))
        else:
            if self.cause:
                text += f": {self.cause}"
            text += self._listed([n for n in names if self.failures[n] != self.cause])
        if skipped:
            text += f"; {len(skipped)} not attempted"
        raise TransferFailed(text + note, failed=names + skipped, staged=staged, hint=hint or self.hint,
                             disk_full=self.no_space, total=total)

    def _listed(self, names: list[str]) -> str:
        """`` (<name>: <why>; ... and N more)``: the first three of ``names``, each as the job record shows
        it (``printable``: an error may repeat the name), or nothing for none."""
        shown = [printable(f"{n}: {self.failures[n]}") for n in names[:3]]
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        return f" ({'; '.join(shown)}{more})" if shown else ""


UNREACHABLE = "the storage stayed unreachable"
KEPT_FAILING = "the storage kept answering with an error"
OUTAGES = (UNREACHABLE, KEPT_FAILING)
_STATUS = re.compile(r"\bHTTP [1-5]\d\d\b")  # a status in a failure's text: the storage answered


def _outage(exc: BaseException) -> str | None:
    """How a file's failure counts towards stopping the transfer: a connection that could not be made or
    had no answer through the retries (``UNREACHABLE``), an error status the retries outlasted (``KEPT_
    FAILING``: the lean client raises a ``ConnectionError`` saying it, e.g. HTTP 503), or not at all. The
    Azure SDK's errors (the generic path over adlfs) count the same way (``mounts.retry.sdk_gave_up``)."""
    if not isinstance(exc, (ConnectionError, TimeoutError)):
        return {"unreachable": UNREACHABLE, "status": KEPT_FAILING}.get(sdk_gave_up(exc) or "")
    return KEPT_FAILING if _STATUS.search(str(exc)) else UNREACHABLE


class RemoteNameRefused(MountsError, ValueError):
    """A name the store lists that is no path below the destination folder (``bad_segment``), or a file
    and a folder of one name (``folder_clashes``): no rerun can download it, so it is no ``TransferFailed``
    (whose advice is to retry); the message names the stored file(s), why, and how to fix it."""


_SEGMENTS = (("..", "a '..' segment, which would resolve outside the folder it is downloaded into"),
             (".", "a '.' segment, which names its own folder on disk, not a file of its own"),
             ("", "an empty segment (a '/' at its start or end, or two in a row), which no path on disk has"))
FIX = "rename or delete {what} in the storage (a name with no empty, '.' or '..' segment), then try again"


def bad_segment(name: str) -> str | None:
    """Why ``name`` (``/``-separated) is no path below a folder: it has an empty, ``.`` or ``..`` segment
    (``a/../b``; ``a/./b`` and ``a//b`` would land on ``a/b``); None when it is one. A string test, not
    ``PurePosixPath``, which drops ``.`` and empty segments (and substring tests, no split: a listing of
    100,000 names is checked before every download)."""
    framed = f"/{name}/"
    if "//" not in framed and "/./" not in framed and "/../" not in framed:
        return None
    segments = name.split("/")
    return next(why for segment, why in _SEGMENTS if segment in segments)


def safe_relative(rel: str) -> PurePosixPath:
    """``rel`` as a relative path that cannot escape the destination directory (``RemoteNameRefused`` if
    it is none; ``check_listing`` says so for a whole listing, naming the stored file)."""
    why = bad_segment(rel)
    if why is not None:
        raise RemoteNameRefused(f"'{printable(rel)}' from the store cannot be downloaded: its name has "
                                f"{why}; " + FIX.format(what="it"))
    return PurePosixPath(rel)


def folder_clashes(names: Iterable[str]) -> list[tuple[str, str]]:
    """(a file, a name below it as a folder) for each name of ``names`` that is also a folder of another
    (``x`` and ``x/y``), sorted. Set operations over the distinct folders (far fewer than the names), so
    a listing of 100,000 names is checked in a few tens of milliseconds."""
    files = set(names)
    folders: set[str] = set()
    for folder in {name.rpartition("/")[0] for name in files}:
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    clashing = files & folders
    if not clashing:
        return []
    return sorted((name, min(other for other in files if other.startswith(name + "/"))) for name in clashing)


def check_listing(files: Sequence[RemoteFile]) -> None:
    """Raise ``RemoteNameRefused`` before a download starts when a listed name is no path below the
    destination (``bad_segment``) or a file and a folder at once (``folder_clashes``), naming the stored
    file(s) as the storage does (``RemoteFile.path``); nothing is downloaded then."""
    for item in files:
        why = bad_segment(item.rel)
        if why is not None:
            raise RemoteNameRefused(f"'{printable(item.path)}' in the storage cannot be downloaded: its name "
                                    f"has {why}; nothing was downloaded; " + FIX.format(what="that blob"))
    clashes = folder_clashes(item.rel for item in files)
    if clashes:
        path = {item.rel: item.path for item in files}
        file, under = clashes[0]
        more = f" (and {len(clashes) - 1} more such names)" if len(clashes) > 1 else ""
        raise RemoteNameRefused(
            f"'{printable(path[file])}' and '{printable(path[under])}' in the storage cannot both be "
            f"downloaded: '{printable(file)}' would have to be a file and a folder at once (a blob store "
            f"allows both names, a folder on disk cannot){more}; nothing was downloaded, and no rerun can "
            "succeed while both exist: rename or delete one of them in the storage, then try again")


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
