"""``runner.forkserver_prefault.prefault``: a waiting command takes its private copies of the server's memory
before a client comes, and stops as soon as one has."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.forkserver_prefault import PREFAULT_CHUNK, PREFAULT_LIMIT, prefault

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux /proc only")


def private_dirty_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Private_Dirty:"):
            return int(line.split()[1])
    raise AssertionError("no Private_Dirty in smaps_rollup")


def growth_in_a_child(arrived: Callable[[], bool]) -> int:
    """KiB of memory a forked child of this process made its own by calling ``prefault(arrived)``."""
    return own_and_growth_in_a_child(arrived)[1]


def own_and_growth_in_a_child(arrived: Callable[[], bool]) -> tuple[int, int]:
    """KiB a forked child of this process already held as its own when it called ``prefault(arrived)``
    (pages it wrote since the fork: prefault's budget counts them, they cannot grow), and KiB it grew by."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child shares every page with this process until it writes one
        try:
            before = private_dirty_kib()
            prefault(arrived)
            os.write(write_end, f"{before} {private_dirty_kib() - before}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as result:
        text = result.read()
    os.waitpid(pid, 0)
    own, grown = (int(word) for word in text.split())
    return own, grown


def test_prefault_copies_the_writable_memory_it_shares_with_its_parent() -> None:
    """At least half of this process's anonymous memory, or, in a process larger than twice its limit
    (a long pytest run's grows past 512 MiB; the fork server's is ~100 MiB), all but its last chunk of
    ``PREFAULT_LIMIT``: prefault copies no more than that by design."""
    shared_anon_kib = int(next(line.split()[1] for line in Path("/proc/self/smaps_rollup").read_text()
                               .splitlines() if line.startswith("Anonymous:")))
    expected = min(shared_anon_kib // 2, (PREFAULT_LIMIT - PREFAULT_CHUNK) // 1024)
    own, grown = own_and_growth_in_a_child(lambda: False)
    # its budget also spends itself on the pages the child already held (they do not grow): at most `own`
    assert grown + own >= expected, \
        f"copied {grown} KiB of {shared_anon_kib} KiB, {own} KiB already its own (expected {expected} KiB)"


def test_prefault_stays_within_its_limit() -> None:
    ballast = bytearray(PREFAULT_LIMIT + 64 * 1024 * 1024)  # more writable memory than it may copy
    grown = growth_in_a_child(lambda: False)
    del ballast
    # (+ the few pages the child's own code writes)
    assert grown <= PREFAULT_LIMIT // 1024 + 8 * 1024, f"copied {grown} KiB"


def test_prefault_stops_at_once_when_the_request_has_come() -> None:
    # (running any code in the child copies a few pages: compare with a full prefault)
    assert growth_in_a_child(lambda: True) * 4 < growth_in_a_child(lambda: False)
