"""Reading and writing folders a job could write, never following a link it planted there.

Once a job has run, every folder it could write (its working directory with ``outputs/`` and ``logs/``,
``user_logs/``, its artifacts, its MLflow store, an output on a local datastore) may hold symbolic links
to any host path. Collecting the artifacts, closing the MLflow run and downloading from a local datastore
go through here: below a folder the job never had (``trusted``), each name is opened with
``O_NOFOLLOW`` relative to its parent's descriptor, so no link is followed, at the source or at the
destination, nor one swapped in halfway:

- a link met where data is read is skipped, with one warning naming it and where it points;
- a link met where the runner writes a folder is removed and a real folder made in its place;
- a file is written as a new file renamed over its name: that replaces a link (or a hard link), never
  writes through it;
- a FIFO, socket or device is never opened (it could block, or be a host disk made with ``mknod``).

Its twin for outputs moved into a local datastore, ``mounts.transfer.nofollow``, refuses a link on the
way instead (the output fails, its staged data kept): there the link may name a registered model.

    links = Links()
    with open_folder(job_dir.root, "code", "outputs", links=links) as source, \\
         open_folder(artifacts.parent, artifacts.name, "outputs", links=links, create=True) as target:
        if source is not None and target is not None:
            copy_folder(source, target, links)
    links.noted  # ["<path> -> <where it points> (skipped)", ...]: for the job's record
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from runner.errors import StorageError

log = logging.getLogger(__name__)

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the listing does not block the open; O_NOCTTY: nor a terminal
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_DEPTH = 200  # deeper folders are not copied (a hostile tree must not exhaust descriptors or the stack)
CHUNK = 8 * 1024 * 1024
MAX_TEXT = 1024 * 1024  # a small file the runner reads (a meta.yaml): a larger one is not read into memory


@dataclass
class Links:
    """The links met in a job's folders and what was done with each: one warning each, and the list
    for the job's record."""

    noted: list[str] = field(default_factory=list)

    def note(self, path: str, points_to: str, done: str) -> None:
        log.warning("%s is a symbolic link (to %s): %s, not followed", path, points_to, done)
        self.noted.append(f"{path} -> {points_to} ({done})")


@dataclass(frozen=True)
class Folder:
    """An open folder: its descriptor, and its path for messages."""

    fd: int
    path: str

    def child(self, name: str) -> str:
        return f"{self.path}/{name}"


def _readlink(name: str, parent: int) -> str:
    try:
        return os.readlink(name, dir_fd=parent)
    except OSError:
        return "?"


def lstat(folder: Folder, name: str) -> os.stat_result | None:
    """``name`` in ``folder`` as it is (a link's own status), or None when there is nothing."""
    return _lstat(name, folder.fd)


