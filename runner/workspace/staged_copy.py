"""A registration's copy staged on a datastore: made under a token, moved to the version's place when its
row is inserted, removed when it was not (``runner.workspace.registry`` registers; this module only moves
files). On a folder on this machine nothing follows a link below the datastore's root."""

from __future__ import annotations

import logging
from pathlib import Path

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from runner.errors import StorageError
from runner.uris import DatastorePath
from runner.workspace.resolved import ResolvedPath
from runner.workspace.transfers import (
    SourceFiles,
    copy_into_host,
    copy_tree,
    move_within_host,
    remove_within_host,
)

logger = logging.getLogger(__name__)


class StagedCopy:
    """A copy staged on a datastore (``<folder>/<token>/<basename>``), moved to
    ``<folder>/<name>/<version>/`` when its row is inserted.

    On a folder on this machine (``host``: the datastore's root) nothing follows a link below the root
    (``runner.workspace.transfers.copy_into_host`` and its siblings): a job's ``direct`` output may have
    left one there, and following it would delete or write wherever it points. Remote stores have none.
    """

    def __init__(self, fs: AbstractFileSystem, root: str, folder: str, token: str, basename: str,
                 datastore: str, *, host: Path | None) -> None:
        self.fs, self.root, self.folder, self.token = fs, root.rstrip("/"), folder, token
        self.basename, self.datastore, self.host = basename, datastore, host

    @property
    def local_root(self) -> str | None:
        """The datastore's root on this machine (None on a remote store)."""
        return str(self.host) if self.host is not None else \
            self.root if isinstance(self.fs, LocalFileSystem) else None

    @property
    def staging(self) -> str:
        return f"{self.root}/{self.folder}/{self.token}"

    def copy_from(self, source: ResolvedPath, files: SourceFiles, *, what: str) -> None:
        if self.host is not None:
            copy_into_host(source.fs, source.path, self.host, f"{self.folder}/{self.token}/{self.basename}",
                           what=what, files=files)
        else:
            copy_tree(source.fs, source.path, self.fs, f"{self.staging}/{self.basename}", files=files)

    def move_into_place(self, name: str, version: str, noun: str) -> str:
        """A rename on this machine; a server-side copy per file on object stores (no folder rename)."""
        fs, staging = self.fs, self.staging
        relative = f"{self.folder}/{name}/{version}"
        what = f"storing {noun} '{name}' version {version} in datastore '{self.datastore}'"
        if self.host is not None:
            move_within_host(self.host, f"{self.folder}/{self.token}", relative, what=what)
            return str(DatastorePath(self.datastore, f"{relative}/{self.basename}"))
        final_dir = f"{self.root}/{relative}"
        try:
            if fs.exists(final_dir):  # left by a process that died before committing: unreferenced
                fs.rm(final_dir, recursive=True)
            if isinstance(fs, LocalFileSystem):  # a chained URL over local files (no host root)
                fs.makedirs(final_dir.rsplit("/", 1)[0], exist_ok=True)
                fs.mv(staging, final_dir, recursive=True)
            else:
                sources = sorted(fs.find(staging, withdirs=False))
                targets = [f"{final_dir}/{src[len(staging):].lstrip('/')}" for src in sources]
                fs.copy(sources, targets)
                fs.rm(staging, recursive=True)
        except Exception as exc:  # fsspec backends raise OSError and SDK-specific errors
            raise StorageError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
        return str(DatastorePath(self.datastore, f"{relative}/{self.basename}"))

    def remove_moved(self, name: str, version: str) -> None:
        """Undo ``move_into_place`` when the version's row was not written (best effort)."""
        self._remove(f"{self.folder}/{name}/{version}")

    def discard(self) -> None:
        """Remove the staged copy when it is still there (best effort: it is never referenced)."""
        self._remove(f"{self.folder}/{self.token}")

    def _remove(self, relative: str) -> None:
        try:
            if self.host is not None:
                remove_within_host(self.host, relative)
            elif self.fs.exists(f"{self.root}/{relative}"):
                self.fs.rm(f"{self.root}/{relative}", recursive=True)
        except Exception as exc:  # the error that brought us here is the one to report
            logger.warning("could not remove %s/%s in datastore '%s': %s", self.root, relative,
                           self.datastore, exc)
