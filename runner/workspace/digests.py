"""Content digests of files and folders on any store: what a pipeline step's reuse compares its inputs
and code by (``runner.pipelines.reuse``).

    digest = content_digest(workspace, fs, "/data/train", folder=True)   # "sha256:<hex>"

A digest covers every file's relative path and bytes (streamed, 1 MiB at a time). It is cached in the
workspace by a signature of the listing (the location, and each file's path, size and change stamp:
mtime, ctime and inode locally, the etag on object stores), so unchanged data is read once, as git's index
does; a file rewritten in place gets a new stamp and is read again.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterable
from typing import Any

import fsspec
from fsspec import AbstractFileSystem

from runner.errors import StorageError
from runner.workspace.db import Workspace, utcnow

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


def _hash(fs: AbstractFileSystem, entries: list[tuple[str, str, int, list[Any]]]) -> str:
    total = hashlib.sha256()
    for relative, name, size, _ in entries:
        one = hashlib.sha256()
        with fs.open(name, "rb") as handle:
            while chunk := handle.read(CHUNK):
                one.update(chunk)
        total.update(f"{relative}\0{size}\0{one.hexdigest()}\n".encode())
    return f"sha256:{total.hexdigest()}"


def content_digest(ws: Workspace, fs: AbstractFileSystem, path: str, *, folder: bool,
                   skip: Iterable[str] = ()) -> str:
    """The digest of a file or folder's content (see the module docstring); files named in ``skip``
    (anywhere in a relative path) are left out."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    try:
        entries = _listing(fs, path, folder=folder, skip=skip)
        signature = hashlib.sha256(json.dumps(
            [protocol, getattr(fs, "account_name", None), path, [[e[0], e[2], e[3]] for e in entries]],
            default=str).encode()).hexdigest()
        with ws.reading() as conn:
            row = conn.execute("SELECT digest FROM content_digests WHERE signature = ?",
                               (signature,)).fetchone()
        if row is not None:
            return str(row["digest"])
        digest = _hash(fs, entries)
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
    fs = fsspec.filesystem("file")
    entries = _listing(fs, root, folder=fs.isdir(root), skip=skip)
    return _hash(fs, entries)
