"""``runner.backends.process``: without a cgroup the runner is a child subreaper while it runs a process
job, and turns off only the flag it turned on: a caller (a supervisor, a script using the API in its own
process) that made itself a subreaper stays one. Run in a process of its own: this one's flag stays."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import ctypes, os, types
os.environ["RUNNER_JOB_CGROUP"] = "0"  # no cgroup: the runner adopts what leaves the job's session
from runner.backends.base import RunSpec
from runner.backends.process import ProcessBackend

libc = ctypes.CDLL(None, use_errno=True)

def flag():
    value = ctypes.c_int(-1)
    assert libc.prctl(37, ctypes.byref(value), 0, 0, 0) == 0  # PR_GET_CHILD_SUBREAPER
    return value.value

def job():
    plan = types.SimpleNamespace(host_command="exit 0", code_dir=None, bindings=(), host_env={"A": "1"},
                                 env={})
    backend = ProcessBackend()
    run = backend.start(RunSpec(plan=plan, mounts=()), backend.prepare_image(plan))
    during = flag()
    assert run.wait() == 0
    run.remove()
    run.stop_leftovers()
    return during

assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER: the caller's own
print(job(), flag())
assert libc.prctl(36, 0, 0, 0, 0) == 0
print(job(), flag())
"""


def test_a_callers_own_subreaper_flag_is_never_turned_off() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,  # noqa: S603
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1 1",  # the caller's flag: on while the job ran, and still on after
        "1 0",  # not a subreaper before: one while the job ran, no longer after
    ]
