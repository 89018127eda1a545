"""The upload engine: every file of a local directory to a store, in parallel, verified.

* files up to ``single_put_max`` go in one request with their MD5 (the store checks it);
* files up to ``stream_put_max`` go as one streamed request where the store can (Azure Put Blob:
  many such files in parallel beat blocks on Azurite), hashed while sent and checked against the MD5
  the service returns;
* larger files go as parallel blocks (``block_size``) when the store has blocks, each with its own MD5,
  at most ``max_blocks_in_flight`` blocks in memory; a sequential read-back computes the whole-file MD5
  that is stored with the commit; stores without blocks get one streamed write per file;
* after a file is written, it is verified: its size (and MD5 when the store reports one) must match,
  unless the store validated the MD5 of every byte itself (``verifies_writes``);
* a name the store cannot hold (one that is not valid UTF-8, for a store whose names are UTF-8 text:
  ``names_in_utf8``) is refused before any request, never retried: the failure says why and what to do;
* nothing local is deleted here: the caller decides what happens to staged data.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mounts.errors import TransferFailed
from mounts.stores.base import BlobStore
from mounts.transfer.downloader import TASKS_PER_WORKER, FailureLog, TransferOptions, md5_of_file
from mounts.transfer.progress import TransferProgress
from mounts.transfer.state import TaskWindow
from mounts.transfer.tree import SHOWN, LeftOut, entries, link_kind, named, printable, special_kind

log = logging.getLogger(__name__)

NOT_UTF8 = ("its name is not valid UTF-8, and the datastore names files in UTF-8 (Azure Blob Storage names "
            "are UTF-8 text), so it cannot be stored under this name")
NOT_UTF8_HINT = ("rename the file in the job to a name that is valid UTF-8, then run it again (until then "
                 "the staged folder keeps it under its own name)")
_UTF8_PROTOCOLS = frozenset({"abfs", "abfss", "az"})  # adlfs' (Azure Blob) when the lean client is not used


class _NotAttempted(Exception):
    """The storage was found unreachable before this task started."""


@dataclass(frozen=True)
class LocalFile:
    rel: str  # posix path relative to the staging root
    path: Path  # the file to read (for a symbolic link: the file it names, inside the root)
    size: int
    link: bool = False  # ``rel`` is a symbolic link: copy ``path``, never move it


def list_local_files(root: Path, left_out: list[LeftOut] | None = None) -> list[LocalFile]:
    """Every regular file under ``root``, sorted by path.

    A symbolic link counts as the file it names when that file is inside ``root`` (a model folder's
    links into its own blobs, ``latest -> ckpt-10``). Anything else is left out and collected in
    ``left_out`` with why (without a collector, one warning names them): a link out of ``root``, a
    dangling one, one to a folder, as rclone and azcopy skip links by default (the job wrote a name, not
    data, and a job's link must never make the runner read a host path it chose); a FIFO, a socket or a
    device, never opened (a FIFO would block a read, a device never end).
    """
    real_root = Path(os.path.realpath(root))
    files: list[LocalFile] = []
    left: list[LeftOut] = [] if left_out is None else left_out
    # os.scandir with relative paths built as strings: names and types come with the listing, one lstat
    # per regular file, one Path per file (100,000 files under cProfile at load 10: 4.8 s, against
    # 9.5 s with os.walk, relative_to and str() of a Path per file)
    folders = [("", os.fspath(root))]
    while folders:
        prefix, folder = folders.pop()
        try:
            scan = os.scandir(folder)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # nested deeper than a path can name: not one file lost
                raise TransferFailed(too_long(folder), failed=[prefix]) from exc
            continue  # as os.walk: an unreadable folder lists nothing
        with scan:
            for entry in scan:
                rel = prefix + entry.name
                if entry.is_symlink():
                    found = link_kind(entry.path, real_root)
                    if isinstance(found, str):
                        left.append(LeftOut(rel, found))
                    else:
                        files.append(LocalFile(rel, found[0], found[1], link=True))
                elif entry.is_dir(follow_symlinks=False):
                    folders.append((rel + "/", entry.path))
                else:
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode):
                        files.append(LocalFile(rel, Path(entry.path), info.st_size))
                    else:
                        left.append(LeftOut(rel, special_kind(info.st_mode)))
    if left_out is None and left:
        log.warning("%s: %s", root, left_out_note(left))
    return sorted(files, key=lambda f: f.rel)


def left_out_note(left: list[LeftOut]) -> str:
    """One sentence for the entries of a staged output that are not uploaded: how many, the first few by
    name, why each (the whole list is logged at debug level)."""
    if len(left) > SHOWN:
        log.debug("not uploaded: %s", "; ".join(printable(f"{i.rel} ({i.why})") for i in left))
    return (f"{entries(len(left))} not uploaded: {named(left)}; only files are uploaded (a link as the "
            "file it names inside the output): write what is to be kept into files")


def too_long(folder: str) -> str:
    """The error for a folder whose path is longer than the system allows (``PATH_MAX``)."""
    return (f"its folder tree is nested deeper than a path can name: the path of {folder[:120]}... is "
            f"{len(folder)} characters, longer than the system allows ({os.pathconf('/', 'PC_PATH_MAX')}); "
            "nothing of it was uploaded")


class _BlockedFile:
    """A large file uploading as blocks: block ids, and the tasks still running."""

    def __init__(self, item: LocalFile, remote: str, count: int) -> None:
        self.item, self.remote = item, remote
        self.ids: list[str | None] = [None] * count
        self.md5: bytes | None = None
        self.outstanding = count + 1  # the blocks and the whole-file hash
        self.failed = False
        self.lock = threading.Lock()

    def task_finished(self, ok: bool) -> bool:
        """True when this was the last task and all succeeded: time to commit."""
        with self.lock:
            self.outstanding -= 1
            self.failed = self.failed or not ok
            return self.outstanding == 0 and not self.failed


class Uploader:
    def __init__(self, store: BlobStore, options: TransferOptions, progress: TransferProgress) -> None:
        self.store, self.options, self.progress = store, options, progress
        self.failures = FailureLog()
        self._block_slots = threading.BoundedSemaphore(options.max_blocks_in_flight)
        self._free_buffers: list[bytearray] = []  # allocated on first use, then reused

    def run(self, files: list[tuple[LocalFile, str]]) -> None:
        """Upload each (local file, remote path); raise ``TransferFailed`` naming what failed."""
        pool = ThreadPoolExecutor(self.options.workers, thread_name_prefix="upload")
        tasks = TaskWindow(pool, self.options.workers * TASKS_PER_WORKER)  # bounded, whatever the count
        try:
            utf8 = names_in_utf8(self.store)
            for item, remote in files:
                if utf8 and not is_utf8(remote):
                    self.failures.refuse(item.rel, NOT_UTF8, NOT_UTF8_HINT)  # no request can name it
                else:
                    self._schedule(tasks, item, remote)
            pool.shutdown(wait=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        self.failures.raise_if_any("uploaded", len(files))

    def _schedule(self, tasks: TaskWindow, item: LocalFile, remote: str) -> None:
        if item.size <= self.options.single_put_max:
            tasks.submit(self._guard, item.rel, self._put_whole, item, remote)
        elif getattr(self.store, "streams_puts", False) and item.size <= self.options.stream_put_max:
            tasks.submit(self._guard, item.rel, self._put_file, item, remote)
        elif not self.store.supports_blocks:
            tasks.submit(self._guard, item.rel, self._put_stream, item, remote)
        else:
            count = -(-item.size // self.options.block_size)
            blocked = _BlockedFile(item, remote, count)
            tasks.submit(self._guard, item.rel, self._hash_whole, blocked)
            for index in range(count):
                tasks.submit(self._guard, item.rel, self._put_block, blocked, index)

    def _guard(self, rel: str, work: Callable[..., None], *args: object) -> None:
        try:
            if self.failures.stop.is_set():
                raise _NotAttempted
            work(*args)
        except _NotAttempted:
            self.failures.skip(rel)
        except Exception as exc:  # noqa: BLE001 - every failure is reported per file
            log.warning("upload of %s failed: %s", printable(rel), printable(str(exc)))
            self.failures.record(rel, exc)

    def _put_whole(self, item: LocalFile, remote: str) -> None:
        data = item.path.read_bytes()  # at most single_put_max bytes
        if len(data) != item.size:
            raise OSError(f"{item.rel} changed size while uploading")
        md5 = hashlib.md5(data).digest()
        self.store.write_small(remote, data, md5)
        self.progress.advance(item.size)
        if not self.store.verifies_writes:
            self._verify(item, remote, md5)
        self.progress.file_done()

    def _put_file(self, item: LocalFile, remote: str) -> None:
        self.store.put_file(remote, item.path, item.size)  # verifies against the service's MD5
        self.progress.advance(item.size)
        self.progress.file_done()

    def _put_stream(self, item: LocalFile, remote: str) -> None:
        with open(item.path, "rb") as stream:
            self.store.write_stream(remote, stream, item.size)
        self.progress.advance(item.size)
        self._verify(item, remote, None)
        self.progress.file_done()

    def _hash_whole(self, blocked: _BlockedFile) -> None:
        ok = False
        try:
            blocked.md5 = md5_of_file(blocked.item.path)
            ok = True
        finally:
            commit = blocked.task_finished(ok)
        if commit:
            self._commit(blocked)

    def _put_block(self, blocked: _BlockedFile, index: int) -> None:
        ok = False
        try:
            if not blocked.failed:
                with self._block_slots:  # at most max_blocks_in_flight blocks in memory, reused
                    buffer = self._take_buffer()
                    try:
                        with open(blocked.item.path, "rb", buffering=0) as stream:
                            stream.seek(index * self.options.block_size)
                            count = stream.readinto(buffer) or 0
                        data = memoryview(buffer)[:count]
                        blocked.ids[index] = self.store.put_block(blocked.remote, index, data,
                                                                  hashlib.md5(data).digest())
                    finally:
                        self._free_buffers.append(buffer)
                self.progress.advance(count)
                ok = True
        finally:
            commit = blocked.task_finished(ok)
        if commit:
            self._commit(blocked)

    def _take_buffer(self) -> bytearray:
        try:
            return self._free_buffers.pop()
        except IndexError:
            return bytearray(self.options.block_size)

    def _commit(self, blocked: _BlockedFile) -> None:
        ids = [block_id for block_id in blocked.ids if block_id is not None]
        if len(ids) != len(blocked.ids):
            raise OSError(f"{blocked.item.rel}: some blocks were not staged")
        self.store.commit_blocks(blocked.remote, ids, blocked.md5)
        self._verify(blocked.item, blocked.remote, blocked.md5)
        self.progress.file_done()

    def _verify(self, item: LocalFile, remote: str, md5: bytes | None) -> None:
        stored = self.store.stat(remote)
        if stored.size != item.size:
            raise OSError(f"verification failed: {remote} has {stored.size} bytes, expected {item.size}")
        if md5 is not None and stored.md5 is not None and stored.md5 != md5:
            raise OSError(f"verification failed: MD5 of {remote} differs from the local file")


def names_in_utf8(store: BlobStore) -> bool:
    """Whether ``store`` names its files in UTF-8 text (Azure Blob: ``utf8_names``, or adlfs under a
    generic store), so that a name holding bytes that are not UTF-8 cannot be one of its names."""
    if getattr(store, "utf8_names", False):
        return True
    protocol = getattr(getattr(store, "fs", None), "protocol", ())
    return bool(_UTF8_PROTOCOLS & set((protocol,) if isinstance(protocol, str) else protocol))


def is_utf8(name: str) -> bool:
    """False for a name holding bytes that are not UTF-8 (``os.fsdecode`` made them lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def upload_files(store: BlobStore, files: list[tuple[LocalFile, str]], *,
                 options: TransferOptions | None = None, quiet: bool = False,
                 description: str = "upload") -> None:
    """Upload ``(local file, remote path)`` pairs; raise ``TransferFailed`` naming the failed files."""
    total = sum(item.size for item, _ in files)
    with TransferProgress(description, total, len(files), quiet=quiet) as progress:
        Uploader(store, options or TransferOptions(), progress).run(files)
