"""Content digests of files and folders on any store: what a pipeline step's reuse compares its inputs
and code by (``runner.pipelines.reuse``).

    digest = content_digest(workspace, fs, "/data/train", folder=True)   # "sha256:<hex>"
    digest = content_digest(workspace, None, "/home/me/data", folder=True)  # a path on this machine

A digest covers every file's relative path and bytes (streamed, 1 MiB at a time). It is cached in the
workspace by a signature of the listing (the location, and each file's path, size and change stamp:
mtime, ctime and inode locally, the etag on object stores), so unchanged data is read once, as git's index
does; a file rewritten in place gets a new stamp and is read again.

A path on this machine (``fs=None``) is listed with ``os.scandir`` and read with ``open``: the same entries,
stamps and digest as fsspec's local filesystem gives (so recorded digests stay valid), without importing
fsspec, whose import costs more than the rest of a pipeline's ``runner job validate`` (issue 21).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import posixpath
import stat
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any

from runner.errors import StorageError
from runner.workspace.db import Workspace, utcnow

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CHUNK = 1 << 20
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


def _local_listing(path: str, *, folder: bool, skip: Iterable[str]) -> list[tuple[str, str, int, list[Any]]]:
    """``_listing`` of a path on this machine, as fsspec's local filesystem lists it: a link is an entry
    of its own (its own stamp, its target's size), never followed into a folder."""
    if not folder:
        info = os.stat(path)
        return [("", path, info.st_size, [info.st_mtime, info.st_ctime, info.st_ino])]
    root = os.path.abspath(path).rstrip("/") or "/"
    skipped = set(skip)
    entries = []
    folders = [root]
    while folders:
        with os.scandir(folders.pop()) as found:
            for entry in found:
                if entry.name in skipped:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                    continue
                info = entry.stat(follow_symlinks=False)
                size = info.st_size
                if stat.S_ISLNK(info.st_mode):
                    try:
                        size = os.stat(entry.path).st_size
                    except OSError:
                        size = 0
                elif not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
                    raise StorageError(f"cannot compare '{entry.path}' by content: not a regular file")
                entries.append((entry.path[len(root):].lstrip("/"), entry.path, size,
                                [info.st_mtime, info.st_ctime, info.st_ino]))
    return sorted(entries)


Opener = Callable[[str], IO[bytes]]


def _hash(opener: Opener, entries: list[tuple[str, str, int, list[Any]]]) -> str:
    total = hashlib.sha256()
    for relative, name, size, _ in entries:
        one = hashlib.sha256()
        with opener(name) as handle:
            while chunk := handle.read(CHUNK):
                one.update(chunk)
        total.update(f"{relative}\0{size}\0{one.hexdigest()}\n".encode())
    return f"sha256:{total.hexdigest()}"


def _open_local(name: str) -> IO[bytes]:
    return open(name, "rb")  # noqa: SIM115 - the caller's ``with`` closes it


def content_digest(ws: Workspace, fs: AbstractFileSystem | None, path: str, *, folder: bool,
                   skip: Iterable[str] = ()) -> str:
    """The digest of a file or folder's content (see the module docstring); files named in ``skip``
    (anywhere in a relative path) are left out. ``fs`` None: ``path`` is on this machine."""
    if fs is None:
        protocol, account, opener = "file", None, _open_local
    else:
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        account, opener = getattr(fs, "account_name", None), functools.partial(fs.open, mode="rb")
    try:
        entries = (_local_listing(path, folder=folder, skip=skip) if fs is None
                   else _listing(fs, path, folder=folder, skip=skip))
        signature = hashlib.sha256(json.dumps(
            [protocol, account, path, [[e[0], e[2], e[3]] for e in entries]],
            default=str).encode()).hexdigest()
        with ws.reading() as conn:
            row = conn.execute("SELECT digest FROM content_digests WHERE signature = ?",
                               (signature,)).fetchone()
        if row is not None:
            return str(row["digest"])
        digest = _hash(opener, entries)
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
    return _hash(_open_local, _local_listing(root, folder=os.path.isdir(root), skip=skip))
