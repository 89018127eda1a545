"""Writing into a local target without following a link a job may have made on the way.

A job can make links on a local datastore (a ``direct`` output is its real folder, bound read-write),
now or in an earlier job. Whatever the runner writes there afterwards (an ``upload`` or local ``rw_mount``
output moved into place, a ``direct`` output's folder) must land where its path says, not where such a
link points. So every folder from an *anchor* down is opened relative to its parent with
``O_NOFOLLOW | O_DIRECTORY`` (``openat``), created with ``mkdirat``, and files are renamed in with
``renameat`` (which replaces a link in the final name as a name; it never follows it) or copied into a
new ``O_EXCL | O_NOFOLLOW`` file that is then renamed over the final name.

The anchor is a folder the runner resolved itself, never one a job could have made: a local datastore's
root (``Target.local_root``), else the folder above the output's own folder (a local path the user
named: the links above it are the user's).

Each folder is opened once while the files under it are moved: the descriptors of the folders on the
current path are kept (files arrive sorted, so a folder's files come together), the others are closed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from types import TracebackType

from mounts.base import Target
from mounts.errors import LinkNotFollowed

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_COPY_CHUNK = 8 << 20


def anchor_of(target: Target) -> tuple[Path, str]:
    """The folder writes to a local ``target`` start from, and the target's path below it (posix,
    ``""`` for the anchor itself)."""
    if target.local_path is None:
        raise ValueError(f"{target.url} is not a local target")
    path = Path(os.path.normpath(target.local_path))
    anchor = Path(os.path.normpath(target.local_root)) if target.local_root is not None else None
    if anchor is None or not path.is_relative_to(anchor):
        folder = path.parent if target.is_file else path
        anchor = folder.parent
    rel = path.relative_to(anchor).as_posix()
    return anchor, "" if rel == "." else rel


def make_target_folder(target: Target) -> Path:
    """Create the folder of a local target (the target, or for a file the folder holding it) with no
    link followed below its anchor; return its path. Raises ``LinkNotFollowed``."""
    anchor, rel = anchor_of(target)
    folder = rel.rpartition("/")[0] if target.is_file else rel
    with NoFollowFolders(anchor) as tree:
        tree.folder(folder)
    return anchor / folder if folder else anchor


class NoFollowFolders:
    """The folders under ``anchor``, opened (and made when missing) without following links."""

    def __init__(self, anchor: Path) -> None:
        self.anchor = anchor
        anchor.mkdir(parents=True, exist_ok=True)  # the runner's own path: its links are the user's
        self._fds: dict[str, int] = {"": os.open(anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)}

    def folder(self, rel: str, *, create: bool = True) -> int:
        """A descriptor of the folder ``rel`` (posix, below the anchor); valid until the next call for a
        folder that is not below it, or ``close``."""
        fd = self._fds.get(rel)
        if fd is not None:
            return fd
        if not self._fds:
            raise ValueError(f"the folders under {self.anchor} were closed")
        self._keep_only_ancestors_of(rel)
        parent, _, name = rel.rpartition("/")
        fd = self._open_child(self.folder(parent, create=create), name, rel, create)
        self._fds[rel] = fd
        return fd

    def move_in(self, source: Path, rel: str) -> None:
        """Rename ``source`` to ``rel``; from another filesystem, copy it there, then remove it."""
        parent, name = self._parent_of(rel)
        try:
            os.replace(source, name, dst_dir_fd=parent)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self.copy_in(source, rel, keep_times=True)
            source.unlink()

    def copy_in(self, source: Path, rel: str, *, keep_times: bool = False) -> None:
        """Copy ``source`` to ``rel``: into a new file beside it, renamed over the final name once its
        size is checked (the final name, even a link, is replaced, never written through)."""
        parent, name = self._parent_of(rel)
        scratch = f".runner-{secrets.token_hex(6)}.partial"
        with open(source, "rb") as reader:
            info = os.fstat(reader.fileno())
            out = os.open(scratch, _NEW_FILE, 0o600, dir_fd=parent)
            try:
                try:
                    _copy_bytes(reader.fileno(), out)
                    if os.fstat(out).st_size != info.st_size:
                        raise OSError(f"copy of {rel} has the wrong size (the file changed while copied)")
                    os.fchmod(out, stat.S_IMODE(info.st_mode))
                    if keep_times:
                        os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
                finally:
                    os.close(out)
                os.replace(scratch, name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(scratch, dir_fd=parent)
                raise

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def __enter__(self) -> NoFollowFolders:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _parent_of(self, rel: str) -> tuple[int, str]:
        parent, _, name = rel.rpartition("/")
        self._check_name(name, rel)
        return self.folder(parent), name

    def _keep_only_ancestors_of(self, rel: str) -> None:
        for cached in [c for c in self._fds if c and not (rel == c or rel.startswith(c + "/"))]:
            os.close(self._fds.pop(cached))

    def _open_child(self, parent: int, name: str, rel: str, create: bool) -> int:
        self._check_name(name, rel)
        try:
            return os.open(name, _FOLDER, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise self._refusal(parent, name, rel) from exc
            raise
        with contextlib.suppress(FileExistsError):  # made meanwhile; a link made meanwhile is refused
            os.mkdir(name, 0o777, dir_fd=parent)
        return self._open_child(parent, name, rel, create=False)

    def _check_name(self, name: str, rel: str) -> None:
        if name in ("", ".", ".."):  # never from a listing or a normalized path; never walked up
            raise LinkNotFollowed(f"{self.anchor / rel}: '{name}' is not the name of a file or folder")

    def _refusal(self, parent: int, name: str, rel: str) -> LinkNotFollowed:
        path = self.anchor / rel
        try:
            is_link = stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode)
        except OSError:
            is_link = False
        if is_link:
            return LinkNotFollowed(f"{path} is a symbolic link (a job may have made it): not followed")
        return LinkNotFollowed(f"{path} is not a folder")


def _copy_bytes(source: int, dest: int) -> None:
    """Every byte of ``source`` (from its start) to ``dest``, in the kernel where it can."""
    offset = 0
    try:
        while sent := os.sendfile(dest, source, offset, _COPY_CHUNK):
            offset += sent
        return
    except OSError as exc:
        if offset or exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    while chunk := os.pread(source, _COPY_CHUNK, offset):
        offset += len(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(dest, view):]
