"""A read-only FUSE filesystem over any fsspec filesystem (a thin adapter; knows nothing of jobs).

Exceptions become errno at one boundary (``errno_boundary``). Listings and stats are cached for the
life of the mount (a read-only input does not change under a job); file data goes through
``mounts.fuse.readahead`` (parallel ranged prefetch, bounded memory). The binding (mfusepy on libfuse3)
comes from ``mounts.fuse.binding``.
"""

from __future__ import annotations

import bisect
import ctypes
import errno
import functools
import logging
import mmap
import os
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from mounts.fuse.binding import FuseOSError, mfusepy
from mounts.fuse.plus import always_readdirplus
from mounts.fuse.readahead import Prefetcher, ReadaheadStream

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
# folder path on the store -> its direct children as fsspec-style ``info`` dicts by name
FolderLister = Callable[[str], dict[str, dict[str, Any]]]
BLOCK = 512
NEXT_FILES = 8  # small files fetched ahead of a reader going through a folder in order
NEXT_FILES_BYTES = 8 * 1024 * 1024  # ... and at most this many bytes of them (and half the cache)
# names a folder's listing never shows: a stored name with an empty, '.' or '..' segment (Azure keeps
# 'a/..\x' as 'a/../x') would list as a second '.' or '..' (the kernel answers those itself: a lookup
# of '..' never reaches such a name) or as a nameless entry
NOT_NAMES = frozenset({"", ".", ".."})
HIDDEN_SHOWN = 5  # the hidden names a mount's one warning gives as examples

_ERRNO_OF = {
    FileNotFoundError: errno.ENOENT,
    FileExistsError: errno.EEXIST,
    IsADirectoryError: errno.EISDIR,
    NotADirectoryError: errno.ENOTDIR,
    PermissionError: errno.EACCES,
    NotImplementedError: errno.ENOSYS,
    TimeoutError: errno.ETIMEDOUT,
    ConnectionError: errno.EIO,
}


def errno_of(exc: BaseException) -> int:
    """The errno a FUSE caller sees for ``exc`` (fsspec raises builtins, often without errno)."""
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0:
        return exc.errno
    for kind, code in _ERRNO_OF.items():
        if isinstance(exc, kind):
            return code
    return errno.EIO


