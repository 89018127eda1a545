"""What registering a model or data asset may not take in: the workspace's own secrets (datastore
account keys, SAS tokens, storage options) and its database (with sqlite's journal files beside it).

A registered version is served for download to whoever can use the registry (the CLI, the Python
client, the web UI), so a source that is, holds or lies in one of them is refused before anything is
copied or referenced (``AssetRegistry.create``), as a job's input is (``protect.private_read_refusal``).
Files are compared by identity (device and inode), not by name: a symbolic link inside a folder, a
linked folder, a hard link or a bind mount of a secrets file is found as surely as the file itself,
because the copy would read what they lead to.

    refuse_private_source(workspace, resolved_source, noun="model")   # RegistryError (field path)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from runner.errors import RegistryError
from runner.workspace.db import Workspace
from runner.workspace.resolved import ResolvedPath

DB_JOURNALS = ("-wal", "-shm", "-journal")  # sqlite writes these beside the database


def private_places(workspace: Workspace) -> list[Path]:
    """The secrets folder, the database and its journals (those that exist or not)."""
    db = workspace.db_path
    return [workspace.secrets_dir, db, *(db.with_name(db.name + suffix) for suffix in DB_JOURNALS)]


def _identities(workspace: Workspace) -> dict[tuple[int, int], tuple[Path, Path]]:
    """(device, inode) -> (the private place, the path there) of each place and of all it holds."""
    found: dict[tuple[int, int], tuple[Path, Path]] = {}
    for place in private_places(workspace):
        for path in walk_followed(place):
            if (info := _stat(path)) is not None:
                found.setdefault((info.st_dev, info.st_ino), (place, path))
    return found


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)  # a link is followed: the copy reads what it leads to
    except OSError:
        return None


def walk_followed(top: Path) -> Iterator[Path]:
    """``top`` and everything below it, links to folders followed (each folder once: no loops)."""
    yield top
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(top, followlinks=True):
        info = _stat(Path(folder))
        if info is None or (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        for name in (*dirs, *files):
            yield Path(folder) / name


def private_source_refusal(workspace: Workspace, source: ResolvedPath) -> str | None:
    """Why ``source`` may not be registered: its host path is, holds or lies in (or links to) the
    workspace's secrets or database. None when it may (or when it is not on this machine)."""
    if source.local_path is None:
        return None
    private = _identities(workspace)
    for path in walk_followed(source.local_path):
        info = _stat(path)
        hit = private.get((info.st_dev, info.st_ino)) if info is not None else None
        if hit is None:
            continue
        place, there = hit
        what = f"the workspace's {'secrets' if place == workspace.secrets_dir else 'database'} ({place})"
        if path == source.local_path:
            how = "is" if there == place else "lies in"
        else:
            how = f"holds {path}, which {'is' if there == place else 'leads into'}"
        return (f"'{source.uri}' {how} {what}: it holds the datastores' credentials, and a registered "
                "version can be downloaded by anyone who can use the registry")
    return None


def refuse_private_source(workspace: Workspace, source: ResolvedPath, *, noun: str) -> None:
    """``private_source_refusal`` as one ``RegistryError`` on field ``path``."""
    if why := private_source_refusal(workspace, source):
        raise RegistryError(f"cannot register this {noun}: {why}", field="path",
                            hint="register a folder that holds only the files it needs, outside the "
                                 "workspace's secrets/ and runner.db (copy them elsewhere first)")
