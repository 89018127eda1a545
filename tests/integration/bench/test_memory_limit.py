"""bench_scale.py's memory handling, for real: its client processes in a memory cgroup (``--memory-limit``),
a data set's local copy dropped from the page cache after seeding and read back before an upload."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.common import Child, Cleanup  # noqa: E402
from bench.memory_limit import client_memory_limit  # noqa: E402
from bench.scale_data import ScaleSet, drop_cached, warm_cached  # noqa: E402


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


def _resident(path: Path) -> int:
    """Bytes of ``path`` in the page cache (util-linux ``fincore``)."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def test_a_sets_local_copy_is_dropped_from_the_page_cache_and_warmed_again(tmp_path: Path) -> None:
    data = ScaleSet("files", 3)
    for rel in data.relpaths():
        (tmp_path / data.name).mkdir(exist_ok=True)
        (tmp_path / data.name / rel).write_bytes(os.urandom(1 << 20))
    files = [tmp_path / data.name / rel for rel in data.relpaths()]
    assert all(_resident(path) == 1 << 20 for path in files)  # just written
    drop_cached(tmp_path, data)
    assert [_resident(path) for path in files] == [0, 0, 0]
    warm_cached(tmp_path, data)
    assert all(_resident(path) == 1 << 20 for path in files)