def errno_boundary(method: F) -> F:
    """Turn any exception from the storage layer into ``FuseOSError(errno)``: the one translation."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except FuseOSError:
            raise
        except Exception as exc:  # noqa: BLE001 - this is the boundary
            code = errno_of(exc)
            if code == errno.EIO:
                log.warning("FUSE %s%s failed: %r", method.__name__, args[1:2], exc)
            raise FuseOSError(code) from exc

    return wrapper  # type: ignore[return-value]


def _timestamp(info: dict[str, Any]) -> float:
    for key in ("mtime", "last_modified", "LastModified", "created", "creation_time"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return time.time()


def attrs_of(info: dict[str, Any], writable: bool = False) -> dict[str, Any]:
    """fsspec ``info`` → a stat dict (directories 0755/0555, files 0644/0444, owned by root)."""
    is_dir = info.get("type") == "directory"
    perm = (0o755 if is_dir else 0o644) if writable else (0o555 if is_dir else 0o444)
    size = 0 if is_dir else int(info.get("size") or 0)
    when = int(_timestamp(info) * 1e9)
    return {"st_mode": (stat.S_IFDIR if is_dir else stat.S_IFREG) | perm, "st_nlink": 2 if is_dir else 1,
            "st_size": size, "st_blocks": (size + BLOCK - 1) // BLOCK, "st_blksize": 1024 * 1024,
            "st_mtime": when, "st_ctime": when, "st_atime": when, "st_uid": 0, "st_gid": 0}


def _fuse_buffer(data: bytes | bytearray | mmap.mmap | memoryview) -> Any:
    """What ``read`` hands to mfusepy, which only takes ``len()`` of it and ``ctypes.memmove``s it into
    libfuse's buffer: bytes as they are, and a writable view as a ctypes array over the same memory
    (no copy; ``memmove`` takes no memoryview). That saves one copy of every byte read (1 GiB read:
    ~0.2-0.4 s of CPU here) over ``bytes(view)``."""
    if isinstance(data, bytes):
        return data
    view = memoryview(data)
    if view.readonly or not view.nbytes:
        return bytes(view)
    return (ctypes.c_char * view.nbytes).from_buffer(view)


def child_name(parent_fs_path: str, child_fs_path: str) -> str:
    return child_fs_path.rstrip("/").rsplit("/", 1)[-1] if child_fs_path != parent_fs_path else ""


class FsspecReadOnly(mfusepy.Operations):  # type: ignore[misc]
    """Read-only view of ``root`` on ``fs``; with ``file_name``, ``root`` is one file shown in ``/``.

    ``lister`` lists a folder instead of ``fs.ls`` (``AzureBlobStore.list_folder``: one lean request
    instead of the SDK pipeline; the first lookup in a folder waits for it, so it is the first byte).
    """

    use_ns = True

    def __init__(self, fs: AbstractFileSystem, root: str, prefetcher: Prefetcher,
                 file_name: str | None = None, root_info: dict[str, Any] | None = None,
                 lister: FolderLister | None = None) -> None:
        self.fs = fs
        self.lister = lister
        self.root = root.rstrip("/") or "/"
        self.file_name = file_name
        self.root_info = root_info  # ``fs.info(root)`` when the caller already has it
        self.prefetcher = prefetcher
        self._attrs: dict[str, dict[str, Any]] = {}
        self._listings: dict[str, Future[list[str]]] = {}
        self._plus: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # folder -> its entries with attrs
        self._handles: dict[int, ReadaheadStream] = {}
        self._last_opened: dict[str, int] = {}  # folder -> listing index of the file opened last
        self._next_handle = 1
        self._lock = threading.Lock()
        self._attrs["/"] = attrs_of({"type": "directory"})
        self.hidden: list[str] = []  # the first HIDDEN_SHOWN names left out of listings (``NOT_NAMES``)
        self.hidden_count = 0  # ... and how many there were, in the folders listed so far

    def warm(self) -> None:
        """List the root in the background, so the job's first lookup finds it cached."""
        threading.Thread(target=self._warm_root, name="fuse-ro-warm", daemon=True).start()

    def _warm_root(self) -> None:
        try:
            self._list("/")
        except Exception as exc:  # noqa: BLE001 - a lookup will retry and report it
            log.debug("listing %s in the background failed: %r", self.root, exc)

    # -- path mapping and cached metadata --

    def fs_path(self, path: str) -> str:
        if self.file_name is not None:
            if path.lstrip("/") != self.file_name:
                raise FileNotFoundError(path)
            return self.root
        return self.root if path == "/" else f"{self.root.rstrip('/')}/{path.lstrip('/')}"

    def _list(self, path: str) -> list[str]:
        """Names in ``path``, listed once; concurrent callers wait for the one listing in flight."""
        with self._lock:
            pending = self._listings.get(path)
            owner = pending is None
            if pending is None:
                pending = self._listings[path] = Future()
        if not owner:
            return pending.result()
        try:
            entries = self._fetch_listing(path)
        except BaseException as exc:
            with self._lock:
                del self._listings[path]  # not cached: the next lookup retries
            pending.set_exception(exc)
            raise
        prefix = path.rstrip("/") + "/"
        left_out = [name for name in entries if name in NOT_NAMES]
        with self._lock:
            for name in left_out:
                del entries[name]
                self.hidden_count += 1
                if len(self.hidden) < HIDDEN_SHOWN:
                    self.hidden.append((prefix + name).lstrip("/"))
            for name, attrs in entries.items():
                self._attrs.setdefault(prefix + name, attrs)
        pending.set_result(sorted(entries))
        return pending.result()

    def _fetch_listing(self, path: str) -> dict[str, dict[str, Any]]:
        if self.file_name is not None:
            if path != "/":
                raise NotADirectoryError(path)
            return {self.file_name: attrs_of(self.root_info or self.fs.info(self.root))}
        full = self.fs_path(path)
        if self.lister is not None:
            return {name: attrs_of(info) for name, info in self.lister(full).items()}
        entries = {}
        for info in self.fs.ls(full, detail=True):
            name = child_name(full.rstrip("/"), str(info["name"]).rstrip("/"))
            if name:
                entries[name] = attrs_of(info)
        return entries

    def _stat(self, path: str) -> dict[str, Any]:
        with self._lock:
            known = self._attrs.get(path)
        if known is not None:
            return known
        parent = os.path.dirname(path.rstrip("/")) or "/"
        self._list(parent)  # one listing stats every sibling: cheap for many small files
        with self._lock:
            known = self._attrs.get(path)
        if known is None:
            raise FileNotFoundError(path)
        return known

    def _opened_in_order(self, path: str) -> tuple[list[str], int] | None:
        """The folder's listing and the index of ``path`` in it, when the file opened before it in
        the same folder was its predecessor in listing order (``os.walk``, a sorted glob, a data
        loader without shuffling); None for any other order (shuffled reads)."""
        parent, _, name = path.rpartition("/")
        with self._lock:
            listing = self._listings.get(parent or "/")
        if listing is None or not listing.done() or listing.exception() is not None:
            return None
        names = listing.result()
        index = bisect.bisect_left(names, name)
        if index == len(names) or names[index] != name:
            return None
        with self._lock:
            previous = self._last_opened.get(parent or "/")
            self._last_opened[parent or "/"] = index
        return (names, index) if previous == index - 1 else None

    def _prefetch_next_files(self, path: str, names: list[str], index: int) -> None:
        """Fetch the next small files of a folder read in order into the cache while this one is
        read: one reader otherwise waits a whole request per file (2,000 x 64 KiB at 0.79x rclone)."""
        parent = path.rpartition("/")[0]
        room = min(NEXT_FILES_BYTES, self.prefetcher.config.cache_size // 2)
        for sibling in names[index + 1:index + 1 + NEXT_FILES]:
            child = f"{parent}/{sibling}"
            attrs = self._attrs.get(child)
            if attrs is None or not stat.S_ISREG(attrs["st_mode"]):
                continue
            size = attrs["st_size"]
            room -= size
            if room < 0 or size > self.prefetcher.config.small_file:
                break
            if size:
                self.prefetcher.prefetch_whole(self.fs_path(child), size)

    # -- FUSE operations --

    @errno_boundary
    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        return self._stat(path)

    @errno_boundary
    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *self._list(path)]

    @errno_boundary
    def readdir_plus(self, path: str, fh: int) -> list[tuple[str, dict[str, Any]]]:
        """Every entry of ``path`` with its attributes (``mounts.fuse.plus``: answers the ``lstat``s)."""
        entries = self._plus.get(path)
        if entries is None:
            names = self._list(path)
            prefix = path.rstrip("/") + "/"
            with self._lock:
                entries = self._plus[path] = [(name, self._attrs[prefix + name]) for name in names]
        return entries

    def init_with_config(self, conn: Any, config: Any) -> None:
        always_readdirplus(conn)

    @errno_boundary
    def open(self, path: str, flags: int) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT):
            raise FuseOSError(errno.EROFS)
        attrs = self._stat(path)
        if stat.S_ISDIR(attrs["st_mode"]):
            raise FuseOSError(errno.EISDIR)
        stream = self.prefetcher.stream(self.fs_path(path), attrs["st_size"])
        in_order = self._opened_in_order(path)
        # a file opened in folder order will be read whole: its window starts at full size at once
        stream.prime(sequential=in_order is not None)
        if in_order is not None:
            self._prefetch_next_files(path, *in_order)
        with self._lock:
            handle = self._next_handle
            self._next_handle += 1
            self._handles[handle] = stream
        return handle

    @errno_boundary
    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        stream = self._handles.get(fh)
        if stream is None:
            raise FuseOSError(errno.EBADF)
        return _fuse_buffer(stream.read_view(offset, size))

    @errno_boundary
    def release(self, path: str, fh: int) -> int:
        with self._lock:
            stream = self._handles.pop(fh, None)
        if stream is not None:
            stream.close()
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        return {"f_bsize": 1024 * 1024, "f_frsize": BLOCK, "f_blocks": 0, "f_bfree": 0, "f_bavail": 0,
                "f_namemax": 1024}

    def access(self, path: str, amode: int) -> int:
        if amode & os.W_OK:
            raise FuseOSError(errno.EROFS)
        return 0

    def _read_only(self, *args: Any) -> int:
        raise FuseOSError(errno.EROFS)

    create = mkdir = unlink = rmdir = rename = truncate = write = chmod = chown = _read_only
    symlink = link = utimens = setxattr = removexattr = mknod = _read_only

    def destroy(self, path: str) -> None:
        for handle in list(self._handles):
            self.release(path, handle)
