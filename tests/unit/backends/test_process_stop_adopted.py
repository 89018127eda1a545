"""``ProcessRun.stop_leftovers`` without a cgroup (``_stop_adopted``): the caller may reap a leftover the
scan found before it is stopped, and start a child that gets its pid; that child is neither killed nor
reaped. Run in a pid namespace of its own (root): the pid comes back on purpose (``ns_last_pid``)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from needs import missing

PID_REUSED = """
import os, subprocess, sys, time
from pathlib import Path
from runner.backends import process
from runner.backends.job_tree import MARK_ENV
from runner.backends.reaper import Reaper

Reaper.POLL_S = 3600.0  # reaps when told to, only
mark = "0123456789abcdef"
if sys.argv[1] == "no-pidfd":
    del os.pidfd_open  # as on a kernel without pidfds: checked just before it is signalled
job = subprocess.Popen(["sh", "-c", "true"], start_new_session=True)
job.wait()
gate = [sys.executable, "-c", "import sys; sys.exit(7 if sys.stdin.read() == '' else 1)"]  # ends on EOF
leftover = subprocess.Popen(gate, stdin=subprocess.PIPE, start_new_session=True,  # as `setsid cmd &` leaves
                            env={**os.environ, MARK_ENV: mark})
own, carries_either = [], process.carries_either

def scanned_then_reused(pid, mark):  # the scan found the leftover, marked; before it is stopped:
    found = carries_either(pid, mark)
    if pid == leftover.pid and not own:
        time.sleep(0.05)  # what gets its pid next starts at another clock tick
        leftover.stdin.close()
        leftover.wait()  # the caller reaps it first (its own wait), then its next child gets the same pid
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(leftover.pid - 1))  # (this namespace's own)
        own.append(subprocess.Popen(gate, stdin=subprocess.PIPE))
        assert own[0].pid == leftover.pid, (own[0].pid, leftover.pid)
    return found

process.carries_either = scanned_then_reused
stopped = process.ProcessRun(job, before=(), mark=mark).stop_leftovers()
alive = own[0].poll() is None
own[0].stdin.close()
print(stopped, alive, own[0].wait())  # wait(): 0 (Popen's guess) had stop_leftovers reaped it
"""


@pytest.mark.parametrize("pidfds", ["pidfd", "no-pidfd"])
def test_stopping_leftovers_spares_the_callers_child_that_got_a_leftovers_pid(pidfds: str) -> None:
    namespace = ["unshare", "--pid", "--fork", "--mount-proc"]
    if subprocess.run([*namespace, "true"], capture_output=True, check=False).returncode != 0:  # noqa: S603
        missing("no pid namespace can be made here (needs root and unshare)")
    result = subprocess.run([*namespace, sys.executable, "-c", PID_REUSED, pidfds],  # noqa: S603
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "True", "7"]  # none stopped; the child ran on, its status its own
