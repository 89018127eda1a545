"""Renaming a folder in the store behind ``mounts.fuse.rw`` (a job's ``mv dir other``).

On this machine (fsspec's local filesystem) the folder is renamed in one ``rename(2)``: the whole tree
moves whatever its depth (a job can nest folders far deeper than Python's recursion limit), a link in it
moves as a link (what it points at is never walked), an empty folder at the new name is replaced and a
folder that is not empty is refused (``ENOTEMPTY``), as ``rename(2)`` does. An object store has no
folders: each object below the old name is moved to the new one.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem


def move_folder(fs: AbstractFileSystem, old: str, new: str, ensure_parent: Callable[[str], None]) -> None:
    """Move the folder ``old`` of ``fs`` to ``new`` (store paths, no trailing ``/``);
    ``ensure_parent(path)`` makes the folder ``path`` goes in where the store has folders."""
    ensure_parent(new)
    if isinstance(fs, LocalFileSystem):
        os.rename(old, new)
        return
    for path in fs.find(old):  # object by object
        ensure_parent(new + path[len(old):])
        fs.mv(path, new + path[len(old):])
