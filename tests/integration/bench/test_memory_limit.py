"""``bench_scale.py --memory-limit``: the benchmark's client processes run in a real memory cgroup."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.common import Child, Cleanup  # noqa: E402
from bench.memory_limit import client_memory_limit  # noqa: E402


def test_children_started_under_the_limit_join_its_cgroup_and_it_is_removed_afterwards() -> None:
    with Cleanup() as cleanup:
        with client_memory_limit(64 << 20, cleanup) as limit:
            folder = limit.folder
            assert int((folder / limit.limit_file).read_text()) == 64 << 20
            inside = Child(["cat", "/proc/self/cgroup"], cleanup).finish()
        outside = Child(["cat", "/proc/self/cgroup"], cleanup).finish()
    assert folder.name in inside.stdout, inside.stdout
    assert folder.name not in outside.stdout, outside.stdout
    assert not folder.exists()
