"""The buffers of the lean Azure Blob client (``mounts.stores.azure``): one reused read buffer per thread,
the aligned part of it a ranged read lands in, and the chunks a streamed Put Blob sends (hashed as they
go)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

READ_BUFFER = 1 << 20

_BUFFERS = threading.local()


def thread_buffer() -> memoryview:
    """This thread's read buffer, allocated once (not a fresh 1 MiB mmap + page faults per file). The
    sink consumes each chunk before the next read, so reuse within the thread is safe."""
    view: memoryview | None = getattr(_BUFFERS, "view", None)
    if view is None:
        view = _BUFFERS.view = memoryview(bytearray(READ_BUFFER))
    return view


def aligned_view(buffer: memoryview, position: int, end: int) -> memoryview:
    """The part of ``buffer`` that the bytes from ``position`` go into: up to the next multiple of its
    size (or ``end``), so that after a first short read (the body bytes that came with the headers)
    every buffer holds an aligned span of the file and its writes cover whole pages (a write that
    covers a page in part costs ~1.5x the CPU per byte: bench/RESULTS.md, "over TLS")."""
    size = len(buffer)
    return buffer[:min(size - position % size, end - position)]


def file_chunks(stream: Any, size: int, digest: Any) -> Iterator[memoryview]:
    buffer = memoryview(bytearray(READ_BUFFER))
    remaining = size
    while remaining > 0:
        count = stream.readinto(buffer[:min(READ_BUFFER, remaining)])
        if not count:
            raise OSError("the local file shrank while uploading")
        digest.update(buffer[:count])
        remaining -= count
        yield buffer[:count]
