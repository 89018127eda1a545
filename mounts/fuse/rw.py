"""A read-write FUSE filesystem over any fsspec filesystem (a thin adapter; knows nothing of jobs).

Writes are staged in a local directory mirroring the tree (``staging/<relative path>``) and uploaded
synchronously in ``flush`` — which the kernel sends on every ``close(2)`` and whose result ``close``
returns — and in ``fsync``/``release``. So a file is durable once ``close`` or ``fsync`` returns; a
failed upload makes ``close`` fail with EIO and the staged copy stays. A staged copy is deleted only
after its upload succeeded. Existing objects are read lazily through ``mounts.fuse.readahead``; opening
one for writing (without O_TRUNC) first copies it into staging. Directories are virtual on object
stores (made real with ``makedirs`` where the store has them). A stored name with an empty, ``.`` or ``..``
segment is never listed, and no name is made that the store would keep with one (``mounts.fuse.rw_names``).
What the mount knows of the store's folders and files (listings, attributes) is ``mounts.fuse.rw_tree``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from mounts.fuse.binding import FuseOSError, mfusepy
from mounts.fuse.readahead import Prefetcher, ReadaheadStream
from mounts.fuse.ro import FolderLister, attrs_of, errno_boundary
from mounts.fuse.rw_folders import move_folder
from mounts.fuse.rw_names import HiddenNames, name_of, parent_of
from mounts.fuse.rw_staging import StagedFile, StagingArea, UploadFile, UploadLog
from mounts.fuse.rw_tree import MountTree
from mounts.upload import separates_at_backslash

__all__ = ["FsspecReadWrite", "UploadFile", "UploadLog"]

log = logging.getLogger(__name__)

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT
# why a file is held (``destroy``): the job's writes to it after that point failed
NOT_CLOSED = "it was still open when the mount went away, so it may be incomplete"


@dataclass
class Handle:
    path: str
    fd: int | None = None  # staged file descriptor
    writable: bool = False  # opened for writing
    stream: ReadaheadStream | None = None  # lazy remote read


class FsspecReadWrite(mfusepy.Operations):  # type: ignore[misc]
    use_ns = True

    def __init__(self, fs: AbstractFileSystem, root: str, staging: Path, prefetcher: Prefetcher,
                 upload_file: UploadFile | None = None, lister: FolderLister | None = None) -> None:
        self.fs = fs
        self.prefetcher = prefetcher
        self.names = HiddenNames(separates_at_backslash(fs))  # listed names left out, names refused
        self.tree = MountTree(fs, root, lister, self.names, prefetcher.cache)
        upload = upload_file or self._put_file
        self.staging = StagingArea(staging, lambda local, path: upload(local, self.fs_path(path)),
                                   on_durable=self.tree.durable)
        self._handles: dict[int, Handle] = {}
        self._next_handle = 1
        self._made_dirs: set[str] = set()
        self._lock = self.tree.lock  # one lock: a rename moves the entry and its open handles together
        self.released = False  # set by the mount's owner as it releases the mount (see ``destroy``)

    @property
    def log(self) -> UploadLog:
        return self.staging.log

    def busy(self) -> bool:
        return self.staging.busy()

    def upload_all(self) -> UploadLog:
        return self.staging.upload_all()

    def drop_broken(self) -> dict[str, str]:
        """Drop the files whose writes failed (``StagingArea.drop_broken``). An earlier ``close`` may
        have published the start of such a file (a shell closes its copy of a redirected descriptor
        while the command still writes): the object this mount put there is removed too."""
        published = set(self.staging.log.uploaded)
        dropped = self.staging.drop_broken()
        for rel in dropped:
            if rel in published:
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(self.fs_path("/" + rel))
                self.staging.log.uploaded.pop(rel, None)
        return dropped

    # -- paths, metadata and upload --

    def fs_path(self, path: str) -> str:
        return self.tree.fs_path(path)

    def _stat(self, path: str) -> dict[str, Any]:
        staged = self.staging.get(path)
        if staged is not None:
            return self._staged_attrs(staged)
        return self.tree.stat(path)

    @staticmethod
    def _staged_attrs(staged: StagedFile) -> dict[str, Any]:
        local = os.stat(staged.local)
        attrs = attrs_of({"type": "file", "size": local.st_size, "mtime": local.st_mtime}, writable=True)
        return attrs

    def _copier(self, path: str) -> Callable[[Path], None]:
        return lambda local: self.fs.get_file(self.fs_path(path), str(local))

    def _put_file(self, local: Path, remote: str) -> None:
        self._ensure_parent(remote)
        self.fs.put_file(str(local), remote)

    def _ensure_parent(self, remote: str) -> None:
        """Make the parent directory on a local store (object stores have none to make)."""
        parent = remote.rsplit("/", 1)[0]
        if isinstance(self.fs, LocalFileSystem) and parent and parent not in self._made_dirs:
            self.fs.makedirs(parent, exist_ok=True)
            self._made_dirs.add(parent)

    def _upload_errno(self, path: str) -> None:
        try:
            self.staging.upload(path)
        except Exception as exc:
            raise FuseOSError(errno.EIO) from exc

    # -- FUSE operations: metadata --

    @errno_boundary
    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        return self._stat(path)

    @errno_boundary
    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *sorted(self.tree.list(path))]

    @errno_boundary
    def mkdir(self, path: str, mode: int) -> int:
        self.names.refuse_name(path)
        if name_of(path) in self.tree.list(parent_of(path)):
            raise FileExistsError(path)
        self.staging.local_path(path).mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(NotImplementedError, PermissionError):
            self.fs.makedirs(self.fs_path(path), exist_ok=True)
        self.tree.add_folder(path)
        return 0

    @errno_boundary
    def rmdir(self, path: str) -> int:
        if self.tree.list(path):
            raise FuseOSError(errno.ENOTEMPTY)
        with contextlib.suppress(NotImplementedError, OSError):  # virtual on an object store
            self.fs.rmdir(self.fs_path(path))
        self.tree.remove(path)
        return 0

    @errno_boundary
    def unlink(self, path: str) -> int:
        attrs = self._stat(path)
        if stat.S_ISDIR(attrs["st_mode"]):
            raise FuseOSError(errno.EISDIR)
        self.staging.discard(path)
        with contextlib.suppress(FileNotFoundError):  # staged only, never uploaded
            self.fs.rm_file(self.fs_path(path))
        self.tree.remove(path)
        return 0

    @errno_boundary
    def rename(self, old: str, new: str) -> int:
        self.names.refuse_name(new)
        attrs = self._stat(old)
        if self.tree.full_folder(new):
            raise FuseOSError(errno.ENOTEMPTY)
        if stat.S_ISDIR(attrs["st_mode"]):
            self._rename_dir(old, new)
        else:
            self._rename_file(old, new, attrs)
        return 0

    def _rename_file(self, old: str, new: str, attrs: dict[str, Any]) -> None:
        staged = self.staging.move(old, new)
        if staged is None:
            self.fs.mv(self.fs_path(old), self.fs_path(new))
            self.tree.remove(old)
            self.tree.add(new, attrs)
            return
        with contextlib.suppress(FileNotFoundError):  # an earlier upload of the old name
            self.fs.rm_file(self.fs_path(old))
        self.tree.remove(old)
        with self._lock:
            self.tree.add(new, self._staged_attrs(staged))
            for handle in self._handles.values():
                if handle.path == old:
                    handle.path = new
        if staged.opened == 0:
            self._upload_errno(new)

    def _rename_dir(self, old: str, new: str) -> None:
        if self.staging.under(old):
            raise FuseOSError(errno.EBUSY)  # files of it are still being written or not uploaded
        old_remote, new_remote = self.fs_path(old).rstrip("/"), self.fs_path(new).rstrip("/")
        move_folder(self.fs, old_remote, new_remote, self._ensure_parent)  # any depth, no link followed
        old_local, new_local = self.staging.local_path(old), self.staging.local_path(new)
        if old_local.exists():
            new_local.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old_local, new_local)
        self.tree.moved_folder(old, new)

    def chmod(self, path: str, mode: int) -> int:
        return 0  # permissions are not stored on object stores

    def chown(self, path: str, uid: int, gid: int) -> int:
        return 0

    def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        local = os.statvfs(self.staging.directory)
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
        self.names.refuse_name(path)
        if parent_of(path) != "/":
            parent = self._stat(parent_of(path))
            if not stat.S_ISDIR(parent["st_mode"]):
                raise FuseOSError(errno.ENOTDIR)
        staged, fd = self.staging.open_new(path)
        self.tree.add(path, self._staged_attrs(staged))
        return self._new_handle(Handle(path, fd=fd, writable=True))

    @errno_boundary
    def open(self, path: str, flags: int) -> int:
        attrs = self._stat(path)
        if stat.S_ISDIR(attrs["st_mode"]):
            raise FuseOSError(errno.EISDIR)
        staged = self.staging.get(path)
        if not flags & WRITE_FLAGS and staged is None:
            stream = self.prefetcher.stream(self.fs_path(path), attrs["st_size"])
            return self._new_handle(Handle(path, stream=stream))
        if staged is None:
            staged = self.staging.stage(path, None if flags & os.O_TRUNC else self._copier(path))
        fd = os.open(staged.local, flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC))
        self.staging.opened(staged, +1)
        if flags & os.O_TRUNC:
            staged.dirty = True
            self.staging.rewritten(staged)
        return self._new_handle(Handle(path, fd=fd, writable=bool(flags & WRITE_FLAGS)))

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
        staged = self.staging.get(handle.path)
        if staged is not None:
            staged.dirty = True
        try:
            # a short write to a regular file means the disk filled up: write the rest to learn why
            written = os.pwrite(handle.fd, data, offset)
            while written < len(data):
                written += os.pwrite(handle.fd, memoryview(data)[written:], offset + written)
        except OSError as exc:  # ENOSPC, EDQUOT, EIO: the staged copy misses this write
            self.staging.write_failed(handle.path, exc)
            raise
        return written

    @errno_boundary
    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        staged = self.staging.stage(path, self._copier(path) if length > 0 else None)
        os.truncate(staged.local, length)
        staged.dirty = True
        if length == 0:
            self.staging.rewritten(staged)
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
        staged = self.staging.get(handle.path)
        if staged is None or self.staging.opened(staged, -1) > 0:
            return 0
        try:
            self.staging.upload(handle.path)  # normally already done by flush
        except Exception:  # noqa: BLE001 - recorded; retried by upload_all
            return 0
        self.staging.release_if_durable(handle.path, staged)
        return 0

    def destroy(self, path: str) -> None:
        """The FUSE session ends. Before its owner released the mount (``released``) it ended under the
        job (its connection was cut: ``abort_connection``), and a file still open for writing was never
        closed by the job: it may miss bytes the job meant to write, so it is held, not uploaded
        (``StagingArea.hold``). The other handles are released as a close would release them."""
        for number in list(self._handles):
            handle = self._handles.get(number)
            if not self.released and handle is not None and handle.writable:
                self.staging.hold(handle.path, NOT_CLOSED)
            self.release(path, number)
