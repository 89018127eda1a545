"""The download engine: parallel ranged reads of large files, many small files at once, bounded memory,
verified, resumable. (Uploads: ``mounts.transfer.uploader``.)

How a download goes:

* every file is one task (a whole-object GET) unless it is larger than ``multipart_threshold``; then it is
  split by ``plan_parts`` into a first part and ``part_size`` parts, each a ranged GET, fetched in
  order by ``streams_per_file`` tasks; all tasks share one bounded thread pool, so large and small
  files move at the same time; when a ranged file's MD5 is checked, the finished prefix is hashed
  while later parts arrive;
* bytes stream from the socket into the file with ``os.pwrite`` through a 1 MiB buffer per worker:
  memory is ``workers x 1 MiB`` whatever the file sizes; each buffer goes to the file in writes of at
  most ``WRITE_SIZE`` (see there: that halves the kernel's CPU per GiB) that end on its multiples, so
  none covers a page in part, one stream at a time per file (``PartedFile.write_lock``: the kernel
  serializes them anyway, and spins the waiters);
* data lands in ``<state>/tmp/<id>.part`` and replaces its destination only after its size matched,
  and its MD5 where the store keeps one (see ``TransferOptions.wants_md5`` for ranged files); with
  ``in_place`` (``dest`` is a private staging folder: a job's ``data/``, a cache entry's partial
  folder) a file fetched in one request and not there yet is written at its destination instead, and
  removed if it fails; either is journaled as done only once verified. On Azure every read is checked
  against the listed etag, so a blob replaced mid-download fails instead of mixing;
* resume: a finished file is appended to ``<state>/done.jsonl`` (rel, size, etag) and skipped by a rerun
  when it is still there with that size; a large file keeps its ``.part`` data plus
  ``<state>/parts/<id>.json`` (etag, size, finished part offsets, and how far each failed part got),
  so a rerun fetches only the missing bytes. Within one run the store resumes a dropped read from the
  byte it reached (``mounts.retry``: for up to ``RUNNER_RETRY_TOTAL_S`` of failures). A resumed
  ``in_place`` download ends by removing what the listing no longer names (``prune_unlisted``: a
  file deleted from the store since the interrupted run), so it holds what a fresh one would.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mounts.errors import is_no_space, no_space_message
from mounts.stores.base import BlobStore, RemoteFile
from mounts.transfer.parts import PartedFile, plan_parts
from mounts.transfer.progress import TransferProgress
from mounts.transfer.state import (
    DownloadJournal,
    FailureLog,
    TaskWindow,
    check_listing,
    file_id,
    md5_of_file,
    safe_relative,
)
from mounts.transfer.tree import iter_entries

__all__ = ["DownloadJournal", "Downloader", "FailureLog", "TransferOptions", "download_files", "file_id",
           "md5_of_file", "plan_parts", "safe_relative"]

log = logging.getLogger(__name__)

MiB = 1 << 20
# tasks queued or running per worker (``TaskWindow``): enough to keep every worker busy, few enough
# that memory does not grow with the number of files
TASKS_PER_WORKER = 4
# The largest single write into a file being downloaded. The kernel's page-cache copy is most of a
# download's CPU (the socket copy and Python are small beside it), and its cost per byte depends on
# the write size: the page cache allocates a folio as large as the write (ext4, Linux 6.18 here);
# above 32 KiB (order 3, the largest the kernel keeps on its per-CPU free lists) they come from the
# buddy allocator and were ~2x slower to fill here (likely cold pages of this VM). In-process CPU of
# a download, medians of 4 interleaved runs, load ~10 (bench/RESULTS.md, "CPU per GiB"): 1 GiB 1.99 s
# with 256 KiB writes, 0.91 s with 32 KiB (1 MiB writes before: 1.34-1.67 s), rclone copy 1.20 s
# (it writes 32 KiB at a time); 20 x 50 MiB 2.20 / 0.85 s, rclone 1.13 s. The socket is still read
# 1 MiB at a time (one recv, one GIL hand-off per MiB).
WRITE_SIZE = 32 * 1024


def _md5_mode() -> str:
    return os.environ.get("RUNNER_VERIFY_MD5", "").strip().lower()


@dataclass(frozen=True)
class TransferOptions:
    """Knobs of the engine; the defaults suit a 2-core machine against Azurite or Azure."""

    workers: int = 16  # concurrent requests
    streams_per_file: int = 8  # concurrent ranged reads of one large file (4 -> 8: 256 MiB 0.9 -> 0.75 s)
    # 16 MiB parts: a 50 MiB file is 3 ranged GETs instead of 7 (20 x 50 MiB on Azurite: median
    # 2.54 -> 1.68 s); a download is only usable once complete, so the first part need not be small
    part_size: int = 16 * MiB  # ranged-read size for large downloads
    first_part: int = 16 * MiB  # the first part (smaller values make the start arrive sooner)
    multipart_threshold: int = 16 * MiB  # downloads larger than this are split into parts
    block_size: int = 8 * MiB  # upload block size
    single_put_max: int = 4 * MiB  # uploads up to this size go in one request, read into memory
    stream_put_max: int = 64 * MiB  # ...up to this size in one streamed request, where the store can
    max_blocks_in_flight: int = 8  # upload blocks held in memory at once
    # MD5 is checked where the store keeps one, for every file fetched in one request (hashed as it
    # streams in: nearly free). A file fetched as ranged parts would need a second, sequential pass
    # over its bytes (~2.5 s of CPU per GiB on this machine), so by default it is checked by size and by
    # its etag, checked on every ranged read (Azure; rclone skips the hash of multi-thread downloads too);
    # RUNNER_VERIFY_MD5=all (or md5_multipart=True) adds that pass, RUNNER_VERIFY_MD5=0 turns MD5 off.
    verify_md5: bool = field(default_factory=lambda: _md5_mode() != "0")
    md5_multipart: bool = field(default_factory=lambda: _md5_mode() == "all")

    def wants_md5(self, item: RemoteFile) -> bool:
        if item.md5 is None or not self.verify_md5:
            return False
        return self.md5_multipart or item.size <= self.multipart_threshold


class _Aborted(Exception):
    """Raised inside workers once the transfer was interrupted."""


class Downloader:
    """Copies ``RemoteFile``s from a store into ``dest`` (see the module docstring)."""

    def __init__(self, store: BlobStore, dest: Path, state: Path, options: TransferOptions,
                 progress: TransferProgress, *, in_place: bool = False) -> None:
        self.store, self.dest, self.state = store, dest, state
        self.options, self.progress = options, progress
        self.in_place = in_place  # ``dest`` is a private staging folder (see ``_fetch_whole``)
        self.failures = FailureLog()
        self._abort = threading.Event()
        self._made_dirs: set[Path] = set()
        for sub in ("tmp", "parts"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        dest.mkdir(parents=True, exist_ok=True)
        # a staging folder that holds something already is an interrupted download being resumed: what
        # the listing no longer names is removed at the end (a file deleted from the store meanwhile)
        self._resuming = in_place and _non_empty(dest)
        self.journal = DownloadJournal(state / "done.jsonl")

    def run(self, files: Iterable[RemoteFile]) -> None:
        """Download every file; raise ``TransferFailed`` naming the files that could not be fetched."""
        pool = ThreadPoolExecutor(self.options.workers, thread_name_prefix="download")
        tasks = TaskWindow(pool, self.options.workers * TASKS_PER_WORKER)  # bounded, whatever the count
        self._parted: list[PartedFile] = []
        listed: set[str] = set()
        total = 0
        try:
            for item in files:
                total += 1
                if self._resuming:
                    listed.add(str(safe_relative(item.rel)))
                self._schedule(tasks, item)
            pool.shutdown(wait=True)
        except BaseException:
            self._abort.set()  # interrupted: stop workers at their next chunk, keep .part data
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for parted in self._parted:
                parted.close()
            self.journal.close()
        self.failures.raise_if_any("downloaded", total)
        if self._resuming:
            prune_unlisted(self.dest, listed)

    def _schedule(self, tasks: TaskWindow, item: RemoteFile) -> None:
        dest = self.dest / safe_relative(item.rel)
        if self.journal.is_done(item, dest):
            self.progress.advance(item.size)
            self.progress.file_done()
            return
        opts = self.options
        parts = plan_parts(item.size, opts.part_size, opts.first_part, opts.multipart_threshold)
        if len(parts) == 1:
            tasks.submit(self._guard, item.rel, self._fetch_whole, item, dest)
            return
        tmp = self.state / "tmp" / f"{file_id(item.rel)}.part"
        parted = PartedFile(item, tmp, self.state / "parts" / f"{file_id(item.rel)}.json", parts)
        self._parted.append(parted)
        self.progress.advance(parted.resumed_bytes())
        if not parted.pending:
            parted.close()
            tasks.submit(self._guard, item.rel, self._finish, item, tmp, dest, None)
            return
        for _ in range(min(self.options.streams_per_file, len(parted.pending))):
            tasks.submit(self._guard, item.rel, self._fetch_stream, parted, dest)

    def _guard(self, rel: str, work: Callable[..., None], *args: object) -> None:
        if self._abort.is_set() or rel in self.failures:
            return
        if self.failures.stop.is_set():
            self.failures.skip(rel)
            return
        try:
            work(*args)
        except _Aborted:
            return
        except Exception as exc:  # noqa: BLE001 - every failure is reported per file
            if is_no_space(exc):  # the disk is full: every other file would fail the same way
                self.failures.disk_full(rel, no_space_message(self.dest))
                return
            log.warning("download of %s failed: %s", rel, exc)
            self.failures.record(rel, exc)

    def _fetch_whole(self, item: RemoteFile, dest: Path) -> None:
        """Fetch a file in one request. With ``in_place`` (``dest`` is a private staging folder nothing
        reads before the whole download succeeded) a file not there yet is written at ``dest`` itself,
        and the journal, not the file's presence, says it is done: staging it elsewhere and renaming it
        cost as much as the write (py-spy, 2,000 x 64 KiB: create 12 %, write 12 %, rename 10 %;
        bench/RESULTS.md). Otherwise, or when something is at ``dest`` already (a user's file, what a
        crash left, a link), it goes to ``<state>/tmp`` and replaces ``dest`` only once verified."""
        digest = hashlib.md5() if self.options.wants_md5(item) else None
        target, fd = dest, -1
        if self.in_place:
            self._make_parent(dest)
            fd = _create_new(dest)
        if fd < 0:
            target = self.state / "tmp" / f"{file_id(item.rel)}.part"
            # a raw descriptor: no buffered-file setup (fstat, isatty ioctl, lseek) for each small file
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        written = 0
        try:
            def sink(chunk: memoryview) -> None:
                nonlocal written
                if self._abort.is_set():
                    raise _Aborted
                _pwrite_all(fd, chunk, written)
                written += len(chunk)
                if digest is not None:
                    digest.update(chunk)
                self.progress.advance(len(chunk))

            self.store.read_range(item, 0, None, sink)
            _verify(item, written, digest.digest() if digest else None, self.options)
        except BaseException:
            target.unlink(missing_ok=True)  # ours, cut short or wrong: a rerun fetches it whole
            raise
        finally:
            os.close(fd)
        if target != dest:
            self._make_parent(dest)  # a user's folder gets no subfolder for a file that failed
            os.replace(target, dest)
        self.journal.record(item)
        self.progress.file_done()

    def _fetch_stream(self, parted: PartedFile, dest: Path) -> None:
        """One of the file's streams: fetch its next unclaimed part until none is left. A few streams
        per file keep parts finishing in order, so the MD5 frontier follows the download closely."""
        while not parted.failed and (part := parted.next_part()) is not None:
            self._fetch_part(parted, part[0], part[1], dest)

    def _fetch_part(self, parted: PartedFile, offset: int, length: int, dest: Path) -> None:
        start = offset + parted.progress.get(offset, 0)  # an earlier run's bytes of it are in place
        position = start

        def sink(chunk: memoryview) -> None:
            nonlocal position
            if self._abort.is_set() or parted.failed:
                raise _Aborted
            with parted.write_lock:
                _pwrite_all(parted.fd, chunk, position)
            position += len(chunk)
            self.progress.advance(len(chunk))

        ok = False
        try:
            if start < offset + length:
                self.store.read_range(parted.item, start, offset + length - start, sink)
            if position != offset + length:
                raise OSError(f"short read at offset {offset}: got {position - offset} of {length} bytes")
            ok = True
        finally:
            # the descriptor is closed only once no task writes to it any more (here or in run())
            complete = parted.part_finished(offset, ok, reached=position - offset)
        wants_md5 = self.options.wants_md5(parted.item)
        if wants_md5 and ok:
            parted.advance_hash(to_end=complete)
        if complete:
            md5 = parted.digest.digest() if wants_md5 else None
            parted.close()
            self._finish(parted.item, parted.tmp, dest, md5)

    def _finish(self, item: RemoteFile, tmp: Path, dest: Path, md5: bytes | None) -> None:
        """Verify a parted file's ``tmp`` (size; MD5 when the store has one) and rename it into place."""
        if md5 is None and self.options.wants_md5(item):
            md5 = md5_of_file(tmp)
        try:
            _verify(item, os.stat(tmp).st_size, md5, self.options)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        self._make_parent(dest)
        os.replace(tmp, dest)
        (self.state / "parts" / f"{file_id(item.rel)}.json").unlink(missing_ok=True)
        self.journal.record(item)
        self.progress.file_done()

    def _make_parent(self, dest: Path) -> None:
        if dest.parent not in self._made_dirs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(dest.parent)


