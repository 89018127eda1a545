"""What registering a model or data asset may take in: never the workspace's own secrets (datastore
account keys, SAS tokens, storage options) or its database (with sqlite's journal files beside it), and
from a folder on this machine only files, folders and links to files; never the upload folder it is
copied into (``refuse_holding_upload_folder``: a copy of its own staging and the registered versions).

A registered version is served for download to whoever can use the registry (the CLI, the Python
client, the web UI), so a source that is, holds or lies in one of them is refused before anything is
copied or referenced (``AssetRegistry.create``), as a job's input is (``read_refusals.private_read_refusal``).
Files are compared by identity (device and inode), not by name: a symbolic link to a file, a hard link or
a bind mount of a secrets file is found as surely as the file itself.

A source is walked one folder at a time, each opened relative to its parent without following a link
(``O_NOFOLLOW``): a link to a folder is never followed (it may lead anywhere, ``/`` or back into the
source), so a copied source holding one (or a dangling link, a FIFO, a device) is one error naming it;
a link to a folder that holds or lies in the private places is refused as such. The copy reads through
the same walk (``LocalSource.files``) and compares what it has *opened* with the private identities, so
a link or hard link swapped in after the check is refused by the copy itself: no check-then-copy window.

    refuse_private_source(workspace, resolved_source, noun="model", copied=True)  # RegistryError (path)
    for rel, reader, mode in LocalSource(workspace, resolved_source, noun="model").files(): ...
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from runner.errors import RegistryError
from runner.workspace.db import Workspace
from runner.workspace.outbound_links import inside
from runner.workspace.resolved import ResolvedPath

DB_JOURNALS = ("-wal", "-shm", "-journal")  # sqlite writes these beside the database
FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# a file (a link in its own name followed: a link to a file is copied as that file); O_NONBLOCK and
# O_NOCTTY: a FIFO or terminal swapped in after its stat neither blocks nor becomes ours
FILE = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
MAX_DEPTH = 200  # deeper folders are refused (a hostile tree must not exhaust descriptors or the stack)
ALLOWED = "files, folders and links to files are copied; a link to a folder is not followed (it may lead " \
          "anywhere, back into the folder too)"
Identity = tuple[int, int]


def private_places(workspace: Workspace) -> list[Path]:
    """The secrets folder, the database and its journals (those that exist or not)."""
    db = workspace.db_path
    return [workspace.secrets_dir, db, *(db.with_name(db.name + suffix) for suffix in DB_JOURNALS)]


def _identities(workspace: Workspace) -> dict[Identity, tuple[Path, Path]]:
    """(device, inode) -> (the private place, the path there) of each place and of all it holds (no link
    below a place followed: what is there is the runner's own)."""
    found: dict[Identity, tuple[Path, Path]] = {}
    for place in private_places(workspace):
        for path, info in _walk_unfollowed(place):
            found.setdefault((info.st_dev, info.st_ino), (place, path))
    return found


def _walk_unfollowed(top: Path) -> Iterator[tuple[Path, os.stat_result]]:
    try:
        yield top, os.stat(top)
    except OSError:
        return
    from runner.workspace.trees import walk  # start-up cost (mounts): not for a plain validate

    for folder, dirs, files in walk(top):  # any depth: no recursion
        for name in (*dirs, *files):
            try:
                yield Path(folder) / name, os.lstat(Path(folder) / name)
            except OSError:
                continue


def walk_followed(top: Path) -> Iterator[Path]:
    """``top`` and everything below it, links to folders followed (each folder once: no loops). Only
    for a walk that stops at the first link it does not like (the web UI's form check)."""
    yield top
    seen: set[Identity] = set()
    from runner.workspace.trees import walk  # start-up cost (mounts): not for a plain validate

    for folder, dirs, files in walk(top, follow_links=True):  # any depth: no recursion
        try:
            info = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        for name in (*dirs, *files):
            yield Path(folder) / name


class LocalSource:
    """A registration's source on this machine (``source.local_path``), walked without following a link
    to a folder. ``copied``: it is copied into the registry, so whatever cannot be copied (a link to a
    folder, a dangling link, a FIFO or device) is refused too; else only the private places are."""

    def __init__(self, workspace: Workspace, source: ResolvedPath, *, noun: str, copied: bool = True) -> None:
        assert source.local_path is not None
        self.workspace, self.top, self.uri = workspace, source.local_path, source.uri
        self.noun, self.copied = noun, copied
        self.private = _identities(workspace)
        self.private_real = [(place, os.path.realpath(place)) for place in private_places(workspace)]

    def check(self) -> None:
        """Refuse (``RegistryError`` on field ``path``) what may not be registered; nothing is read."""
        try:
            for _ in self._walk(opening=False):
                pass
        except OSError as exc:  # a folder that cannot be listed, a name that cannot be read
            raise self._error(f"'{self.uri}' cannot be read: {exc.strerror} ({exc.filename or self.top})",
                              "check that its files and folders can be read") from exc

    def files(self) -> Iterator[tuple[str, BinaryIO, int]]:
        """Each file as (its path below the source, ``""`` for a file source; a reader; its mode), in
        path order, each opened and checked by identity; refused as ``check`` refuses."""
        for rel, reader, mode in self._walk(opening=True):
            assert reader is not None
            yield rel, reader, mode

    # ---- the walk -----------------------------------------------------------------------------------
    def _walk(self, *, opening: bool) -> Iterator[tuple[str, BinaryIO | None, int]]:
        try:
            info = os.stat(self.top)  # the path the user named: a link there is theirs
        except OSError as exc:
            raise self._error(f"'{self.uri}' cannot be read: {exc.strerror}", "check the path") from exc
        self._refuse_private(info, self.top)
        if stat.S_ISREG(info.st_mode):
            if opening:
                yield from self._opened(None, str(self.top), self.top, info)
            return
        if not stat.S_ISDIR(info.st_mode):
            if self.copied:
                raise self._error(f"'{self.uri}' is not a regular file (a device, FIFO or socket): {ALLOWED}",
                                  "point path at a file or a folder")
            return
        top = os.open(self.top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            self._same(top, info, self.top)
            yield from self._folder(top, "", 0, opening)
        finally:
            os.close(top)

    def _folder(self, fd: int, rel: str, depth: int, opening: bool
                ) -> Iterator[tuple[str, BinaryIO | None, int]]:
        if depth > MAX_DEPTH:
            raise self._error(f"'{self.uri}' has folders more than {MAX_DEPTH} deep ({self.top / rel})",
                              "register a shallower folder")
        for name in sorted(os.listdir(fd)):
            here, path = f"{rel}/{name}" if rel else name, self.top / rel / name
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile: not there to copy
            if stat.S_ISLNK(info.st_mode):
                followed = self._link(fd, name, path)
                if followed is None:
                    continue
                info = followed
            self._refuse_private(info, path)
            if stat.S_ISDIR(info.st_mode):
                try:
                    child = os.open(name, FOLDER, dir_fd=fd)
                except OSError as exc:  # a link or a file now: swapped since its stat
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise self._changed(path) from exc
                    raise
                try:
                    self._same(child, info, path)
                    yield from self._folder(child, here, depth + 1, opening)
                finally:
                    os.close(child)
            elif stat.S_ISREG(info.st_mode):
                if opening:
                    yield from self._opened(fd, name, path, info, rel=here)
            elif self.copied:
                raise self._not_a_file(path)

    def _link(self, fd: int, name: str, path: Path) -> os.stat_result | None:
        """What the link ``name`` leads to when it is a file to read; None when it is skipped (not
        copied); a refusal when a copy cannot take it or it leads to the private places."""
        points_to = os.readlink(name, dir_fd=fd)
        try:
            info = os.stat(name, dir_fd=fd)
        except OSError as exc:
            if not self.copied:
                return None
            why = "does not exist" if exc.errno == errno.ENOENT else f"cannot be followed ({exc.strerror})"
            raise self._error(f"'{self.uri}' holds {path}, a link to {points_to}, which {why}: {ALLOWED}",
                              f"remove the link ({path}), or put the file it names there") from exc
        if not stat.S_ISDIR(info.st_mode):
            return info
        real = os.path.realpath(path)  # never walked: only compared with the private places' paths
        for place, there in self.private_real:
            how = "lies in" if inside(real, there) else "holds" if inside(there, real) else None
            if how is not None:
                raise self._private(f"holds {path}, a link to a folder that {how}", place)
        self._refuse_private(info, path)  # a bind mount of them
        if not self.copied:
            return None
        raise self._error(f"'{self.uri}' holds {path}, a link to a folder ({points_to}): {ALLOWED}",
                          f"replace the link with a copy of the folder it names (`rm {path} && cp -rL "
                          f"{real} {path}`), or remove it")

    def _opened(self, fd: int | None, name: str, path: Path, info: os.stat_result, *,
                rel: str = "") -> Iterator[tuple[str, BinaryIO, int]]:
        """The file ``name`` opened, checked, yielded, and closed once the copy has read it."""
        with os.fdopen(os.open(name, FILE, dir_fd=fd), "rb") as reader:
            now = os.fstat(reader.fileno())
            self._refuse_private(now, path)  # what was opened, whatever its name leads to now
            if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
                raise self._changed(path)
            yield rel, reader, now.st_mode

    def _same(self, fd: int, info: os.stat_result, path: Path) -> None:
        now = os.fstat(fd)
        self._refuse_private(now, path)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            raise self._changed(path)

    # ---- refusals -----------------------------------------------------------------------------------
    def _refuse_private(self, info: os.stat_result, path: Path) -> None:
        hit = self.private.get((info.st_dev, info.st_ino))
        if hit is None:
            return
        place, there = hit
        if path == self.top:
            raise self._private("is" if there == place else "lies in", place)
        raise self._private(f"holds {path}, which {'is' if there == place else 'leads into'}", place)

    def _private(self, how: str, place: Path) -> RegistryError:
        what = f"the workspace's {'secrets' if place == self.workspace.secrets_dir else 'database'} ({place})"
        return self._error(f"'{self.uri}' {how} {what}: it holds the datastores' credentials, and a "
                           "registered version can be downloaded by anyone who can use the registry",
                           "register a folder that holds only the files it needs, outside the workspace's "
                           "secrets/ and runner.db (copy them elsewhere first)")

    def _not_a_file(self, path: Path) -> RegistryError:
        return self._error(f"'{self.uri}' holds {path}, which is not a regular file (a device, FIFO or "
                           f"socket): {ALLOWED}", f"remove {path} from the folder")

    def _changed(self, path: Path) -> RegistryError:
        return self._error(f"{path} in '{self.uri}' was replaced while it was read",
                           "register it again once nothing changes the folder")

    def _error(self, why: str, hint: str) -> RegistryError:
        return RegistryError(f"cannot register this {self.noun}: {why}", field="path", hint=hint)


def refuse_private_source(workspace: Workspace, source: ResolvedPath, *, noun: str,
                          copied: bool = False) -> None:
    """Refuse (one ``RegistryError`` on field ``path``) a source on this machine that is, holds or lies in
    (or links to) the workspace's secrets or database; a ``copied`` one also when it holds what cannot be
    copied (``LocalSource``). Nothing to check for a source that is not on this machine."""
    if source.local_path is not None:
        LocalSource(workspace, source, noun=noun, copied=copied).check()


def refuse_holding_upload_folder(source: ResolvedPath, upload: str, *, datastore: str, datastore_root: str,
                                 noun: str) -> None:
    """Refuse (``RegistryError`` on field ``path``) a source on this machine that is or holds ``upload``,
    the folder on this machine a registration copies into (``<datastore root>/LocalUpload`` or
    ``DataUpload``): the copy would take the registered versions, and its own staging as the walk
    reaches it, into the new version. Compared as real paths: a link on the way counts as followed."""
    if source.local_path is None:
        return
    real, there = os.path.realpath(source.local_path), os.path.realpath(upload)
    how = f"holds {there}"
    if not inside(there, real):
        mounted = _holding_by_identity(Path(source.local_path), Path(upload))
        if mounted is None:
            return
        how = f"holds {mounted}, which is {there} (a bind mount: the same folder)"
    root = os.path.realpath(datastore_root)
    in_place = (f"register it in place, where it is: azureml://datastores/{datastore}/paths/"
                f"{real[len(root):].strip('/')}" if inside(real, root)
                else f"register the files in place: azureml://datastores/{datastore}/paths/<their path>")
    folder = Path(upload).name
    raise RegistryError(f"cannot register this {noun}: '{source.uri}' {how}, the folder of datastore "
                        f"'{datastore}' that registered versions are copied into: the copy would take those "
                        "versions, and itself as it is being made, into the new version",
                        field="path", hint=f"register a folder that does not hold the datastore's {folder}/ "
                                           f"(copy the files elsewhere first), or {in_place}")


def _holding_by_identity(top: Path, upload: Path) -> Path | None:
    """The folder in ``top`` (``top`` too) that is ``upload`` by (device, inode), whatever its path: a
    bind mount of it, or of a folder holding it. Not there yet: the nearest folder above it that is (it is
    made there). Walked without following a link (a copy takes none to a folder); None when none is."""
    wanted = upload
    while True:
        try:
            info = os.stat(wanted)
            break
        except OSError:
            if wanted.parent == wanted:
                return None
            wanted = wanted.parent
    identity, pending = (info.st_dev, info.st_ino), [(top, 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            here = os.stat(folder, follow_symlinks=folder == top)
            if (here.st_dev, here.st_ino) == identity:
                return folder
            entries = list(os.scandir(folder)) if depth <= MAX_DEPTH else []
        except OSError:
            continue  # the copy's own walk names what cannot be read
        pending.extend((Path(e.path), depth + 1) for e in entries if e.is_dir(follow_symlinks=False))
    return None
