"""``runner.backends.job_tree``: where cgroup v2 is, a mark found in a large environment, a recorded
tree that is not this module's refused (the reaper: ``test_reaper.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends import job_tree
from runner.backends.job_tree import (
    MARK_ENV,
    carries_mark,
    cgroup2_root,
    marked,
    own_cgroup,
    stop_recorded,
)

HYBRID = """\
25 20 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
30 25 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 25 0:32 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_the_cgroup2_mount_and_own_cgroup_are_read(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text(HYBRID)
    assert cgroup2_root(tmp_path / "mountinfo") == "/sys/fs/cgroup/unified"
    (tmp_path / "v1only").write_text(HYBRID.splitlines()[1] + "\n")
    assert cgroup2_root(tmp_path / "v1only") is None
    (tmp_path / "cgroup").write_text("4:memory:/x\n0::/user.slice/s.scope\n")
    assert own_cgroup(tmp_path / "cgroup") == "/user.slice/s.scope"
    assert cgroup2_root(tmp_path / "missing") is None and own_cgroup(tmp_path / "missing") is None


def test_a_mark_is_found_across_chunks_and_only_whole(tmp_path: Path) -> None:
    mark = "0123456789abcdef"
    proc = tmp_path / "proc"
    for pid, environ in {
        1: b"A=1\0" + b"B=" + b"x" * 65520 + b"\0" + f"{MARK_ENV}={mark}\0".encode(),  # over a chunk edge
        2: f"{MARK_ENV}={mark}\0C=3\0".encode(),  # first
        3: f"{MARK_ENV}={mark}0\0".encode(),  # another value that starts with it
        4: f"X{MARK_ENV}={mark}\0".encode(),  # another name that ends with it
    }.items():
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "environ").write_bytes(environ)
    assert [pid for pid in (1, 2, 3, 4, 5) if carries_mark(pid, mark, proc)] == [1, 2]


def test_only_the_environment_of_processes_started_since_is_read(tmp_path: Path) -> None:
    mark = "0123456789abcdef"
    for pid, started in {11: 90, 12: 100, 13: 150}.items():
        (tmp_path / str(pid)).mkdir()
        stat = " ".join(["S", *["0"] * 18, str(started)])  # the start time: the 22nd field
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (a) b) {stat}")
        (tmp_path / str(pid) / "environ").write_bytes(f"{MARK_ENV}={mark}\0".encode())
    assert sorted(marked(mark, tmp_path)) == [11, 12, 13]
    assert sorted(marked(mark, tmp_path, since=100)) == [12, 13]  # 11 started before the job: not its


def test_a_recorded_tree_not_of_this_module_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    killed: list[str] = []
    monkeypatch.setattr(job_tree, "kill_cgroup", lambda path: killed.append(path) or 1)
    monkeypatch.setattr(job_tree, "kill_marked", lambda mark: 0)
    monkeypatch.setattr(job_tree, "cgroup2_root", lambda: str(tmp_path))
    mark = "0123456789abcdef"
    assert stop_recorded({"cgroup": str(tmp_path / "system.slice"), "mark": mark}) == 0
    assert stop_recorded({"cgroup": "/elsewhere/runner-job-" + mark, "mark": mark}) == 0
    assert stop_recorded({"cgroup": str(tmp_path / "runner-job-0123"), "mark": "0123"}) == 0  # not a mark
    assert stop_recorded("nonsense") == 0 and killed == []
    assert stop_recorded({"cgroup": str(tmp_path / f"runner-job-{mark}"), "mark": mark}) == 1
    assert killed == [str(tmp_path / f"runner-job-{mark}")]
