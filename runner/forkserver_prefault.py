"""A waiting command of the fork server (``runner.forkserver``) copies, before its request comes, the
pages of the server's memory it will write (``prefault``)."""

from __future__ import annotations

from collections.abc import Callable

PREFAULT_CHUNK = 4 * 1024 * 1024  # copied between two looks at whether the request has come
PREFAULT_LIMIT = 256 * 1024 * 1024
_MADV_POPULATE_WRITE = 23  # Linux >= 5.14


def prefault(arrived: Callable[[], bool]) -> None:
    """Copy now, while no client waits, the pages of the server's memory this process will write.

    A forked child shares the server's memory until it writes a page; then the kernel copies it. A
    command writes to most pages it touches (every object's reference count), so its first run of
    each code path pays thousands of such faults: ~20 ms of a trivial job's ~50 ms of CPU here.
    ``MADV_POPULATE_WRITE`` on the private writable mappings takes the copies in advance (~35 ms for
    ~37 MiB, counted in the waiting command's memory from then on). Stops as soon as the request has
    ``arrived``; does nothing where the kernel lacks it (before 5.14) or ``/proc`` is missing.
    """
    try:
        import ctypes

        madvise = ctypes.CDLL(None, use_errno=True).madvise
        madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        with open("/proc/self/maps", encoding="ascii") as maps:
            regions = [[int(x, 16) for x in line.split(maxsplit=1)[0].split("-")]
                       for line in maps if line.split()[1] == "rw-p"]
    except (OSError, AttributeError, ValueError, IndexError):
        return
    budget = PREFAULT_LIMIT
    for start, end in regions:
        for chunk in range(start, end, PREFAULT_CHUNK):
            size = min(PREFAULT_CHUNK, end - chunk)
            if budget < size or arrived():
                return
            if madvise(chunk, size, _MADV_POPULATE_WRITE) != 0:
                break  # not supported here, or a mapping it cannot populate: the next one
            budget -= size