def _verify(item: RemoteFile, size: int, md5: bytes | None, options: TransferOptions) -> None:
    """Raise unless ``size`` (and ``md5``, where the store keeps one) are the store's."""
    if size != item.size:
        raise OSError(f"size mismatch: expected {item.size} bytes, got {size}")
    if options.wants_md5(item) and md5 != item.md5:
        raise OSError("MD5 mismatch: the downloaded content differs from the store's")


def _non_empty(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return next(entries, None) is not None


def prune_unlisted(dest: Path, listed: set[str]) -> None:
    """Remove from the staging folder ``dest`` every file and link whose relative path is not in
    ``listed``, and the folders left empty, so a resumed download holds what a fresh one would. Links
    are removed, never followed. Deepest first, with no recursion (``mounts.transfer.tree``)."""
    for rel, entry in reversed(list(iter_entries(dest))):  # listed parents first: children first here
        if entry.is_dir(follow_symlinks=False):
            if not _non_empty(Path(entry.path)):
                os.rmdir(entry.path)
        elif rel not in listed:
            log.info("removing %s: no longer in the store's listing", rel)
            os.unlink(entry.path)


def _create_new(path: Path) -> int:
    """A descriptor of ``path`` created now, or -1 when something is there already (never opened: a
    link planted there is not followed)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return -1


def _pwrite_all(fd: int, chunk: memoryview, position: int) -> None:
    """Write all of ``chunk`` at ``position`` in writes that end on multiples of ``WRITE_SIZE`` (at most
    that much each, and none straddles a folio: a write covering a page in part costs ~1.5x per byte).
    A short write is continued, never skipped: a part's bytes must all be in place before it counts."""
    done = 0
    while done < len(chunk):
        at = position + done
        done += os.pwrite(fd, chunk[done:done + WRITE_SIZE - at % WRITE_SIZE], at)


def download_files(store: BlobStore, files: list[RemoteFile], dest: Path, state: Path, *,
                   options: TransferOptions | None = None, quiet: bool = False,
                   description: str = "download", in_place: bool = False) -> None:
    """Download ``files`` into ``dest`` (resumable through ``state``); raise ``TransferFailed``.
    ``in_place``: ``dest`` is a private staging folder that nothing reads before this returns (a job's
    ``data/``, a cache entry's partial folder), never a user's folder."""
    check_listing(files)  # a name no path below ``dest`` can hold: refused before anything is written
    total = sum(f.size for f in files)
    with TransferProgress(description, total, len(files), quiet=quiet) as progress:
        Downloader(store, dest, state, options or TransferOptions(), progress, in_place=in_place).run(files)
