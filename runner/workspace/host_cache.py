"""A cache over this machine's files (``simplecache::file:///<folder>``, ``filecache::local://...``,
``simplecache://<folder>`` with ``target_protocol: file``), read without following any link below its
folder.

The cache's host folder is checked when a job is planned and again when it starts
(``runner.workspace.fsspec_reads``), but fsspec's local filesystem reads through whatever link it meets,
and a job may plant one there (a ``direct`` output) after the check, or one may lie deeper in the tree.
So the cache reads through ``NoLinksFileSystem``: every name below the folder is opened relative to its
parent with ``O_NOFOLLOW``, and a link met on the way is one error (``LinkNotRead``) naming it; nothing is
read through it. (The folder's own path is the datastore's configuration: links there are the user's.)

A chained URL input over this machine's file (``zip://<member>::file:///<archive>``, ``tar://``) reads it
the same way, from ``/`` down (``NoLinksOnPath``, ``open_host_chain``): the URL names the file, so no link
on its path is followed, and an archive is read from the file opened then, never again by its name.

    fs, root = open_host_cache("simplecache::file:///data/root", {})
    fs, path = open_host_chain("zip://a.txt::file:///data/d.zip")  # None for a URL over no host file
    fs, root = open_host_archive("arch", "zip://::file:///data/d.zip", {})  # a datastore's: one error
"""

from __future__ import annotations

import datetime
import os
import posixpath
import shutil
import stat
from collections.abc import Mapping
from typing import Any, BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem

from runner.errors import SpecError, StorageError
from runner.fsspec_links import CACHES, HOST_PROTOCOLS
from runner.workspace.archive_members import ArchiveNotRead, read_errors
from runner.workspace.outbound_links import inside

FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NAMED = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC  # a name itself, a link as a link: for its stat
READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY  # a FIFO never blocks


def _protocol(link: str) -> str:
    return link.split("://", 1)[0] if "://" in link else link


def host_cache_root(url: str, options: Mapping[str, Any]) -> str | None:
    """The folder on this machine that ``url`` caches (only caches over this machine's files), else None."""
    *caches, last = url.split("::")
    if "::" not in url:
        if _protocol(url) in CACHES and options.get("target_protocol") in HOST_PROTOCOLS:
            return url.split("://", 1)[-1]
        return None
    if not all(_protocol(link) in CACHES for link in caches):
        return None
    if "://" not in last:
        return last
    return last.split("://", 1)[1] if _protocol(last) in HOST_PROTOCOLS else None


