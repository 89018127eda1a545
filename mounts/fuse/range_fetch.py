"""How the readahead gets the bytes of a range: ranged reads on fsspec or a ``mounts.stores.base`` backend,
landing in one buffer per segment (``mounts.fuse.readahead`` schedules them; this module only moves bytes).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import TYPE_CHECKING

from mounts.fuse.segment_pool import SegmentPool
from mounts.stores.azure import AzureBlobStore
from mounts.stores.base import BlobStore, RemoteFile

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

Buffer = bytes | bytearray | mmap.mmap
RangeFetch = Callable[[str, int, int], Buffer]  # (path, start, end) -> the bytes of [start, end)
# (path, start, end, target, received): stream [start, end), each recv into ``target(position)``
Receive = Callable[[str, int, int, Callable[[int], memoryview], Callable[[memoryview], None]], None]


def fsspec_range_fetch(fs: AbstractFileSystem) -> RangeFetch:
    """A ranged read on any fsspec filesystem (one request on object stores; never the whole file)."""

    def fetch(path: str, start: int, end: int) -> bytes:
        return bytes(fs.cat_file(path, start=start, end=end))

    return fetch


def store_range_fetch(store: BlobStore, pool: SegmentPool | None = None) -> RangeFetch:
    """A ranged read through a ``mounts.stores.base`` backend (the lean Azure client where it applies).

    The bytes land in one preallocated buffer (from ``pool`` when given): no growth, no copy on return;
    the lean client receives them into it directly (no staging buffer and copy).
    """
    direct = isinstance(store, AzureBlobStore)

    def fetch(path: str, start: int, end: int) -> Buffer:
        buffer = pool.take(end - start) if pool is not None else bytearray(end - start)
        view = memoryview(buffer)
        filled = 0

        def sink(chunk: memoryview) -> None:
            nonlocal filled
            if filled + len(chunk) > len(buffer):
                raise OSError(f"{path}: the store returned more than the {end - start} bytes asked for")
            if not direct:
                view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)

        # The file's size is unknown here. ``size=end`` made every fetch from offset 0 a whole-blob
        # GET (``read_range`` leaves the Range header out when a read covers the whole file): the
        # service then streamed the entire file into a connection dropped after ``end`` bytes (first
        # byte of a 1 GiB blob 20-36 ms instead of 3-8 ms). One byte more keeps every fetch ranged.
        item = RemoteFile(rel=path.rsplit("/", 1)[-1], path=path, size=end + 1)
        if isinstance(store, AzureBlobStore):
            store.read_range(item, start, end - start, sink, into=view)
        else:
            store.read_range(item, start, end - start, sink)
        view.release()
        return buffer if filled == len(buffer) else buffer[:filled]

    return fetch


def store_receive(store: BlobStore) -> Receive | None:
    """Streamed ranged reads for ``mounts.fuse.span_fetch`` (one request filling several segments), where
    the store can receive into buffers it is handed (the lean Azure client); None elsewhere (fsspec
    stores keep one request per segment)."""
    if not isinstance(store, AzureBlobStore):
        return None

    def receive(path: str, start: int, end: int, target: Callable[[int], memoryview],
                received: Callable[[memoryview], None]) -> None:
        # one byte more than ``end`` keeps the request ranged (see ``store_range_fetch``)
        item = RemoteFile(rel=path.rsplit("/", 1)[-1], path=path, size=end + 1)
        store.receive_range(item, start, end, target, received)

    return receive
