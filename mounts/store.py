"""What the transfer engine needs from a storage backend, and its generic fsspec implementation.

The engine (``mounts.transfer``) plans and schedules; a ``BlobStore`` only moves bytes. Two
implementations exist: ``FsspecStore`` works over any fsspec filesystem (local, ``memory://``, adlfs,
...), and ``mounts.azure_fast.AzureBlobStore`` talks to Azure Blob directly with a lean HTTP client
(about ten times less CPU per request than the SDK pipeline, which decides small-file throughput).
``open_store`` picks the fast one when it can.

Every method moves at most one part (a few MiB) through memory: nothing here reads a whole file.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # how much one read/write call moves through memory


@dataclass(frozen=True)
class RemoteFile:
    """One file on the store: where it is, how big, and what identifies its content."""

    rel: str  # path relative to the transfer root ("" parts joined by "/")
    path: str  # full path on the store
    size: int
    etag: str | None = None
    md5: bytes | None = None  # the store's Content-MD5, when it keeps one


Sink = Callable[[memoryview], None]


class BlobStore(Protocol):
    """The primitives the engine schedules. Paths are store paths (no protocol)."""

    name: str
    supports_blocks: bool  # True: large uploads as parallel put_block + commit_blocks
    verifies_writes: bool  # True: the store checks the MD5 sent with write_small (no read-back needed)
    streams_puts: bool  # True: put_file sends a medium file in one streamed, verified request

    def list_files(self, root: str) -> list[RemoteFile]:
        """Every file under ``root`` (or ``root`` itself when it is a file); ``rel`` relative to root."""
        ...

    def stat(self, path: str) -> RemoteFile:
        """Size/etag/md5 of one file; ``FileNotFoundError`` when missing."""
        ...

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        """Stream bytes ``[start, start+length)`` (to the end when ``length`` is None) into ``sink``."""
        ...

    def write_small(self, path: str, data: bytes, md5: bytes | None) -> None:
        """Store ``data`` as the whole content of ``path``."""
        ...

    def write_stream(self, path: str, stream: BinaryIO, size: int) -> None:
        """Store ``size`` bytes read from ``stream`` sequentially (for stores without blocks)."""
        ...

    def put_file(self, path: str, local: Path, size: int) -> None:
        """Store a local file in one streamed request and verify it (stores with ``streams_puts``)."""
        ...

    def put_block(self, path: str, index: int, data: bytes | memoryview, md5: bytes) -> str:
        """Stage one block of a large upload; returns its id."""
        ...

    def commit_blocks(self, path: str, block_ids: list[str], md5: bytes | None) -> None:
        """Make the staged blocks (in order) the content of ``path``."""
        ...


def md5_from_info(info: dict[str, Any]) -> bytes | None:
    """The Content-MD5 an fsspec ``info`` dict carries (adlfs: ``content_settings.content_md5``)."""
    settings = info.get("content_settings")
    value = None
    if isinstance(settings, dict):
        value = settings.get("content_md5")
    elif settings is not None:
        value = getattr(settings, "content_md5", None)
    if value is None:
        value = info.get("content_md5") or info.get("ContentMD5")
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return bytes(value)
    if isinstance(value, str) and value:
        try:
            raw = base64.b64decode(value)
        except ValueError:
            return None
        return raw if len(raw) == 16 else None
    return None


def _etag_from_info(info: dict[str, Any]) -> str | None:
    etag = info.get("etag") or info.get("ETag")
    if etag:
        return str(etag).strip('"')
    mtime = info.get("mtime") or info.get("last_modified") or info.get("created")
    return f"{info.get('size')}-{mtime}" if mtime is not None else None


class FsspecStore:
    """``BlobStore`` over any fsspec filesystem (ranged ``cat_file``, streamed ``open('wb')``)."""

    supports_blocks = False
    verifies_writes = False
    streams_puts = False

    def __init__(self, fs: AbstractFileSystem) -> None:
        self.fs = fs
        self.name = f"fsspec:{type(fs).__name__}"

    def _remote(self, rel: str, info: dict[str, Any]) -> RemoteFile:
        return RemoteFile(rel=rel, path=str(info["name"]), size=int(info.get("size") or 0),
                          etag=_etag_from_info(info), md5=md5_from_info(info))

    def list_files(self, root: str) -> list[RemoteFile]:
        info = self.fs.info(root)
        if info["type"] != "directory":
            return [self._remote(PurePosixPath(root).name, info)]
        prefix = root.rstrip("/") + "/"
        found = self.fs.find(root, detail=True, withdirs=False)
        files = []
        for path, meta in sorted(found.items()):
            if meta.get("type") == "directory":
                continue
            rel = path[len(prefix):] if path.startswith(prefix) else path.lstrip("/")
            files.append(self._remote(rel, meta))
        return files

    def stat(self, path: str) -> RemoteFile:
        self.fs.invalidate_cache(path)
        info = self.fs.info(path)
        if info["type"] == "directory":
            raise IsADirectoryError(path)
        return self._remote(PurePosixPath(path).name, info)

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        end = item.size if length is None else start + length
        position = start
        while position < end:  # ranged reads of at most CHUNK*8: memory stays bounded per worker
            step = min(end - position, CHUNK * 8)
            data = self.fs.cat_file(item.path, start=position, end=position + step)
            if not data:
                raise OSError(f"{item.path}: store returned no data at offset {position} of {item.size}")
            sink(memoryview(data))
            position += len(data)

    def _ensure_parent(self, path: str) -> None:
        if isinstance(self.fs, LocalFileSystem):  # object stores have no directories to make
            self.fs.makedirs(str(PurePosixPath(path).parent), exist_ok=True)

    def write_small(self, path: str, data: bytes, md5: bytes | None) -> None:
        self._ensure_parent(path)
        self.fs.pipe_file(path, data)

    def write_stream(self, path: str, stream: BinaryIO, size: int) -> None:
        self._ensure_parent(path)
        with self.fs.open(path, "wb") as out:
            remaining = size
            while remaining > 0:
                data = stream.read(min(CHUNK * 4, remaining))
                if not data:
                    raise OSError(f"{path}: local file shrank while uploading")
                out.write(data)
                remaining -= len(data)

    def put_file(self, path: str, local: Path, size: int) -> None:
        raise NotImplementedError("FsspecStore uploads files with write_stream")

    def put_block(self, path: str, index: int, data: bytes | memoryview, md5: bytes) -> str:
        raise NotImplementedError("FsspecStore uploads large files with write_stream")

    def commit_blocks(self, path: str, block_ids: list[str], md5: bytes | None) -> None:
        raise NotImplementedError("FsspecStore uploads large files with write_stream")


def open_store(fs: AbstractFileSystem, *, fast: bool = True) -> BlobStore:
    """The fastest ``BlobStore`` for ``fs``: the lean Azure client for adlfs, else generic fsspec."""
    if fast and os.environ.get("RUNNER_TRANSFER_GENERIC", "") in ("", "0"):
        from mounts.azure_fast import azure_store_for

        store = azure_store_for(fs)
        if store is not None:
            return store
    return FsspecStore(fs)
