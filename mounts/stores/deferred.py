"""``DeferredAzureFileSystem``: an adlfs ``AzureBlobFileSystem`` made on first use.

    fs = DeferredAzureFileSystem(account, make=lambda: AzureBlobFileSystem(connection_string=...))
    fs.info("container/folder")      # the lean client: adlfs is not imported
    open_store(fs)                   # the lean AzureBlobStore, from ``fs.account``
    fs.glob("container/*.csv")       # anything else: ``make()`` once, then adlfs serves it

Importing adlfs and the Azure SDK costs ~0.5 s (DESIGN.md, "Where transfer time goes here"), more than
everything else a read-only mount needs from a fresh process (issue 21: ready in <= 0.5 s). When the
lean client can sign for the account (connection string, account key or SAS: ``AzureAccount``), the
strategies need adlfs for nothing: they read and write through ``open_store`` (``AzureBlobStore``) and
``info`` here asks the lean client too (Get Blob Properties, else the first entries of a folder's
listing). Every other attribute makes the real filesystem and is served by it, so this stands in
wherever an adlfs filesystem did (pickling gives the real one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from mounts.stores.azure import AzureAccount, AzureBlobStore

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

_OWN = frozenset({"account", "_make", "_fs", "_store", "_lock"})


class DeferredAzureFileSystem:
    """An Azure Blob filesystem (``abfs://``) whose adlfs object is made by ``make`` on first need."""

    protocol = ("abfs", "az", "abfss")  # adlfs' own: read without making the filesystem

    def __init__(self, account: AzureAccount, make: Callable[[], AbstractFileSystem]) -> None:
        self.account = account
        self._make = make
        self._fs: AbstractFileSystem | None = None
        self._store: AzureBlobStore | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DeferredAzureFileSystem({self.account.endpoint!r}, made={self._fs is not None})"

    @property
    def made(self) -> AbstractFileSystem:
        """The adlfs filesystem (made now if it was not)."""
        with self._lock:
            if self._fs is None:
                self._fs = self._make()
            return self._fs

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define
        if name in _OWN or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.made, name)

    def __reduce__(self) -> str | tuple[Any, ...]:
        return self.made.__reduce__()

    @property
    def lean(self) -> AzureBlobStore:
        with self._lock:
            if self._store is None:
                self._store = AzureBlobStore(self.account)
            return self._store

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """``AbstractFileSystem.info`` through the lean client: a blob's name, type, size, etag,
        last_modified and content_settings.content_md5 (as adlfs gives them), or a folder's (a
        container, a folder-marker blob, or a prefix with something under it)."""
        path = _strip(path)
        container, _, blob = path.partition("/")
        if blob:
            try:
                headers = self.lean.properties(path)
            except FileNotFoundError:
                pass
            else:
                if headers.get("x-ms-meta-hdi_isfolder", "").lower() != "true":
                    return _file_info(path, headers)
                return {"name": path, "type": "directory", "size": None}  # as adlfs says
        if self.lean.folder_exists(path) or not blob:  # FileNotFoundError: no such container
            return {"name": path, "type": "directory", "size": None}  # as adlfs says
        raise FileNotFoundError(path)


def _strip(path: str) -> str:
    for prefix in ("abfs://", "az://"):
        path = path.removeprefix(prefix)
    return path.strip("/")


def _file_info(path: str, headers: dict[str, str]) -> dict[str, Any]:
    info: dict[str, Any] = {"name": path, "type": "file", "size": int(headers.get("content-length", "0")),
                            "etag": headers.get("etag"),
                            "content_settings": {"content_md5": headers.get("content-md5")}}
    if headers.get("last-modified"):
        info["last_modified"] = parsedate_to_datetime(headers["last-modified"])
    return info
