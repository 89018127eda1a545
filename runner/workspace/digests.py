"""Content digests of files and folders on any store: what a pipeline step's reuse compares its inputs
and code by (``runner.pipelines.reuse``).

    digest = content_digest(workspace, fs, "/data/train", folder=True)   # "sha256:<hex>"
    digest = content_digest(workspace, None, "/home/me/data", folder=True)  # a path on this machine

A digest covers every file's relative path and bytes (streamed, 1 MiB at a time). It is cached in the
workspace by a signature of the listing (the location, and each file's path, size and change stamp:
mtime, ctime and inode locally, the etag on object stores), so unchanged data is read once, as git's index
does; a file rewritten in place gets a new stamp and is read again.

A path on this machine (``fs=None``, or fsspec's local filesystem) is listed with ``os.scandir`` and read
with ``os.open``: for a tree without links the same entries, stamps and digest as fsspec's local
filesystem gives (so recorded digests stay valid), without importing fsspec, whose import costs more than
the rest of a pipeline's ``runner job validate`` (issue 21).

**Links.** Below the path given, no link is followed, neither into a folder nor to a file: a job may have
made it (an earlier step's output), to any host file, a FIFO or a device. A link is an entry of its own
that counts by its target as written (``<path>\0link\0<sha256 of the target>``), not by what it points at:
that is also what a job's code snapshot keeps and what a bind mount shows. Every folder and file is opened
relative to its parent with ``O_NOFOLLOW``, so one swapped for a link after the listing fails the digest
(``StorageError``) rather than being read. The path given itself is the caller's (a user's input or code
folder, resolved with its links followed) and is followed; it must be a regular file or a folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from runner.errors import StorageError
from runner.workspace.db import Workspace, utcnow
from runner.workspace.nofollow import DIR_FLAGS, FILE_FLAGS

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CHUNK = 1 << 20
Ignore = Callable[[str, list[str]], Iterable[str]]  # copy_tree's: the names of a folder left out
SKIPPED_NAMES = (".git", "__pycache__")  # as a job's code snapshot skips them


def _stamp(info: dict[str, Any]) -> list[Any]:
    etag = info.get("etag") or info.get("ETag")
    if etag:
        return [str(etag).strip('"')]
    return [info.get("mtime") or str(info.get("last_modified") or ""), info.get("created"), info.get("ino")]


def _listing(fs: AbstractFileSystem, path: str, *, folder: bool, skip: Iterable[str]
             ) -> list[tuple[str, str, int, list[Any]]]:
    """(relative path, store path, size, stamp) of every file, sorted by relative path."""
    if not folder:
        info = fs.info(path)
        return [("", path, int(info.get("size") or 0), _stamp(info))]
    root = path.rstrip("/")
    skipped = set(skip)
    found = fs.find(root, withdirs=False, detail=True)
    entries = []
    for name, info in found.items():
        full = name if name.startswith("/") or not root.startswith("/") else "/" + name
        relative = full[len(root):].lstrip("/") if full.startswith(root) else posixpath.basename(full)
        if skipped.intersection(relative.split("/")) or info.get("type") == "directory":
            continue
        entries.append((relative, name, int(info.get("size") or 0), _stamp(info)))
    return sorted(entries)


def _local_listing(path: str, *, folder: bool, skip: Iterable[str], ignore: Ignore | None = None
                   ) -> list[tuple[str, str, int, list[Any]]]:
    """``_listing`` of a path on this machine, as fsspec's local filesystem lists a tree without links. A
    link is an entry of its own, never followed: its own size and stamp plus its target (``_LINK``).
    ``ignore(folder, names)``: the names of a folder left out (a code snapshot's rules)."""
    if not folder:
        info = os.stat(path)
        return [("", path, info.st_size, [info.st_mtime, info.st_ctime, info.st_ino])]
    root = os.path.abspath(path).rstrip("/") or "/"
    skipped = set(skip)
    entries = []
    folders = [""]
    with _Tree(root) as tree:
        while folders:
            below = folders.pop()
            with tree.scan(below) as found:
                listed = list(found)  # stat'ed relative to the folder, open until the next one is
            names = [entry.name for entry in listed]
            left_out = set(ignore(f"{root}/{below}" if below else root, names)) if ignore else set()
            for entry in listed:
                if entry.name in skipped or entry.name in left_out:
                    continue
                relative = f"{below}/{entry.name}" if below else entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append(relative)
                    continue
                info = entry.stat(follow_symlinks=False)
                stamp: list[Any] = [info.st_mtime, info.st_ctime, info.st_ino]
                if stat.S_ISLNK(info.st_mode):
                    stamp.append(_LINK + tree.readlink(relative))
                elif not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
                    raise StorageError(f"cannot compare '{root}/{relative}' by content: not a regular "
                                       "file")
                entries.append((relative, f"{root}/{relative}", info.st_size, stamp))
    return sorted(entries)


_LINK = "link:"  # a link's stamp ends with its target: never the signature of a listing made before


class _Tree:
    """The folders and files below ``root``, no link followed, one folder open at a time besides the root
    (whatever the depth): the next is reached from the one open, up through ``..`` (checked to be the
    folder it came down through; else again from the root, by name) and down one name at a time relative
    to its parent. A walk in listing order or in path order opens each folder once (and ``..`` once)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the caller's: followed
        self._here, self._rel = self.fd, ""  # the folder open and its path below the root
        self._ids = [_identity(self.fd)]  # of each folder from the root down to it

    def __enter__(self) -> _Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self._switch(self.fd)
        os.close(self.fd)

    def folder(self, relative: str) -> int:
        """A descriptor of the folder ``relative`` (posix, below the root), valid until the next call; a
        link on the way: ``OSError`` (ELOOP, or ENOTDIR)."""
        while self._rel and relative != self._rel and not relative.startswith(self._rel + "/"):
            if not self._up():  # moved under another parent meanwhile: from the root, by name
                self._switch(self.fd)
                self._rel = ""
                del self._ids[1:]
        if relative != self._rel:
            for name in relative[len(self._rel) + 1 if self._rel else 0:].split("/"):
                fd = os.open(name, DIR_FLAGS, dir_fd=self._here)
                self._switch(fd)
                self._rel = f"{self._rel}/{name}" if self._rel else name
                self._ids.append(_identity(fd))
        return self._here

    def _switch(self, fd: int) -> None:
        if self._here not in (self.fd, fd):
            os.close(self._here)
        self._here = fd

    def _up(self) -> bool:
        parent = self.fd
        if len(self._ids) > 2:
            parent = os.open("..", DIR_FLAGS, dir_fd=self._here)
            if _identity(parent) != self._ids[-2]:
                os.close(parent)
                return False
        self._switch(parent)
        self._rel = self._rel.rpartition("/")[0]
        self._ids.pop()
        return True

    def scan(self, relative: str) -> contextlib.AbstractContextManager[Iterator[os.DirEntry[str]]]:
        """The entries of the folder ``relative``, stat'ed relative to it: use them before the next call."""
        return os.scandir(self.folder(relative))

    def readlink(self, relative: str) -> str:
        folder, _, name = relative.rpartition("/")
        return os.readlink(name, dir_fd=self.folder(folder))

    def read(self, relative: str) -> IO[bytes]:
        """The regular file ``relative``, never through a link; anything else: ``OSError``."""
        folder, _, name = relative.rpartition("/")
        return _regular(os.open(name, FILE_FLAGS, dir_fd=self.folder(folder)), f"{self.root}/{relative}")


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _regular(fd: int, shown: str) -> IO[bytes]:
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a FIFO or a device after the listing
        os.close(fd)
        raise OSError(f"{shown} is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


Opener = Callable[[str], IO[bytes]]


def _hash(opener: Opener, entries: list[tuple[str, str, int, list[Any]]], *, local: bool = False) -> str:
    """Every file's relative path, size and SHA-256; in a ``local`` listing a link's target instead."""
    total = hashlib.sha256()
    for relative, name, size, stamp in entries:
        if local and len(stamp) == 4:  # a link (``_local_listing``): its target, never what it points at
            target = hashlib.sha256(os.fsencode(stamp[-1][len(_LINK):])).hexdigest()
            total.update(f"{relative}\0link\0{target}\n".encode())
            continue
        one = hashlib.sha256()
        with opener(name) as handle:
            while chunk := handle.read(CHUNK):
                one.update(chunk)
        total.update(f"{relative}\0{size}\0{one.hexdigest()}\n".encode())
    return f"sha256:{total.hexdigest()}"


def _local_hash(path: str, entries: list[tuple[str, str, int, list[Any]]], *, folder: bool) -> str:
    """``_hash`` of a local listing: each file opened below ``path`` with no link followed; a single file
    (the caller's path) as it is, if it is a regular file."""
    if not folder:
        return _hash(lambda name: _regular(os.open(name, FILE_FLAGS & ~os.O_NOFOLLOW), name), entries,
                     local=True)
    with _Tree(os.path.abspath(path).rstrip("/") or "/") as tree:
        return _hash(lambda name: tree.read(name[len(tree.root):].lstrip("/")), entries, local=True)


def content_digest(ws: Workspace, fs: AbstractFileSystem | None, path: str, *, folder: bool,
                   skip: Iterable[str] = (), ignore: Ignore | None = None) -> str:
    """The digest of a file or folder's content (see the module docstring); files named in ``skip``
    (anywhere in a relative path) are left out, and on this machine what ``ignore(folder, names)`` leaves
    out (a code snapshot's rules, ``runner.workspace.snapshot_rules``). ``fs`` None: ``path`` is on this
    machine."""
    protocols = ("file",) if fs is None else (fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol
    # fsspec's local filesystem would follow links: this machine's paths are read here, to the same digest
    remote = None if {"file", "local"} & set(protocols) else fs
    protocol, account = protocols[0], getattr(fs, "account_name", None)
    where = path if fs is None or remote is not None else fs._strip_protocol(path)
    try:
        entries = (_local_listing(where, folder=folder, skip=skip, ignore=ignore) if remote is None
                   else _listing(remote, path, folder=folder, skip=skip))
        signature = hashlib.sha256(json.dumps(
            [protocol, account, path, [[e[0], e[2], e[3]] for e in entries]],
            default=str).encode()).hexdigest()
        with ws.reading() as conn:
            row = conn.execute("SELECT digest FROM content_digests WHERE signature = ?",
                               (signature,)).fetchone()
        if row is not None:
            return str(row["digest"])
        digest = (_local_hash(where, entries, folder=folder) if remote is None
                  else _hash(functools.partial(remote.open, mode="rb"), entries))
    except FileNotFoundError as exc:
        raise StorageError(f"cannot read '{path}' to compare it by content: it does not exist") from exc
    except OSError as exc:
        raise StorageError(f"cannot read '{path}' to compare it by content: {exc}") from exc
    with ws.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO content_digests (signature, digest, created_at) "
                     "VALUES (?, ?, ?)", (signature, digest, utcnow().isoformat()))
    return digest


def local_tree_digest(root: str, *, skip: Iterable[str] = SKIPPED_NAMES) -> str:
    """The digest of a local folder (or file), not cached: for comparing small trees (a component's
    code snapshot against a new one)."""
    folder = os.path.isdir(root)
    return _local_hash(root, _local_listing(root, folder=folder, skip=skip), folder=folder)
