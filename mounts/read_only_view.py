"""A read-only view of a local file or folder, for a job that runs on the host (no read-only binds).

A container gets shared data (a registered model's folder, a cache entry, a local datastore path)
through a read-only bind mount. A host process has no such thing: handed the path itself, it could
write, delete or chmod what it reads, and file modes do not stop root. So it gets a read-only FUSE
mount of the path instead (nothing is copied; every write fails with EROFS, whoever the process
runs as), or, where FUSE cannot be used, a private copy of its own: copied and removed with no
recursion (the folder may be an earlier job's output, nested deeper than Python's recursion limit), a link
in it copied as a link, never followed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from fsspec.implementations.local import LocalFileSystem

from mounts.base import Source
from mounts.errors import MountFailed
from mounts.ro_mount import RoMountStrategy
from mounts.transfer.tree import copy_tree, remove_tree

log = logging.getLogger(__name__)


@contextlib.contextmanager
def read_only_view(path: Path, workdir: Path) -> Iterator[Path]:
    """Where the job reads ``path`` (a file stays a file: ``<view>/<name>``) until the block exits."""
    source = Source(fs=LocalFileSystem(), path=str(path), url=path.as_uri(), is_dir=path.is_dir())
    with contextlib.ExitStack() as stack:
        try:
            done = stack.enter_context(RoMountStrategy(fuse_local=True).materialize(source, workdir / "view"))
        except MountFailed as exc:
            log.warning("no read-only mount for %s (%s): the job gets a private copy", path, exc)
            yield stack.enter_context(_private_copy(path, workdir / "copy"))
            return
        assert done.host_path is not None
        yield done.host_path if source.is_dir else done.host_path / path.name


@contextlib.contextmanager
def _private_copy(path: Path, folder: Path) -> Iterator[Path]:
    target = folder / path.name
    try:
        if path.is_dir():
            copy_tree(path, target)  # shutil.copytree(symlinks=True) with no recursion
        else:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        yield target
    finally:
        remove_tree(folder)  # any depth, never raises, no link followed