def _lstat(name: str, parent: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _open_child(parent: int, name: str, shown: str, links: Links, *, create: bool) -> int | None:
    """``name`` in ``parent`` as a folder, never through a link: None when it is missing, a link (when
    reading) or not a folder. With ``create`` a missing folder is made and a link replaced by a folder."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        info = _lstat(name, parent)
        if info is not None and not stat.S_ISLNK(info.st_mode):
            log.warning("%s is not a folder: %s", shown, "nothing written into it" if create else "not read")
            return None
        if info is not None:
            links.note(shown, _readlink(name, parent), "replaced by a folder" if create else "skipped")
            if create:
                os.unlink(name, dir_fd=parent)
    if not create:
        return None
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, dir_fd=parent)
    return os.open(name, DIR_FLAGS, dir_fd=parent)  # a link made meanwhile: ELOOP, raised


@contextlib.contextmanager
def open_folder(trusted: Path, *names: str, links: Links, create: bool = False) -> Iterator[Folder | None]:
    """``trusted/names...`` open as a ``Folder``, each of ``names`` opened without following a link
    (``trusted`` itself is the runner's own and may be one). None when it cannot be read (see
    ``_open_child``); with ``create`` missing folders are made, ``trusted`` too."""
    if create:
        trusted.mkdir(parents=True, exist_ok=True)
    try:
        fd: int | None = os.open(trusted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        fd = None
    shown = str(trusted)
    try:
        for name in names:
            if fd is None:
                break
            shown = f"{shown}/{name}"
            parent, fd = fd, None
            try:
                fd = _open_child(parent, name, shown, links, create=create)
            finally:
                os.close(parent)
        yield None if fd is None else Folder(fd, shown)
    finally:
        if fd is not None:
            os.close(fd)


@contextlib.contextmanager
def open_child(folder: Folder, name: str, links: Links, *, create: bool = False) -> Iterator[Folder | None]:
    """``name`` in ``folder`` as ``open_folder`` opens each of its names."""
    fd = _open_child(folder.fd, name, folder.child(name), links, create=create)
    try:
        yield None if fd is None else Folder(fd, folder.child(name))
    finally:
        if fd is not None:
            os.close(fd)


def is_empty(folder: Folder) -> bool:
    with os.scandir(folder.fd) as listing:
        return next(listing, None) is None


def _special(path: str, refuse: bool) -> None:
    if refuse:
        raise StorageError(f"'{path}' is not a regular file (a device, FIFO or socket): only files and "
                           "folders of files can be copied", hint="remove it from the folder")
    log.warning("%s is not a regular file (a device, FIFO or socket): skipped, not opened", path)


def copy_folder(source: Folder, target: Folder, links: Links, *, refuse_special: bool = False,
                depth: int = 0) -> None:
    """Copy the files and folders under ``source`` into ``target`` (merged: files there are replaced).
    Links are skipped (``Links.note``); FIFOs, sockets and devices are skipped with a warning, or
    refused (``StorageError``) with ``refuse_special``, and so are folders more than ``MAX_DEPTH`` deep
    (one Python call per level: the copy stays far from the recursion limit)."""
    with os.scandir(source.fd) as listing:
        entries = sorted((e.name, e.is_symlink(), e.is_dir(follow_symlinks=False),
                          e.is_file(follow_symlinks=False)) for e in listing)
    for name, is_link, is_dir, is_file in entries:
        _copy_entry(source, target, links, name, (is_link, is_dir, is_file), refuse_special, depth)


def _copy_entry(source: Folder, target: Folder, links: Links, name: str, kind: tuple[bool, bool, bool],
                refuse_special: bool, depth: int) -> None:
    is_link, is_dir, is_file = kind
    shown = source.child(name)
    if is_link:
        links.note(shown, _readlink(name, source.fd), "skipped")
    elif is_dir and depth >= MAX_DEPTH:
        if refuse_special:
            raise StorageError(f"'{shown}' is more than {MAX_DEPTH} folders deep: a copy made here goes "
                               f"at most {MAX_DEPTH} folders down", hint="copy the folder by hand (cp -r)")
        log.warning("%s is more than %d folders deep: not copied (what is below it stays there)", shown,
                    MAX_DEPTH)
    elif is_dir:
        with open_child(source, name, links) as inner, \
                open_child(target, name, links, create=True) as into:
            if inner is not None and into is not None:
                copy_folder(inner, into, links, refuse_special=refuse_special, depth=depth + 1)
    elif is_file:
        copy_file(source, name, target, name, links, refuse_special=refuse_special)
    else:
        _special(shown, refuse_special)


def copy_file(source: Folder, name: str, target: Folder, as_name: str, links: Links, *,
              refuse_special: bool = False) -> bool:
    """Copy the regular file ``name`` (never through a link) to ``as_name`` in ``target``, with its
    permission bits and times; a link or file already there is replaced, not written through. False
    when it was not copied (a link: noted; not a regular file: warned or refused)."""
    reader = _open_regular(source, name, links, done="skipped", refuse_special=refuse_special)
    if reader is None:
        return False
    with open(reader, "rb") as src:
        info = os.fstat(reader)
        there = _lstat(as_name, target.fd)
        if there is not None and stat.S_ISLNK(there.st_mode):
            links.note(target.child(as_name), _readlink(as_name, target.fd), "replaced")
        # the permission bits only: never a set-user-ID file of the job's making on the host
        _write_new(target, as_name, lambda dst: shutil.copyfileobj(src, dst, CHUNK),
                   mode=info.st_mode & 0o777, times_ns=(info.st_atime_ns, info.st_mtime_ns))
    return True


def read_text(folder: Folder, name: str, links: Links, *, done: str = "skipped") -> str | None:
    """The text of the regular file ``name``; None when it is missing, a link (noted with what the
    caller does instead: ``done``), not a regular file or larger than ``MAX_TEXT``."""
    if _lstat(name, folder.fd) is None:
        return None
    fd = _open_regular(folder, name, links, done=done)
    if fd is None:
        return None
    with open(fd, "rb") as handle:
        data = handle.read(MAX_TEXT + 1)
    if len(data) > MAX_TEXT:
        log.warning("%s is larger than %d bytes: not read", folder.child(name), MAX_TEXT)
        return None
    return data.decode("utf-8", errors="replace")


def _open_regular(folder: Folder, name: str, links: Links, *, done: str,
                  refuse_special: bool = False) -> int | None:
    """A descriptor of the regular file ``name``, or None for a link (noted) or anything else (warned,
    or refused with ``refuse_special``): those are never opened, so a device or FIFO the job made is not
    read. Checked again once open (the name may have been swapped meanwhile)."""
    info = _lstat(name, folder.fd)
    if info is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), folder.child(name))
    if stat.S_ISLNK(info.st_mode):
        links.note(folder.child(name), _readlink(name, folder.fd), done)
        return None
    if stat.S_ISREG(info.st_mode):
        try:
            fd = os.open(name, FILE_FLAGS, dir_fd=folder.fd)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            links.note(folder.child(name), _readlink(name, folder.fd), done)
            return None
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.set_blocking(fd, True)
            return fd
        os.close(fd)
    _special(folder.child(name), refuse_special)
    return None


def replace_text(folder: Folder, name: str, text: str) -> None:
    """Write ``text`` as a new file renamed over ``name`` (a link there is replaced, never followed)."""
    _write_new(folder, name, lambda dst: dst.write(text.encode()), mode=0o644)


def _write_new(folder: Folder, name: str, fill: Callable[[BinaryIO], object], *, mode: int,
               times_ns: tuple[int, int] | None = None) -> None:
    temporary = f".runner-{uuid.uuid4().hex}.tmp"
    fd = os.open(temporary, NEW_FILE_FLAGS, 0o600, dir_fd=folder.fd)
    try:
        with open(fd, "wb") as dst:
            fill(dst)
            dst.flush()
            os.fchmod(fd, mode)
            if times_ns is not None:
                os.utime(fd, ns=times_ns)
        os.replace(temporary, name, src_dir_fd=folder.fd, dst_dir_fd=folder.fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder.fd)
        if isinstance(exc, IsADirectoryError):  # a folder of that name is there: the file is not copied
            log.warning("%s is a folder: the file of that name was not copied into it", folder.child(name))
            return
        raise
