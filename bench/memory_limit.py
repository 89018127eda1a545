"""The clients of a benchmark in a memory cgroup (``bench_scale.py --memory-limit``).

Why: this VM hands freed memory back to its host (virtio-balloon free page reporting), so once a run's
new page cache has used the pages the host still backs (~9 GiB here), every further page is a host
fault: a plain loop writing 32 KiB buffers into a file goes from 0.3 s to 5-8 s of CPU per GiB, for any
program (bench/RESULTS.md, "The 10 GiB step"). In a memory cgroup the kernel reclaims the group's own
page cache once it reaches the limit and reuses those pages, already backed, before the host takes them:
the same loop stays at ~0.5 s per GiB to 13 GiB with a 3 GiB limit. So with ``--memory-limit`` every
client (ours, rclone, their readers: each ``bench.common.Child``) joins one cgroup, Azurite stays out,
and the per-GiB rows measure the clients at a size past the limit, reclaim included, instead of the
host's memory. Linux cgroup v1 (``memory.limit_in_bytes``) or v2 (``memory.max``); needs root.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import common

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """``3G``, ``512M``, ``1048576`` -> bytes."""
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in UNITS else ""
    try:
        return int(float(text[:len(text) - len(unit)]) * UNITS[unit])
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 3G, 512M or a number of bytes)") from None


def _new_cgroup(name: str) -> tuple[Path, str]:
    """A new memory cgroup below this process's own: (its folder, the name of its limit file)."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()  # v1 "4:memory:/path", v2 "0::/path"
    v1 = [line.split(":", 2)[2] for line in lines if "memory" in line.split(":", 2)[1].split(",")]
    v2 = [line[3:] for line in lines if line.startswith("0::")]
    controllers = Path("/sys/fs/cgroup/cgroup.controllers")
    if v1:
        folder, limit_file = Path("/sys/fs/cgroup/memory") / v1[0].lstrip("/") / name, "memory.limit_in_bytes"
    elif v2 and controllers.exists() and "memory" in controllers.read_text().split():
        # (the parent's cgroup.subtree_control must list memory, or memory.max is missing)
        folder, limit_file = Path("/sys/fs/cgroup") / v2[0].lstrip("/") / name, "memory.max"
    else:
        raise RuntimeError("no memory cgroup controller here (neither cgroup v1's memory hierarchy nor "
                           "v2's memory controller): run without --memory-limit")
    folder.mkdir()
    return folder, limit_file


@dataclass(frozen=True)
class MemoryLimit:
    folder: Path  # the cgroup
    limit_file: str  # memory.limit_in_bytes (v1) or memory.max (v2)
    limit: int

    def describe(self) -> str:
        return f"{self.limit / (1 << 30):g} GiB ({self.limit_file}, {self.folder})"


@contextlib.contextmanager
def client_memory_limit(limit: int, cleanup: common.Cleanup) -> Iterator[MemoryLimit]:
    """Every ``Child`` started in this block joins one new memory cgroup of ``limit`` bytes. The cgroup
    is removed at cleanup (its children have exited by then)."""
    folder, limit_file = _new_cgroup(f"runner-bench-{os.getpid()}")
    cleanup.push(folder.rmdir)
    (folder / limit_file).write_text(str(limit))
    common.CHILD_CGROUP_PROCS[:] = [str(folder / "cgroup.procs")]
    try:
        yield MemoryLimit(folder, limit_file, limit)
    finally:
        common.CHILD_CGROUP_PROCS.clear()
