"""Whether a local file or folder holds what a registered version's own upload holds: what registering
an existing name and version again compares (``AssetRegistry.create_or_update``), as Azure ML uploads a
local path to a place named by its content, so the same content is the same version.

    why = first_difference(source_files, PathKind.FILE, stored, anchor=datastore_root, shown="model.pkl",
                           given="/home/me/model.pkl")
    # None: the same names, sizes and bytes; else what differs first ("'sub/a.csv' holds other bytes")

Names and sizes are compared first (no file read), then the bytes, file by file, both streamed 1 MiB at
a time. The source is read through the registration's own walk (``private_sources.LocalSource.files``:
its guards refuse a link to a folder, a FIFO, the workspace's secrets, as a copy would) and is called
twice (sizes, then bytes). The stored side on this machine is read below the datastore's root
(``anchor``) with no link followed (``O_NOFOLLOW`` relative to each parent): a registration's copy holds
no link, so one found there (a job's ``direct`` output may have left it) is a difference, never read.
It is walked with an explicit stack, at any depth (no recursion; two folders open at a time), each file
opened relative to its folder, which stays open for the files beside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from runner.errors import RunnerError, StorageError
from runner.modes import PathKind
from runner.workspace.digests import _Tree
from runner.workspace.nofollow import FILE_FLAGS
from runner.workspace.resolved import ResolvedPath

if TYPE_CHECKING:
    from runner.workspace.datastores import DatastoreStore

CHUNK = 1 << 20
SourceFiles = Callable[[], Iterator[tuple[str, BinaryIO, int]]]
NOT_A_FILE = -1  # a stored entry that is a link, FIFO, device...: never equal to a source file


def first_difference(source: SourceFiles, source_kind: PathKind, stored: ResolvedPath, *,
                     anchor: Path | None, shown: str, given: str) -> str | None:
    """What differs first between the source's files and the stored version's (None: nothing).
    ``anchor``: the datastore's root on this machine (None: a remote store, read through ``stored.fs``);
    ``shown``: the stored file or folder's name, for a single file's messages; ``given``: the source's
    path, for an error."""
    if source_kind is not stored.kind:
        what = {PathKind.FILE: "a file", PathKind.FOLDER: "a folder"}
        return (f"the registered version is {what.get(stored.kind, 'missing')}, the new path "
                f"{what.get(source_kind, 'neither a file nor a folder')}")
    store: _HostStore | _RemoteStore | None = None
    try:
        store = _HostStore(anchor, stored) if anchor is not None else _RemoteStore(stored)
        theirs = store.listing()
        with _walked(source) as files:
            ours = {rel: os.fstat(reader.fileno()).st_size for rel, reader, _mode in files}
        for rel in sorted(set(theirs) | set(ours)):
            name = rel or shown
            if rel not in theirs:
                return f"the new path has '{name}', the registered version does not"
            if rel not in ours:
                return f"the registered version has '{name}', the new path does not"
            if theirs[rel] == NOT_A_FILE:
                return f"'{name}' in the registered version is not a regular file"
            if theirs[rel] != ours[rel]:
                return f"'{name}' has {ours[rel]} bytes, the registered one {theirs[rel]}"
        with _walked(source) as files:  # closed when a difference ends the walk early
            for rel, reader, _mode in files:
                with store.open(rel) as registered:
                    if not _same_bytes(reader, registered):
                        return f"'{rel or shown}' holds other bytes"
    except RunnerError:  # the source's walk refuses what may not be registered by itself
        raise
    except Exception as exc:  # OSError on either side; a remote store's SDK errors as well
        filename = getattr(exc, "filename", None)
        where = f" ({filename})" if filename else ""
        raise StorageError(f"cannot compare {given} with the registered version at {stored.uri}: "
                           f"{getattr(exc, 'strerror', None) or exc}{where}",
                           hint="check that both can be read (the registered one on its datastore)") from exc
    finally:
        if store is not None:
            store.close()
    return None


def on_this_machine(stored: ResolvedPath, datastores: DatastoreStore) -> tuple[ResolvedPath, Path | None]:
    """``stored`` (a version's datastore path, resolved) and its datastore's root on this machine, the
    ``anchor`` of ``first_difference`` (None: a remote store). A ``local`` datastore's root is resolved
    with it; an ``fsspec`` one over ``file://`` is read from its root the same way, not through fsspec's
    local filesystem (which follows links)."""
    if stored.local_path is not None:
        return stored, stored.local_root or stored.local_path.parent
    from fsspec.implementations.local import LocalFileSystem  # start-up cost: only when comparing

    if stored.datastore is not None and isinstance(stored.fs, LocalFileSystem):
        _ds, _fs, root = datastores.open(stored.datastore)
        return dataclasses.replace(stored, local_path=Path(stored.path)), Path(root)
    return stored, None


@contextlib.contextmanager
def _walked(source: SourceFiles) -> Iterator[Iterator[tuple[str, BinaryIO, int]]]:
    """The source's files, its walk closed (its open file with it) however the caller leaves."""
    files = source()
    try:
        yield files
    finally:
        close = getattr(files, "close", None)
        if close is not None:
            close()


def _same_bytes(ours: BinaryIO, theirs: BinaryIO) -> bool:
    while True:
        mine, other = ours.read(CHUNK), theirs.read(CHUNK)
        if mine != other:
            return False
        if not mine:
            return True


class _RemoteStore:
    """A version on an object store (or any fsspec filesystem that is not this machine's folders)."""

    def __init__(self, stored: ResolvedPath) -> None:
        self.fs, self.root = stored.fs, stored.path.rstrip("/")
        self.folder = stored.kind is PathKind.FOLDER

    def listing(self) -> dict[str, int]:
        if not self.folder:
            return {"": int(self.fs.info(self.root).get("size") or 0)}
        found = self.fs.find(self.root, withdirs=False, detail=True)
        sizes: dict[str, int] = {}
        for name, info in found.items():
            relative = str(name).rstrip("/")[len(self.root):].lstrip("/") if str(name).startswith(self.root) \
                else str(name).rsplit("/", 1)[-1]
            sizes[relative] = int(info.get("size") or 0)
        return sizes

    def close(self) -> None:
        pass

    def open(self, rel: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.fs.open(f"{self.root}/{rel}" if rel else self.root, "rb")  # type: ignore[no-any-return]


class _HostStore:
    """A version in a folder on this machine, read below ``anchor`` without following any link: every
    folder and file is opened relative to its parent with ``O_NOFOLLOW`` (``digests._Tree``: the anchor
    and one folder open, whatever the depth; the next reached from it, up through ``..`` and down one name
    at a time), so a file costs one open, not one per folder above it."""

    def __init__(self, anchor: Path, stored: ResolvedPath) -> None:
        assert stored.local_path is not None
        below = os.path.relpath(stored.local_path, anchor)
        self.top = "/".join(part for part in below.split(os.sep) if part not in ("", "."))
        self.folder = stored.kind is PathKind.FOLDER
        self._open = contextlib.ExitStack()
        self.tree = self._open.enter_context(_Tree(os.fspath(anchor)))  # the runner's own root: followed

    def close(self) -> None:
        self._open.close()

    def _path(self, rel: str) -> str:
        """``rel`` (below the version's file or folder) as a path below the anchor."""
        return f"{self.top}/{rel}" if rel and self.top else rel or self.top

    def listing(self) -> dict[str, int]:
        if not self.folder:
            parent, _, name = self.top.rpartition("/")
            info = os.stat(name, dir_fd=self.tree.folder(parent), follow_symlinks=False)
            return {"": info.st_size if stat.S_ISREG(info.st_mode) else NOT_A_FILE}
        sizes: dict[str, int] = {}
        folders = [""]  # below ``top``, still to be listed: an explicit stack, no depth bound
        while folders:
            rel = folders.pop()
            with self.tree.scan(self._path(rel)) as entries:
                for entry in entries:
                    here = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(here)
                        continue
                    info = entry.stat(follow_symlinks=False)
                    sizes[here] = info.st_size if stat.S_ISREG(info.st_mode) else NOT_A_FILE
        return sizes

    @contextlib.contextmanager
    def open(self, rel: str) -> Iterator[BinaryIO]:
        path = self._path(rel)
        parent, _, name = path.rpartition("/")
        fd = os.open(name, FILE_FLAGS, dir_fd=self.tree.folder(parent))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the listing
            os.close(fd)
            raise OSError(errno.EINVAL, "not a regular file", path)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as reader:
            yield reader
