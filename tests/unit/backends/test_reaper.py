"""``runner.backends.reaper``: the reaper reaping only the job's adopted processes (marked while they
ran, or tagged), never the leader nor the caller's own children, even one that got an adopted one's pid;
one reap waiting (bounded) for the one child meant."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from needs import missing

from runner.backends import job_tree
from runner.backends import reaper as reaping
from runner.backends.job_tree import MARK_ENV, carries_tag, limit_tagger
from runner.backends.reaper import Reaper


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
from runner.backends.job_tree import MARK_ENV
from runner.backends.reaper import Reaper

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
    """``reaper.reap`` without a pidfd (``UNPINNED``): it waits (bounded) until the SIGKILLed child is
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
        assert reaping.reap(killed.pid, reaping.UNPINNED, lambda f: job_tree.started_at(f) == started,
                             wait_s=30) == 1
        assert not Path(f"/proc/{killed.pid}").exists()  # reaped
        assert other.stdin is not None
        other.stdin.close()
        assert _zombie(other)
        assert reaping.reap(other.pid, reaping.UNPINNED, lambda f: job_tree.started_at(f) == started) == 0
        assert other.wait(timeout=30) == 0  # still its own to wait for
    finally:
        for proc in (killed, other):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def test_a_reap_by_pidfd_waits_no_longer_than_it_was_told() -> None:
    """``reaper.reap`` with a pidfd and ``wait_s`` (one just SIGKILLed): a process that has not ended by
    then (here: never killed; on a host, one in uninterruptible sleep) is left for the next round, not
    waited for until it ends (the wait had no limit: a stuck process held the job's end forever)."""
    child = subprocess.Popen(["sleep", "20"])
    try:
        pinned = reaping.pin(child.pid, lambda fields: True)
        assert pinned is not None
        if pinned == reaping.UNPINNED:
            missing("no pidfd on this kernel (Linux >= 5.3)")
        try:
            assert reaping.reap(child.pid, pinned, lambda fields: True, wait_s=0.2) == 0
            assert child.poll() is None  # still running: not waited for until it ended
            child.kill()
            assert reaping.reap(child.pid, pinned, lambda fields: True, wait_s=30) == 1  # ended: reaped
        finally:
            reaping.unpin(pinned)
    finally:
        if child.returncode is None and Path(f"/proc/{child.pid}").exists():
            child.kill()
            child.wait(timeout=30)
