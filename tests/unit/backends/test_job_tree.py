"""``runner.backends.job_tree``: where cgroup v2 is, a mark found in a large environment, a recorded
tree that is not this module's refused, and the reaper reaping only the job's adopted processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from needs import missing

from runner.backends import job_tree
from runner.backends.job_tree import (
    MARK_ENV,
    Reaper,
    carries_mark,
    carries_tag,
    cgroup2_root,
    limit_tagger,
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


def _zombie(proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{proc.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] == b"Z":
                return True
        except FileNotFoundError:
            return True  # reaped already
        time.sleep(0.02)
    return False


def test_the_reaper_reaps_only_marked_children_and_never_the_leader() -> None:
    mark = "fedcba9876543210"
    env = {**os.environ, MARK_ENV: mark}
    gate = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # ends when its stdin closes
    leader = subprocess.Popen(gate, env=env, stdin=subprocess.PIPE)
    adopted = subprocess.Popen(gate, env=env, stdin=subprocess.PIPE)  # as an adopted escapee would be
    own = subprocess.Popen(gate, stdin=subprocess.PIPE)  # the caller's own
    reaper = Reaper(mark, leader.pid)
    try:
        deadline = time.monotonic() + 30
        while adopted.pid not in reaper.adopted:
            assert time.monotonic() < deadline, "the marked child was never noticed"
            time.sleep(0.05)
        assert leader.pid not in reaper.adopted and own.pid not in reaper.adopted
        for proc in (leader, adopted, own):
            assert proc.stdin is not None
            proc.stdin.close()
            assert _zombie(proc)  # ended: a zombie until reaped
    finally:
        reaper.close()
    assert not Path(f"/proc/{adopted.pid}").exists()  # reaped by the reaper
    assert leader.wait(timeout=30) == 0 and own.wait(timeout=30) == 0  # theirs to wait for, still


def test_the_reaper_reaps_a_tagged_zombie_it_never_saw_run_but_not_the_callers_own() -> None:
    mark = "0123456789abcdef"
    tagger = limit_tagger(mark)
    assert tagger is not None, "this process's RLIMIT_RTTIME is not unlimited: no tag"
    quick = subprocess.Popen(["sh", "-c", "exit 0"], preexec_fn=tagger)  # noqa: PLW1509 - an escapee: no mark
    own = subprocess.Popen(["sh", "-c", "exit 7"], start_new_session=True)  # the caller's own
    leader = subprocess.Popen(["sh", "-c", "exit 3"], preexec_fn=tagger)  # noqa: PLW1509
    assert _zombie(quick) and _zombie(own) and _zombie(leader)  # ended before any scan: no environment
    assert carries_tag(quick.pid, mark) and not carries_tag(own.pid, mark)
    assert not carries_tag(quick.pid, "fedcba9876543210")  # another job's
    Reaper(mark, leader.pid).close()  # stops and reaps once more
    assert not Path(f"/proc/{quick.pid}").exists()  # reaped by the reaper
    assert own.wait(timeout=30) == 7 and leader.wait(timeout=30) == 3  # theirs to wait for, still


PID_REUSED = """
import os, subprocess, sys, time
from pathlib import Path
from runner.backends.job_tree import MARK_ENV, Reaper

Reaper.POLL_S = 3600.0  # reaps when told to, only
mark = "00112233445566aa"
gate = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # ends when its stdin closes
leader = subprocess.Popen(gate, stdin=subprocess.PIPE)
escapee = subprocess.Popen(gate, env={**os.environ, MARK_ENV: mark}, stdin=subprocess.PIPE)
reaper = Reaper(mark, leader.pid)
while escapee.pid not in reaper.adopted:  # seen running: adopted
    reaper.reap()
time.sleep(0.05)  # what gets its pid next starts at another clock tick
escapee.stdin.close()
escapee.wait()  # the caller reaps it first (its own wait), then starts a child that gets the same pid:
Path("/proc/sys/kernel/ns_last_pid").write_text(str(escapee.pid - 1))  # (this pid namespace's own)
own = subprocess.Popen(["sh", "-c", "exit 7"])
assert own.pid == escapee.pid, (own.pid, escapee.pid)
while Path(f"/proc/{own.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":
    time.sleep(0.01)
reaper.reap()
reaper.close()
print(own.wait())  # 0 (Popen's guess) had the reaper reaped it
leader.stdin.close()
leader.wait()
"""


def test_the_reaper_never_reaps_the_callers_child_that_got_an_adopted_ones_pid() -> None:
    """The caller reaps an adopted process's zombie before the reaper does, and its next child gets that
    pid: the reaper must not take that child's exit status. A pid namespace of its own (root) makes the
    pid come back on purpose (``ns_last_pid``) with no other process forking meanwhile."""
    namespace = ["unshare", "--pid", "--fork", "--mount-proc"]
    if subprocess.run([*namespace, "true"], capture_output=True, check=False).returncode != 0:  # noqa: S603
        missing("no pid namespace can be made here (needs root and unshare)")
    result = subprocess.run([*namespace, sys.executable, "-c", PID_REUSED], capture_output=True,  # noqa: S603
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7"]  # its own exit status: the reaper left it alone


def test_one_reap_waits_for_a_killed_child_without_a_pidfd_and_only_for_the_one_meant() -> None:
    """``job_tree.reap`` without a pidfd (``UNPINNED``): it waits (bounded) until the SIGKILLed child is
    a zombie, checks it is still the one meant (``is_it``, by its start time: ``started_at``), then reaps
    it; a child ``is_it`` does not take is left to its own ``wait()``."""
    gate = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # ends when its stdin closes
    killed = subprocess.Popen(gate, stdin=subprocess.PIPE)
    time.sleep(0.05)  # the other starts at another clock tick
    other = subprocess.Popen(gate, stdin=subprocess.PIPE)
    try:
        started = job_tree.start_ticks(f"/proc/{killed.pid}")
        assert started > 0
        killed.kill()
        assert job_tree.reap(killed.pid, job_tree.UNPINNED, lambda f: job_tree.started_at(f) == started,
                             wait_s=30) == 1
        assert not Path(f"/proc/{killed.pid}").exists()  # reaped
        assert other.stdin is not None
        other.stdin.close()
        assert _zombie(other)
        assert job_tree.reap(other.pid, job_tree.UNPINNED, lambda f: job_tree.started_at(f) == started) == 0
        assert other.wait(timeout=30) == 0  # still its own to wait for
    finally:
        for proc in (killed, other):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def test_a_reap_by_pidfd_waits_no_longer_than_it_was_told() -> None:
    """``job_tree.reap`` with a pidfd and ``wait_s`` (one just SIGKILLed): a process that has not ended by
    then (here: never killed; on a host, one in uninterruptible sleep) is left for the next round, not
    waited for until it ends (the wait had no limit: a stuck process held the job's end forever)."""
    child = subprocess.Popen(["sleep", "20"])
    try:
        pinned = job_tree.pin(child.pid, lambda fields: True)
        assert pinned is not None
        if pinned == job_tree.UNPINNED:
            missing("no pidfd on this kernel (Linux >= 5.3)")
        try:
            assert job_tree.reap(child.pid, pinned, lambda fields: True, wait_s=0.2) == 0
            assert child.poll() is None  # still running: not waited for until it ended
            child.kill()
            assert job_tree.reap(child.pid, pinned, lambda fields: True, wait_s=30) == 1  # ended: reaped
        finally:
            job_tree.unpin(pinned)
    finally:
        if child.returncode is None and Path(f"/proc/{child.pid}").exists():
            child.kill()
            child.wait(timeout=30)
