"""Copy a file or folder from a datastore into a local folder, for ``job download`` and ``model
download``: remote stores go through the download engine (parallel ranged reads, many files at once,
verified, bounded memory, a progress bar on a terminal); a local datastore is copied file by file."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem


def fetch(fs: AbstractFileSystem, path: str, target: Path, *, is_file: bool, quiet: bool = False) -> Path:
    """Copy ``path`` to ``target`` (a folder's content into ``target``; a file to ``target`` itself)
    and return ``target``. Raises ``runner.errors.StorageError``/``TransferError`` when it cannot."""
    from runner.job_materialize import translated
    from runner.registry import copy_tree

    if isinstance(fs, LocalFileSystem):  # never links: the copy must not write through to the store
        copy_tree(fs, path, LocalFileSystem(), str(target))
        return target
    from mounts.store import open_store
    from mounts.transfer import download_files

    into = target.parent if is_file else target  # a file arrives as <into>/<its name>
    into.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix=".runner-download-", dir=into))
    try:
        with translated(f"download of {path}"):
            store = open_store(fs)
            files = store.list_files(path)
            if is_file:  # under the name the caller chose
                files = [dataclasses.replace(f, rel=target.name) for f in files]
            download_files(store, files, into, state, quiet=quiet,
                           description=f"download {target.name}")
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return target
