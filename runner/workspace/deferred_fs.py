"""Filesystems that planning leaves unmade because making one contacts storage: an archive chain over
storage elsewhere (``zip://a.txt::abfs://c/d.zip``, ``tar://``, a cache around or under it: fsspec reads
the archive as it makes the filesystem) and a link over a protocol whose filesystem connects as soon as
it is made (``CONNECT_WHEN_MADE``: ftp://, sftp://, ssh://, smb://), written as a job's path or as a
registered fsspec datastore's URL. When a job is planned (``check=False``: ``job validate`` and
``job create`` never contact storage) the URL's form is checked and a ``DeferredChain`` stands for the
filesystem, made when first used (``make``: the caller's, ``fsspec_reads``' or the datastore's own
``open``); the run opens it (``remote_open``), and one that cannot be opened there is one error:
the archive missing, its storage unreachable or refusing, or a file that is not the archive its link reads.

    fs, path = deferred_filesystem("zip://a.txt::abfs://c/d.zip", "inputs.d.path", make)  # or None
    ds, fs, root = planned_datastore(DatastoreStore(workspace), ds, "inputs.d.path")
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import SpecError
from runner.fsspec_links import HOST_PROTOCOLS
from runner.url_secrets import without_secrets
from runner.workspace.datastore_kinds import AnyDatastore, FsspecDatastore
from runner.workspace.read_refusals import cannot
from runner.workspace.remote_open import CONNECT_WHEN_MADE, file_link

if TYPE_CHECKING:
    from runner.workspace.datastores import DatastoreStore

_HERE = HOST_PROTOCOLS | {"memory"}  # a chain's storage whose archive planning reads: no store contacted


def deferred_filesystem(url: str, field: str | None, make: Callable[[], Any], *,
                        datastore: FsspecDatastore | None = None) -> tuple[DeferredChain, str] | None:
    """For a URL (``datastore``: that fsspec datastore's, with its storage options) whose filesystem
    contacts storage as it is made: a ``DeferredChain`` and the path on it (a datastore's root), as fsspec
    splits the chain, nothing made; an archive link's form checked (it names a file: one ``SpecError``
    for a folder or no path). None for any other URL (made as before)."""
    import fsspec.core  # only for an fsspec URL: planning on local paths never imports it

    from runner.workspace.archive_members import ARCHIVES  # tarfile, zipfile: for a URL only

    options = dict(datastore.storage_options) if datastore is not None else {}
    links = fsspec.core._un_chain(url, options)  # [(path, protocol, options)], outermost first
    protocols = [protocol for _, protocol, _ in links]
    archive = len(links) > 1 and protocols[-1] not in _HERE and bool(ARCHIVES & set(protocols[:-1]))
    if not archive and not CONNECT_WHEN_MADE & set(protocols):
        return None
    if archive:
        _check_archive_links(url, protocols, field)
    return DeferredChain(url, fsspec.get_filesystem_class(protocols[0]).protocol, make), links[0][0]


def planned_datastore(store: DatastoreStore, datastore: AnyDatastore, field: str | None
                      ) -> tuple[AnyDatastore, Any, str]:
    """What planning reads a datastore elsewhere through: it, its filesystem and its root, the filesystem
    left unmade (``deferred_filesystem``) when making it contacts storage, else ``store``'s (made)."""
    make = functools.partial(_made_datastore, datastore, store.workspace.root)
    if isinstance(datastore, FsspecDatastore) and (deferred := deferred_filesystem(
            datastore.url, field, make, datastore=datastore)) is not None:
        return datastore, *deferred
    return store.open(datastore.name)


def _check_archive_links(url: str, protocols: list[str], field: str | None) -> None:
    """One ``SpecError`` for an archive link whose file link names a folder or no path."""
    from runner.workspace.archive_members import ARCHIVES  # tarfile, zipfile: for a URL only

    written = url.split("::")  # as written: a store's own parsing may drop a folder's '/'
    for index, protocol in enumerate(protocols[:-1]):
        link = written[file_link(protocols, index)]
        named = link.split("://", 1)[1] if "://" in link else ""
        if protocol in ARCHIVES and (not named.strip("/") or named.endswith("/")):
            what = f"the folder '{without_secrets(link)}'" if named.strip("/") else "no path"
            raise SpecError(f"{cannot(field)}: '{without_secrets(url)}' names no archive file for its "
                            f"{protocol}:// link to read (the link after it names {what})", field=field,
                            hint="check the path in the URL's last link: the archive it names must be "
                                 "there (<protocol>://<path of the archive>)")


def _made_datastore(datastore: AnyDatastore, workspace_root: Path) -> Any:
    return datastore.open(workspace_root)[0]


class DeferredChain:
    """A filesystem made (its archive read, its host connected to) when it is first used, with the errors
    of making it then: a job's plan (``check=False``) holds one, never made. Until then it says only its
    first link's ``protocol`` and, as a cache does its inner filesystem, ``fs``: None, since nothing below
    it is this machine's (``resolve._on_this_machine``, ``caches_host_files``). ``make``: picklable."""

    _OWN = frozenset({"_url", "_make", "_made", "protocol"})

    def __init__(self, url: str, protocol: str | tuple[str, ...], make: Callable[[], Any]) -> None:
        self._url, self._make, self.protocol = url, make, protocol
        self._made: Any = None

    def made(self) -> Any:
        """fsspec's filesystem, made now if it was not."""
        if self._made is None:
            self._made = self._make()
        return self._made

    @property
    def fs(self) -> Any:
        return None if self._made is None else getattr(self._made, "fs", None)

    def __getattr__(self, name: str) -> Any:  # what it does not say itself: the made filesystem's
        if name.startswith("__") or name in self._OWN:  # a copy or a pickle looks before __init__ ran
            raise AttributeError(name)
        return getattr(self.made(), name)

    def __repr__(self) -> str:
        return f"<DeferredChain {without_secrets(self._url)}{'' if self._made is None else ' (made)'}>"
