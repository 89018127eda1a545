"""What the transfer engine and the mounts need from a storage backend: ``BlobStore``, ``RemoteFile``.

The engine (``mounts.transfer``) plans and schedules; a ``BlobStore`` only moves bytes. Two
implementations exist: ``mounts.stores.fsspec_store.FsspecStore`` works over any fsspec filesystem
(local, ``memory://``, adlfs, ...), and ``mounts.stores.azure.AzureBlobStore`` talks to Azure Blob
directly with a lean HTTP client (about ten times less CPU per request than the SDK pipeline, which
decides small-file throughput). ``mounts.stores.open.open_store`` picks the fast one when it can.

Every method moves at most one part (a few MiB) through memory: nothing here reads a whole file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

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


