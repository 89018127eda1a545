"""A read-write FUSE filesystem over any fsspec filesystem (a thin adapter; knows nothing of jobs).

Writes are staged in a local directory mirroring the tree (``staging/<relative path>``) and uploaded
synchronously in ``flush`` — which the kernel sends on every ``close(2)`` and whose result ``close``
returns — and in ``fsync``/``release``. So a file is durable once ``close`` or ``fsync`` returns; a
failed upload makes ``close`` fail with EIO and the staged copy stays. A staged copy is deleted only
after its upload succeeded. Existing objects are read lazily through ``mounts.readahead``; opening
one for writing (without O_TRUNC) first copies it into staging. Directories are virtual on object
stores (made real with ``makedirs`` where the store has them).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem

from mounts.fuse_ro import FuseOSError, attrs_of, child_name, errno_boundary, mfusepy
from mounts.readahead import Prefetcher, ReadaheadStream

log = logging.getLogger(__name__)

UploadFile = Callable[[Path, str], None]  # (staged local file, remote path): make it durable or raise
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT


@dataclass
class StagedFile:
    local: Path
    dirty: bool = True  # local content not yet uploaded
    opened: int = 0  # open handles
    uploading: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class Handle:
    path: str
    fd: int | None = None  # staged file descriptor
    stream: ReadaheadStream | None = None  # lazy remote read


@dataclass
class UploadLog:
    """Outcome of uploads: what is durable and what failed (relative paths)."""

    uploaded: dict[str, int] = field(default_factory=dict)  # path -> bytes
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason


class FsspecReadWrite(mfusepy.Operations):  # type: ignore[misc]
    use_ns = True

    def __init__(self, fs: AbstractFileSystem, root: str, staging: Path, prefetcher: Prefetcher,
                 upload_file: UploadFile | None = None) -> None:
        self.fs = fs
        self.upload_file = upload_file or self._put_file
        self.root = root.rstrip("/") or "/"
        self.staging = staging
        self.prefetcher = prefetcher
        self.log = UploadLog()
        self._staged: dict[str, StagedFile] = {}
        self._attrs: dict[str, dict[str, Any]] = {"/": attrs_of({"type": "directory"}, writable=True)}
        self._listings: dict[str, set[str]] = {}
        self._handles: dict[int, Handle] = {}
        self._next_handle = 1
        self._made_dirs: set[str] = set()
        self._lock = threading.RLock()
        self._uploads_in_progress = 0

    def busy(self) -> bool:
        """True while an upload runs (the mount must not be torn down under it)."""
        return self._uploads_in_progress > 0

    # -- paths and metadata --

    def fs_path(self, path: str) -> str:
        return self.root if path == "/" else f"{self.root.rstrip('/')}/{path.lstrip('/')}"

    def local_path(self, path: str) -> Path:
        return self.staging / path.lstrip("/")

    def _list(self, path: str) -> set[str]:
        with self._lock:
            if path in self._listings:
                return self._listings[path]
        full = self.fs_path(path)
        entries: dict[str, dict[str, Any]] = {}
        try:
            for info in self.fs.ls(full, detail=True):
                name = child_name(full.rstrip("/"), str(info["name"]).rstrip("/"))
                if name:
                    entries[name] = attrs_of(info, writable=True)
        except FileNotFoundError:
            if path != "/" and path not in self._attrs:
                raise
        prefix = path.rstrip("/") + "/"
        with self._lock:
            for name, attrs in entries.items():
                self._attrs.setdefault(prefix + name, attrs)
            return self._listings.setdefault(path, set(entries))

    def _stat(self, path: str) -> dict[str, Any]:
        with self._lock:
            staged = self._staged.get(path)
            if staged is not None:
                return self._staged_attrs(staged)
            known = self._attrs.get(path)
        if known is not None:
            return known
        self._list(_parent(path))
        with self._lock:
            if path not in self._attrs:
                raise FileNotFoundError(path)
            return self._attrs[path]

    @staticmethod
    def _staged_attrs(staged: StagedFile) -> dict[str, Any]:
        local = os.stat(staged.local)
        attrs = attrs_of({"type": "file", "size": local.st_size, "mtime": local.st_mtime}, writable=True)
        return attrs

    def _add_entry(self, path: str, attrs: dict[str, Any]) -> None:
        with self._lock:
            self._attrs[path] = attrs
            self._list(_parent(path)).add(_name(path))

    def _remove_entry(self, path: str) -> None:
        self._invalidate(path)
        with self._lock:
            self._attrs.pop(path, None)
            self._staged.pop(path, None)
            self._listings.pop(path, None)
            self._list(_parent(path)).discard(_name(path))

    # -- staging and upload --

    def _stage(self, path: str, copy_existing: bool) -> StagedFile:
        """A local staged copy of ``path`` (copying the existing object when asked)."""
        with self._lock:
            staged = self._staged.get(path)
            if staged is not None:
                return staged
        local = self.local_path(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        if copy_existing:
            self.fs.get_file(self.fs_path(path), str(local))
        else:
            local.touch()
        with self._lock:
            return self._staged.setdefault(path, StagedFile(local, dirty=not copy_existing))

    def upload(self, path: str) -> None:
        """Upload the staged copy of ``path`` if it changed; raise (and keep it) when that fails."""
        with self._lock:
            staged = self._staged.get(path)
            if staged is None:
                return
            self._uploads_in_progress += 1
        try:
            with staged.uploading:  # one upload of a file at a time; a second caller waits for it
                self._upload_locked(path, staged)
        finally:
            with self._lock:
                self._uploads_in_progress -= 1

    def _upload_locked(self, path: str, staged: StagedFile) -> None:
        with self._lock:
            if not staged.dirty or self._staged.get(path) is not staged:
                return
            staged.dirty = False  # writes racing with the upload set it again
        try:
            self.upload_file(staged.local, self.fs_path(path))
        except BaseException as exc:
            with self._lock:
                staged.dirty = True
                self.log.failed[path.lstrip("/")] = f"{exc.__class__.__name__}: {exc}"
            log.warning("upload of %s failed: %r (staged copy kept at %s)", path, exc, staged.local)
            raise
        size = staged.local.stat().st_size
        self._invalidate(path)
        with self._lock:
            self.log.failed.pop(path.lstrip("/"), None)
            self.log.uploaded[path.lstrip("/")] = size
            if not staged.dirty and staged.opened == 0:
                self._unstage(path, staged, size)

    def _invalidate(self, path: str) -> None:
        """Forget cached content of ``path`` (it changed through this mount)."""
        self.prefetcher.cache.discard(self.fs_path(path))

    def _unstage(self, path: str, staged: StagedFile, size: int) -> None:
        """Drop a staged copy that is durable remotely; later reads go to the store."""
        self._invalidate(path)
        self._staged.pop(path, None)
        self._attrs[path] = attrs_of({"type": "file", "size": size}, writable=True)
        staged.local.unlink(missing_ok=True)

    def _put_file(self, local: Path, remote: str) -> None:
        self._ensure_parent(remote)
        self.fs.put_file(str(local), remote)

    def _ensure_parent(self, remote: str) -> None:
        parent = remote.rsplit("/", 1)[0]
        if parent and parent not in self._made_dirs:
            # object stores have no directories to make
            with contextlib.suppress(NotImplementedError, PermissionError, FileExistsError):
                self.fs.makedirs(parent, exist_ok=True)
            self._made_dirs.add(parent)

    def upload_all(self) -> UploadLog:
        """Upload every staged file that is not durable yet (the end-of-job flush)."""
        with self._lock:
            pending = [p for p, s in self._staged.items() if s.dirty]
        for path in pending:
            try:
                self.upload(path)
            except Exception:  # noqa: BLE001 - recorded in self.log.failed
                continue
        return self.log

    def _upload_errno(self, path: str) -> None:
        try:
            self.upload(path)
        except Exception as exc:
            raise FuseOSError(errno.EIO) from exc

    # -- FUSE operations: metadata --

    @errno_boundary
    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        return self._stat(path)

    @errno_boundary
    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *sorted(self._list(path))]

    @errno_boundary
    def mkdir(self, path: str, mode: int) -> int:
        if _name(path) in self._list(_parent(path)):
            raise FileExistsError(path)
        self.local_path(path).mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(NotImplementedError, PermissionError):
            self.fs.makedirs(self.fs_path(path), exist_ok=True)
        self._add_entry(path, attrs_of({"type": "directory"}, writable=True))
        self._listings.setdefault(path, set())
        return 0

    @errno_boundary
    def rmdir(self, path: str) -> int:
        if self._list(path):
            raise FuseOSError(errno.ENOTEMPTY)
        with contextlib.suppress(NotImplementedError, OSError):  # virtual on an object store
            self.fs.rmdir(self.fs_path(path))
        self._remove_entry(path)
        return 0

    @errno_boundary
    def unlink(self, path: str) -> int:
        attrs = self._stat(path)
        if stat.S_ISDIR(attrs["st_mode"]):
            raise FuseOSError(errno.EISDIR)
        with self._lock:
            staged = self._staged.get(path)
        if staged is not None:
            staged.local.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):  # staged only, never uploaded
            self.fs.rm_file(self.fs_path(path))
        self.log.uploaded.pop(path.lstrip("/"), None)
        self.log.failed.pop(path.lstrip("/"), None)
        self._remove_entry(path)
        return 0

    @errno_boundary
    def rename(self, old: str, new: str) -> int:
        attrs = self._stat(old)
        with self._lock:
            if new in self._attrs and stat.S_ISDIR(self._attrs[new]["st_mode"]) and self._list(new):
                raise FuseOSError(errno.ENOTEMPTY)
        if stat.S_ISDIR(attrs["st_mode"]):
            self._rename_dir(old, new)
        else:
            self._rename_file(old, new, attrs)
        return 0

    def _rename_file(self, old: str, new: str, attrs: dict[str, Any]) -> None:
        with self._lock:
            staged = self._staged.pop(old, None)
        if staged is None:
            self.fs.mv(self.fs_path(old), self.fs_path(new))
            self._remove_entry(old)
            self._add_entry(new, attrs)
            return
        target = self.local_path(new)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.local, target)
        staged.local, staged.dirty = target, True
        self._forget_remote(old)
        self._remove_entry(old)
        with self._lock:
            self._staged[new] = staged
            self._add_entry(new, self._staged_attrs(staged))
            for handle in self._handles.values():
                if handle.path == old:
                    handle.path = new
        if staged.opened == 0:
            self._upload_errno(new)

    def _forget_remote(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.fs_path(path))
        self.log.uploaded.pop(path.lstrip("/"), None)
        self.log.failed.pop(path.lstrip("/"), None)

    def _rename_dir(self, old: str, new: str) -> None:
        with self._lock:
            if any(p.startswith(old + "/") for p in self._staged):
                raise FuseOSError(errno.EBUSY)  # files of it are still being written
        old_remote, new_remote = self.fs_path(old).rstrip("/"), self.fs_path(new).rstrip("/")
        for path in self.fs.find(old_remote):  # file by file: object stores have no directories
            self.fs.mv(path, new_remote + path[len(old_remote):])
        old_local = self.local_path(old)
        if old_local.exists():
            self.local_path(new).parent.mkdir(parents=True, exist_ok=True)
            os.replace(old_local, self.local_path(new))
        with self._lock:
            attrs = self._attrs[old]
            for path in [p for p in self._attrs if p.startswith(old + "/")] + [old]:
                self._invalidate(path)
                self._attrs.pop(path, None)
                self._listings.pop(path, None)
            self._list(_parent(old)).discard(_name(old))
            self._add_entry(new, attrs)

    def chmod(self, path: str, mode: int) -> int:
        return 0  # permissions are not stored on object stores

    def chown(self, path: str, uid: int, gid: int) -> int:
        return 0

    def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        local = os.statvfs(self.staging)
        return {key: getattr(local, key) for key in ("f_bsize", "f_frsize", "f_blocks", "f_bfree",
                                                      "f_bavail", "f_files", "f_ffree", "f_namemax")}

    # -- FUSE operations: data --

    def _new_handle(self, handle: Handle) -> int:
        with self._lock:
            number = self._next_handle
            self._next_handle += 1
            self._handles[number] = handle
            return number

    @errno_boundary
    def create(self, path: str, mode: int, fi: Any = None) -> int:
        if _parent(path) != "/":
            parent = self._stat(_parent(path))
            if not stat.S_ISDIR(parent["st_mode"]):
                raise FuseOSError(errno.ENOTDIR)
        local = self.local_path(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(local, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        with self._lock:
            staged = self._staged.setdefault(path, StagedFile(local))
            staged.dirty, staged.opened = True, staged.opened + 1
            self._add_entry(path, self._staged_attrs(staged))
        return self._new_handle(Handle(path, fd=fd))

    @errno_boundary
    def open(self, path: str, flags: int) -> int:
        attrs = self._stat(path)
        if stat.S_ISDIR(attrs["st_mode"]):
            raise FuseOSError(errno.EISDIR)
        with self._lock:
            staged = self._staged.get(path)
        if not flags & WRITE_FLAGS and staged is None:
            stream = self.prefetcher.stream(self.fs_path(path), attrs["st_size"])
            return self._new_handle(Handle(path, stream=stream))
        if staged is None and flags & WRITE_FLAGS:
            staged = self._stage(path, copy_existing=not flags & os.O_TRUNC)
        assert staged is not None
        fd = os.open(staged.local, flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC))
        with self._lock:
            staged.opened += 1
            if flags & os.O_TRUNC:
                staged.dirty = True
        return self._new_handle(Handle(path, fd=fd))

    @errno_boundary
    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        handle = self._handles[fh]
        if handle.fd is not None:
            return os.pread(handle.fd, size, offset)
        assert handle.stream is not None
        return handle.stream.read(offset, size)

    @errno_boundary
    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        handle = self._handles[fh]
        if handle.fd is None:
            raise FuseOSError(errno.EBADF)
        written = os.pwrite(handle.fd, data, offset)
        staged = self._staged.get(handle.path)
        if staged is not None:
            staged.dirty = True
        return written

    @errno_boundary
    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        staged = self._stage(path, copy_existing=length > 0 and path not in self._staged)
        os.truncate(staged.local, length)
        staged.dirty = True
        if staged.opened == 0:
            self._upload_errno(path)
        return 0

    @errno_boundary
    def flush(self, path: str, fh: int) -> int:
        handle = self._handles.get(fh)
        if handle is not None and handle.fd is not None:
            self._upload_errno(handle.path)  # close(2) returns this: durable once close returns
        return 0

    @errno_boundary
    def fsync(self, path: str, datasync: int, fh: int) -> int:
        return self.flush(path, fh)  # type: ignore[no-any-return]

    @errno_boundary
    def release(self, path: str, fh: int) -> int:
        with self._lock:
            handle = self._handles.pop(fh, None)
        if handle is None:
            return 0
        if handle.stream is not None:
            handle.stream.close()
            return 0
        assert handle.fd is not None
        os.close(handle.fd)
        with self._lock:
            staged = self._staged.get(handle.path)
            if staged is None:
                return 0
            staged.opened -= 1
        if staged.opened == 0:
            try:
                self.upload(handle.path)  # normally already done by flush
            except Exception:  # noqa: BLE001 - recorded; retried by upload_all
                return 0
            with self._lock:
                if not staged.dirty and handle.path in self._staged and staged.opened == 0:
                    self._unstage(handle.path, staged, staged.local.stat().st_size)
        return 0

    def destroy(self, path: str) -> None:
        for number in list(self._handles):
            self.release(path, number)


def _parent(path: str) -> str:
    return os.path.dirname(path.rstrip("/")) or "/"


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
