"""``runner.backends.process.descendants``: a process's descendants, by the PPid chains in /proc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.backends.process import descendants


def _proc(root: Path, pid: int, ppid: int, name: str = "sh", state: str = "S") -> None:
    (root / str(pid)).mkdir()
    (root / str(pid) / "stat").write_text(f"{pid} ({name}) {state} {ppid} {pid} {pid} 0 -1\n")


def test_descendants_follow_ppid_chains_and_skip_zombies(tmp_path: Path) -> None:
    _proc(tmp_path, 1, 0, "init")
    _proc(tmp_path, 10, 1, "runner")
    _proc(tmp_path, 11, 10, "bash")
    _proc(tmp_path, 12, 11, "a) S 1 odd")  # a name that holds ") " and a fake PPid
    _proc(tmp_path, 13, 12)
    _proc(tmp_path, 14, 10, "done", state="Z")  # ended, not reaped: nothing to signal
    _proc(tmp_path, 20, 1, "other")
    (tmp_path / "self").mkdir()  # not a process entry
    (tmp_path / "99").mkdir()  # ended while scanned: no stat
    assert sorted(descendants(10, tmp_path)) == [11, 12, 13]
    assert descendants(13, tmp_path) == []
    assert sorted(descendants(1, tmp_path)) == [10, 11, 12, 13, 20]


def test_descendants_of_a_real_process_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c",  # noqa: S603
                              "import subprocess, sys; p = subprocess.Popen(['sleep', '30']); "
                              "print(p.pid, flush=True); sys.stdin.read(); p.kill()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        assert grandchild in descendants(child.pid)
        assert child.pid not in descendants(child.pid)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


SPARED = """
import os, subprocess, sys
from runner.backends.job_tree import MARK_ENV
from runner.backends.reaper import Reaper
from runner.backends.process import ProcessRun
Reaper.POLL_S = 3600.0  # reaps when told to, only
mark = "0123456789abcdef"
job = subprocess.Popen(["sh", "-c", "true"], start_new_session=True)
job.wait()
escaped = subprocess.Popen(["sleep", "30"], start_new_session=True,  # as a job's `setsid cmd &` is, here
                           env={**os.environ, MARK_ENV: mark})
callers = subprocess.Popen(["sleep", "30"])  # the script's own, started after the job: not "before"
apart = subprocess.Popen(["sleep", "30"], start_new_session=True)  # its own too, in a session of its own
stopped = ProcessRun(job, before=(), mark=mark).stop_leftovers()
print(stopped, escaped.poll() is not None, callers.poll() is None, apart.poll() is None)
callers.kill()
apart.kill()
"""


def test_leftovers_spare_what_the_caller_started_in_its_own_session() -> None:
    """A script running a process job in its own process (the Python API) may start processes of its own
    meanwhile, in its session or one of their own: they do not carry the job's mark, so ``stop_leftovers``
    leaves them alone. Run in a process of its own: this one's children are the tests'."""
    result = subprocess.run([sys.executable, "-c", SPARED], capture_output=True, text=True,  # noqa: S603
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True", "True", "True"]  # the escaped one stopped, the caller's not