def host_files_read(url: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
    """What a datastore ``url`` reads of this machine's files through fsspec: ("caches a folder", its
    folder) for a cache over them (``host_cache_root``), ("reads an archive", its file) for a chain whose
    last link is this machine's file (``zip://::file:///<archive>``, a cache over it); else None (a folder
    here named as one, ``file:///<folder>``, is read as a path, and is not fsspec's)."""
    root = host_cache_root(url, options)
    if root is not None:
        return "caches a folder", root
    *links, last = url.split("::")
    if links and (_protocol(last) in HOST_PROTOCOLS or "://" not in last):  # a path: fsspec's file too
        return "reads an archive", last.split("://", 1)[-1]
    return None


def refuse_direct_read(name: str, url: str, options: Mapping[str, Any]) -> None:
    """One ``SpecError`` for a ``direct`` input on datastore ``name`` when it reads this machine's files
    through fsspec (``host_files_read``): with storage options or none, the job would get a URL of this
    machine's files, which its container cannot open, and through which a job run here could write them
    (fsspec's caches write back; an archive is appended to): an input is read-only."""
    found = host_files_read(url, options)
    if found is not None:
        what, where = found
        raise SpecError(f"datastore '{name}' {what} on this machine ({where}): a direct input would get a "
                        "URL of this machine's files: the job's container cannot open it, and a job run on "
                        "this machine (the process backend) could write them through it, while an input "
                        "is read-only",
                        hint="use mode: ro_mount or mode: download for this input (the runner reads it "
                             "through the datastore and brings the data in, read-only)",
                        python_hint="use mode='ro_mount' or mode='download' for this input (the runner reads "
                                    "it through the datastore and brings the data in, read-only)")


def open_host_cache(url: str, options: Mapping[str, Any]) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem of a cache over this machine's files (``host_cache_root`` is not None) reading
    through ``NoLinksFileSystem``, and the path of its root on it."""
    chain = fsspec.core._un_chain(url, dict(options))  # [(path, protocol, options)], outermost first
    *caches, (path, protocol, kw) = chain
    target = {key: kw.pop(key) for key in ("target_protocol", "target_options") if key in kw}
    if protocol in CACHES:  # simplecache://<folder> with target_protocol: file
        caches, host_kw = [*caches, (path, protocol, kw)], dict(target.get("target_options") or {})
    else:
        host_kw = kw
    fs: fsspec.AbstractFileSystem = NoLinksFileSystem(root=path, **host_kw)
    for _, cache, cache_kw in reversed(caches):
        cache_kw = {k: v for k, v in cache_kw.items() if k not in ("target_protocol", "target_options", "fo")}
        fs = fsspec.get_filesystem_class(cache)(fs=fs, **cache_kw)
    return fs, str(chain[0][0])


def open_host_chain(url: str, options: Mapping[str, Any] | None = None
                    ) -> tuple[fsspec.AbstractFileSystem, str] | None:
    """For a chain whose last link is this machine's file (``zip://<member>::file:///<archive>``, ``tar://``,
    caches over or under the archive; an archive datastore's ``zip://::file:///<archive>`` with its storage
    ``options``): its filesystem and path, that file read through ``NoLinksOnPath`` (no link anywhere on
    its path is followed: ``LinkNotRead``; an archive is opened here, once, and read from that open file).
    None for any other URL (fsspec's own, ``url_to_fs``)."""
    chain = fsspec.core._un_chain(url, dict(options or {}))  # [(path, protocol, options)], outermost first
    if len(chain) < 2 or chain[-1][1] not in HOST_PROTOCOLS:
        return None
    fs: fsspec.AbstractFileSystem = NoLinksOnPath(**chain[-1][2])
    for (_, protocol, kw), (inner, _, _) in zip(reversed(chain[:-1]), reversed(chain[1:]), strict=True):
        kw = {k: v for k, v in kw.items() if k not in ("target_protocol", "target_options", "fo", "fs")}
        cls = fsspec.get_filesystem_class(protocol)
        if protocol in CACHES:
            fs = cls(fs=fs, skip_instance_cache=True, **kw)
        else:  # an archive: its file opened now (no link followed), never again by its name
            fs = _archive(cls, protocol, fs.open(inner, "rb"), inner, kw)
    return fs, str(chain[0][0])


def _archive(cls: type[fsspec.AbstractFileSystem], protocol: str, fo: BinaryIO, file: str,
             kw: Mapping[str, Any]) -> fsspec.AbstractFileSystem:
    """Archive filesystem ``cls`` over the open file ``fo`` (``file``); a file that is not such an archive
    (a zip read with tar://, a corrupt one) is one ``ArchiveNotRead`` naming it, and ``fo`` is closed."""
    try:
        return cls(fo=fo, skip_instance_cache=True, **kw)
    except LinkNotRead:
        fo.close()
        raise
    except read_errors() as exc:
        try:
            fo.seek(0)
            head: bytes | None = fo.read(512)
        except (OSError, ValueError):
            head = None
        fo.close()
        raise ArchiveNotRead(protocol, file, exc, head) from None


def open_host_archive(name: str, url: str, options: Mapping[str, Any]
                      ) -> tuple[fsspec.AbstractFileSystem, str] | None:
    """``open_host_chain`` for datastore ``name`` (an archive on this machine: ``zip://::file:///<archive>``),
    a link on the archive's path or the archive missing as one error on its ``url``; None for any other
    datastore URL."""
    try:
        return open_host_chain(url, options)
    except ArchiveNotRead as exc:
        raise SpecError(f"datastore '{name}': {exc.message}", field="url", hint=exc.hint) from None
    except LinkNotRead as exc:
        raise SpecError(f"datastore '{name}' reads this machine's file through a link: {exc}", field="url",
                        hint=f"name the file by its real path (`realpath {exc.place}`) in the datastore's "
                             "url (runner datastore create), or replace the link with the file or folder "
                             "it names") from None
    except OSError as exc:  # the archive itself: missing, a folder, not readable
        what = "does not exist" if isinstance(exc, FileNotFoundError) else \
            f"cannot be opened ({exc.strerror or exc})"
        raise StorageError(f"datastore '{name}': the file '{exc.filename or url}' its url reads {what}",
                           field="url", hint="check the path in the url's last link (file:///<absolute path "
                                             "of the file on this machine>)") from None


class LinkNotRead(OSError):
    """A link below a host cache's folder (or on the path of a chain's file): not read (a job may have
    left it, it may lead anywhere). ``place``: the link's path."""

    def __init__(self, message: str, place: str = "") -> None:
        super().__init__(message)
        self.place = place


class NoLinksFileSystem(LocalFileSystem):
    """This machine's files below ``root``, each name opened without following a link (a link is
    ``LinkNotRead``). Reading is confined; writing is ``LocalFileSystem``'s."""

    def __init__(self, root: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = posixpath.normpath(self._strip_protocol(root))

    # ---- the walk ------------------------------------------------------------------------------------
    def _names(self, path: str) -> tuple[str, list[str]]:
        where = posixpath.normpath(self._strip_protocol(path))
        if not inside(where, self.root):
            raise LinkNotRead(f"{where} is not below the datastore's folder {self.root}; it reads only there")
        rel = where[len(self.root):].strip("/")
        return where, rel.split("/") if rel else []

    def _fd(self, path: str, flags: int) -> int:
        """``path`` opened with ``flags`` (``O_NOFOLLOW`` and all), each folder on the way opened in its
        parent without following a link; a link met is ``LinkNotRead``."""
        where, names = self._names(path)
        top = (os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if names else flags & ~os.O_NOFOLLOW
        fd = os.open(self.root, top)  # the folder itself: the datastore's configuration, its links the user's
        for i, name in enumerate(names):
            try:
                nxt = os.open(name, flags if i == len(names) - 1 else FOLDER, dir_fd=fd)
            except OSError as exc:
                shown = posixpath.join(self.root, *names[:i + 1])
                try:
                    link = stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
                except OSError:
                    link = False
                if link:
                    raise self._link(shown) from None
                raise OSError(exc.errno, exc.strerror, shown if i == len(names) - 1 else where) from None
            finally:
                os.close(fd)
            fd = nxt
        return fd

    def _link(self, place: str) -> LinkNotRead:
        return LinkNotRead(f"{place} is a link: below {self.root} (a datastore caching this machine's "
                           "files) no link is followed, as it may lead anywhere, to the workspace's secrets "
                           "too", place)  # the fix is the hint (``storage_errors.LINK_HINT``): once

    def _stat(self, path: str) -> os.stat_result:
        fd = self._fd(path, NAMED)
        try:
            info = os.fstat(fd)
        finally:
            os.close(fd)
        if stat.S_ISLNK(info.st_mode):
            raise self._link(posixpath.normpath(self._strip_protocol(path)))
        return info

    @staticmethod
    def _info(name: str, info: os.stat_result) -> dict[str, Any]:
        mode = info.st_mode
        kind = "directory" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"
        return {"name": name, "size": info.st_size, "type": kind, "created": info.st_ctime, "islink": False,
                "mode": info.st_mode, "uid": info.st_uid, "gid": info.st_gid, "mtime": info.st_mtime,
                "ino": info.st_ino, "nlink": info.st_nlink}

    # ---- what reads ------------------------------------------------------------------------------------
    def info(self, path: Any, **kwargs: Any) -> dict[str, Any]:
        where = posixpath.normpath(self._strip_protocol(str(path)))
        return self._info(where, self._stat(where))

    def ls(self, path: str, detail: bool = False, **kwargs: Any) -> list[Any]:
        where = posixpath.normpath(self._strip_protocol(path))
        if self.info(where)["type"] != "directory":
            return [self.info(where) if detail else where]
        fd = self._fd(where, FOLDER)
        try:
            found = []
            for name in sorted(os.listdir(fd)):
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    raise self._link(posixpath.join(where, name))
                found.append(self._info(posixpath.join(where, name), info))
        finally:
            os.close(fd)
        return found if detail else [entry["name"] for entry in found]

    def walk(self, path: str, maxdepth: int | None = None, topdown: bool = True, on_error: Any = "raise",
             **kwargs: Any) -> Any:
        """fsspec's walk (``find``, ``du``, ``glob``), but a link met fails it instead of being left out."""
        return super().walk(path, maxdepth=maxdepth, topdown=topdown, on_error=on_error, **kwargs)

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> Any:
        if "r" not in mode or "+" in mode:
            return super()._open(path, mode=mode, block_size=block_size, **kwargs)
        where = posixpath.normpath(self._strip_protocol(path))
        fd = self._fd(where, READ)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise IsADirectoryError(f"{where} is not a regular file")
        return _Opened(os.fdopen(fd, "rb"), where, fs=self)

    def get_file(self, path1: str, path2: Any, callback: Any = None, **kwargs: Any) -> None:
        if self.info(path1)["type"] == "directory":
            os.makedirs(path2, exist_ok=True)
            return
        with self._open(path1) as source:
            if hasattr(path2, "write"):
                shutil.copyfileobj(source, path2)
                return
            with open(path2, "wb") as target:
                shutil.copyfileobj(source, target)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        if inside(posixpath.normpath(self._strip_protocol(path1)), self.root):  # a copy within the root
            self.get_file(path1, self._strip_protocol(path2))
        else:
            super().cp_file(path1, path2, **kwargs)

    def isfile(self, path: str) -> bool:
        return self._is(path, "file")

    def isdir(self, path: str) -> bool:
        return self._is(path, "directory")

    def _is(self, path: str, kind: str) -> bool:
        try:
            return bool(self.info(path)["type"] == kind)
        except OSError:
            return False

    def exists(self, path: str, **kwargs: Any) -> bool:
        """Whether ``path`` is there; a link met on the way is ``LinkNotRead`` (a cache asks this first)."""
        try:
            self._stat(path)
            return True
        except LinkNotRead:
            raise
        except OSError:
            return False

    def lexists(self, path: str, **kwargs: Any) -> bool:
        try:
            os.close(self._fd(path, NAMED))
            return True
        except OSError:
            return False

    def created(self, path: str) -> datetime.datetime:
        return _datetime(self._stat(path).st_ctime)

    def modified(self, path: str) -> datetime.datetime:
        return _datetime(self._stat(path).st_mtime)


class NoLinksOnPath(NoLinksFileSystem):
    """This machine's files from ``/`` down, no link followed on the way: the file a chained URL reads
    (``zip://<member>::file:///<archive>``), named by the job's spec, checked before it is opened
    (``runner.workspace.fsspec_reads``), where a link may be swapped in after the check."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(root="/", **kwargs)

    def _link(self, place: str) -> LinkNotRead:
        return LinkNotRead(f"{place} is a link: a chained URL's file on this machine is opened without "
                           "following any link on its path, as a link may lead anywhere, to the workspace's "
                           "secrets too", place)


def _datetime(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


class _Opened(LocalFileOpener):
    """fsspec's local file (what its caches read ranges of) over a file already opened without following
    a link; it is never opened again by its name."""

    def __init__(self, handle: BinaryIO, path: str, fs: NoLinksFileSystem) -> None:
        self._handle = handle
        super().__init__(path, "rb", fs=fs)

    def _open(self) -> None:
        current: Any = vars(self).get("f")
        if current is None:
            self.f = self._handle
            self.size = self._handle.seek(0, 2)
            self._handle.seek(0)
        elif current.closed:
            raise ValueError(f"{self.path} is closed")
