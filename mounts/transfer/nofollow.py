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

Two descriptors are kept whatever the depth: the anchor's and the folder's last opened (files arrive
sorted, so a folder's files come together). The next folder is reached from there: up through ``..``,
checked to be the folder it came down through (else the way is opened again from the anchor, by name),
then down one name at a time. So a tree deeper than the open-file limit is moved whole.

No file put there keeps a set-user-ID or set-group-ID bit: a job runs as root in its container, and a
set-user-ID root executable of its making in a host folder would run as root for any user of the host.
A file is cleared of them before it is renamed into place (``drop_set_id``, on the file itself, never
through a link), a copy never gets them (``without_set_id``), and a ``direct`` output's folder, written in
place, is cleared once its job ended (``drop_set_id_in``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import stat
from pathlib import Path
from types import TracebackType

from mounts.base import Target
from mounts.errors import LinkNotFollowed, MountsError
from mounts.transfer.partials import scratch_name, sweep_partials
from mounts.transfer.tree import LeftOut, link_kind, special_kind

log = logging.getLogger(__name__)

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH_ONLY = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC  # opens no file for reading (a FIFO, a device)
SET_ID = stat.S_ISUID | stat.S_ISGID
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
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
        fd = os.open(anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._anchor: int | None = fd  # None once closed
        self._here, self._rel = fd, ""  # the folder last opened, and its path below the anchor
        self._ids: list[tuple[int, int]] = [_identity(fd)]  # of each folder from the anchor down

    def folder(self, rel: str, *, create: bool = True) -> int:
        """A descriptor of the folder ``rel`` (posix, below the anchor); valid until the next call for
        another folder, or ``close``."""
        if self._anchor is None:
            raise ValueError(f"the folders under {self.anchor} were closed")
        while self._rel and rel != self._rel and not rel.startswith(self._rel + "/"):
            if not self._up():  # moved under another parent: from the anchor, by name
                self._switch(self._anchor)
                self._rel = ""
                del self._ids[1:]
        if rel != self._rel:
            for name in rel[len(self._rel) + 1 if self._rel else 0:].split("/"):  # down, one name at a time
                below = f"{self._rel}/{name}" if self._rel else name
                fd = self._open_child(self._here, name, below, create)
                self._switch(fd)
                self._rel = below
                self._ids.append(_identity(fd))
        return self._here

    def move_in(self, source: Path, rel: str) -> None:
        """Rename ``source`` to ``rel``; from another filesystem, copy it there, then remove it."""
        parent, name = self._parent_of(rel)
        try:
            drop_set_id(os.fspath(source))
        except OSError as exc:
            raise OSError(exc.errno, f"its set-user-ID or set-group-ID bit could not be cleared "
                                     f"({exc.strerror}): not moved into place", os.fspath(source)) from exc
        try:
            os.replace(source, name, dst_dir_fd=parent)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self.copy_in(source, rel, keep_times=True)
            source.unlink()

    def copy_in(self, source: Path, rel: str, *, keep_times: bool = False) -> None:
        """Copy ``source`` to ``rel``: into a new scratch file in the anchor (beside it when the anchor is
        on another filesystem), locked until it is renamed over the final name once its size is checked
        (the final name, even a link, is replaced, never written through). A scratch file its writer's
        death left there is removed by a later write (``mounts.transfer.partials``)."""
        parent, name = self._parent_of(rel)
        assert self._anchor is not None
        at = self._anchor if os.fstat(self._anchor).st_dev == os.fstat(parent).st_dev else parent
        scratch = scratch_name()
        with open(source, "rb") as reader:
            info = os.fstat(reader.fileno())
            out = os.open(scratch, NEW_FILE, 0o600, dir_fd=at)
            try:
                try:
                    fcntl.flock(out, fcntl.LOCK_EX)  # held until it is in place: a sweep leaves it alone
                    _copy_bytes(reader.fileno(), out)
                    if os.fstat(out).st_size != info.st_size:
                        raise OSError(f"copy of {rel} has the wrong size (the file changed while copied)")
                    os.fchmod(out, without_set_id(info.st_mode))
                    if keep_times:
                        os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
                    os.replace(scratch, name, src_dir_fd=at, dst_dir_fd=parent)
                finally:
                    os.close(out)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(scratch, dir_fd=at)
                raise

    def sweep_partials(self) -> list[str]:
        """Remove the scratch files in the anchor whose writer died (``mounts.transfer.partials``)."""
        assert self._anchor is not None
        return sweep_partials(self._anchor)

    def close(self) -> None:
        if self._anchor is None:
            return
        if self._here != self._anchor:
            os.close(self._here)
        os.close(self._anchor)
        self._anchor = None

    def __enter__(self) -> NoFollowFolders:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _parent_of(self, rel: str) -> tuple[int, str]:
        parent, _, name = rel.rpartition("/")
        self._check_name(name, rel)
        return self.folder(parent), name

    def _switch(self, fd: int) -> None:
        """Make ``fd`` the folder open, closing the one before (never the anchor's)."""
        if self._here not in (self._anchor, fd):
            os.close(self._here)
        self._here = fd

    def _up(self) -> bool:
        """Go to the parent of the folder open, through ``..``; False (nothing changed) when that is not
        the folder it was reached from (it was moved meanwhile)."""
        parent = self._anchor
        if len(self._ids) > 2:
            parent = os.open("..", _FOLDER, dir_fd=self._here)
            if _identity(parent) != self._ids[-2]:
                os.close(parent)
                return False
        assert parent is not None
        self._switch(parent)
        self._rel = self._rel.rpartition("/")[0]
        self._ids.pop()
        return True

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


def without_set_id(mode: int) -> int:
    """The permission bits of ``mode`` (sticky bit too) without set-user-ID and set-group-ID."""
    return stat.S_IMODE(mode) & ~SET_ID


def drop_set_id(name: str, dir_fd: int | None = None) -> bool:
    """Clear the set-user-ID and set-group-ID bits of the regular file ``name`` (in ``dir_fd``), never
    through a link in its own name and never opening it for reading; True when it had one. A link, a
    folder, a FIFO or a device is left as it is (not a file to run)."""
    if not os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & SET_ID:
        return False  # the common case: one lstat
    fd = os.open(name, _PATH_ONLY, dir_fd=dir_fd)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode) or not mode & SET_ID:
            return False
        os.chmod(f"/proc/self/fd/{fd}", without_set_id(mode))  # the file this descriptor is, by no name
        return True
    finally:
        os.close(fd)


def drop_set_id_in(target: Target, left_out: list[LeftOut] | None = None) -> list[str]:
    """Clear the set-user-ID and set-group-ID bits of every regular file in the folder a local ``direct``
    output is bound as (the target, or a file's folder), once its job ended, reached by path with no link
    followed below the anchor. A link on the way: a warning, nothing cleared (the folder given to the job
    is no longer there: when it was pinned, the pin is cleared, ``mounts.pin``). Returns the paths of the
    files cleared (the first ones named in one warning); ``left_out`` collects what is there that is no
    data (``drop_set_id_below``)."""
    anchor, rel = anchor_of(target)
    folder = rel.rpartition("/")[0] if target.is_file else rel
    shown = str(anchor / folder) if folder else str(anchor)
    with NoFollowFolders(anchor) as tree:
        try:
            changed = drop_set_id_below(tree.folder(folder, create=False), shown, left_out)
        except FileNotFoundError:  # nothing written
            return []
        except LinkNotFollowed as exc:
            log.warning("output %s: its files were not checked for set-user-ID bits by path: %s",
                        target.url, exc)
            return []
    note_set_id(target.url, changed)
    return changed


def note_set_id(what: str, changed: list[str]) -> None:
    if changed:
        log.warning("output %s: the job made %d set-user-ID or set-group-ID file(s): the bits were "
                    "cleared (%s%s)", what, len(changed), ", ".join(changed[:5]),
                    " ..." if len(changed) > 5 else "")


def drop_set_id_below(top: int, shown: str, left_out: list[LeftOut] | None = None) -> list[str]:
    """Clear the set-user-ID and set-group-ID bits of every regular file below the open folder ``top``
    (``shown``: its path for messages): no link followed (skipped: what it names is not the output), no
    FIFO or device opened, at most two folders open at a time whatever the depth. The paths cleared.
    ``left_out`` collects the entries that are no data, as an upload of the folder would leave them out
    (``mounts.transfer.uploader.list_local_files``): a FIFO, a device, a link to no file inside it."""
    changed: list[str] = []
    _drop_set_id_below(top, shown, changed, None if left_out is None else _NoData(shown, left_out))
    return changed


class _NoData:
    """The entries below a folder (``top``: its path) that are neither folders nor regular files nor links
    to files inside it, with why; a link is resolved by name, nothing is opened."""

    def __init__(self, top: str, found: list[LeftOut]) -> None:
        self.top, self.found = top, found
        self.real_top = Path(os.path.realpath(top))

    def note(self, folder: int, shown: str, entry: os.DirEntry[str]) -> None:
        rel = f"{shown}/{entry.name}"[len(self.top) + 1:]
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile
            if entry.is_symlink():
                kind = link_kind(f"{shown}/{entry.name}", self.real_top)
                if isinstance(kind, str):
                    self.found.append(LeftOut(rel, kind))
            else:
                self.found.append(LeftOut(rel, special_kind(os.stat(entry.name, dir_fd=folder,
                                                                    follow_symlinks=False).st_mode)))


def _drop_set_id_below(top: int, shown: str, changed: list[str], no_data: _NoData | None) -> None:
    """Depth first from ``top``: one folder open (and its child while it is opened); back up through
    ``..``, checked to be the folder that was left (a folder moved meanwhile: ``MountsError``)."""
    here = os.dup(top)
    levels = [(_identity(here), _drop_set_id_here(here, shown, changed, no_data), shown)]
    try:
        while levels:
            _, left, path = levels[-1]
            if not left:
                levels.pop()
                if levels:
                    here = _up(here, levels[-1][0], path)
                continue
            name = left.pop()
            try:
                child = os.open(name, _FOLDER, dir_fd=here)
            except (FileNotFoundError, NotADirectoryError):
                continue  # not a folder any more: nothing to clear there
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                continue  # a link now: not followed
            os.close(here)
            here = child
            levels.append((_identity(here), _drop_set_id_here(here, f"{path}/{name}", changed, no_data),
                           f"{path}/{name}"))
    finally:
        os.close(here)


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _up(here: int, expected: tuple[int, int], path: str) -> int:
    parent = os.open("..", _FOLDER, dir_fd=here)
    if _identity(parent) != expected:
        os.close(parent)
        raise MountsError(f"{path} was moved while its files were checked for set-user-ID bits")
    os.close(here)
    return parent


def _drop_set_id_here(folder: int, shown: str, changed: list[str], no_data: _NoData | None) -> list[str]:
    """Clear the files of ``folder`` (noting in ``no_data`` what is no data); its subfolders (no link),
    last name first (popped in order)."""
    folders = []
    with os.scandir(folder) as listing:
        for entry in listing:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            elif entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    if drop_set_id(entry.name, folder):
                        changed.append(f"{shown}/{entry.name}")
            elif no_data is not None:
                no_data.note(folder, shown, entry)
    return sorted(folders, reverse=True)


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
