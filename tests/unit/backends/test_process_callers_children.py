"""``ProcessRun.stop_leftovers`` without a cgroup: a job's leftovers are told by its mark (its
environment, ``limit_tag``), not by their session. A process the caller starts in a session of its own
while the job runs (a notebook's helper) is not the job's and runs on; what the job started does not,
even one that cleared both marks, in a session a marked process of the job is in (the belt).

The job runs in this test's process, as the Python API runs one; what the test starts, it kills by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import types
from pathlib import Path

import pytest

from runner.backends.base import RunSpec
from runner.backends.process import ProcessBackend

CLEARED = "env -i prlimit --rttime=unlimited:unlimited"  # no mark in its environment, nor its limit_tag


def _alive(pid: int) -> bool:
    """Runs (a zombie runs no more)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def _pids(folder: Path, names: list[str]) -> dict[str, int]:
    deadline = time.monotonic() + 60
    while not all((folder / name).is_file() and (folder / name).read_text().strip() for name in names):
        assert time.monotonic() < deadline, f"the job's processes did not all start: {os.listdir(folder)}"
        time.sleep(0.05)
    return {name: int((folder / name).read_text()) for name in names}


def test_the_callers_own_new_session_child_outlives_the_job_its_escapees_do_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_JOB_CGROUP", "0")  # no cgroup: the runner adopts what leaves the session
    go = tmp_path / "go"
    command = (
        f"(setsid sh -c 'echo $$ > {tmp_path}/setsid; exec sleep 600' > /dev/null 2>&1 &);"  # marked
        # its session's leader keeps the mark; it cleared both: the job's by its session
        f"(setsid sh -c '{CLEARED} sh -c \"echo \\$\\$ > {tmp_path}/mate; exec sleep 600\" & wait'"
        " > /dev/null 2>&1 &);"
        # in the command's own session but a process group of its own (job control): cleared both
        f"set -m; {CLEARED} sh -c 'echo $$ > {tmp_path}/grouped; exec sleep 600' > /dev/null 2>&1 & set +m;"
        f" while [ ! -e {go} ]; do sleep 0.05; done"
    )
    plan = types.SimpleNamespace(host_command=command, code_dir=str(tmp_path), bindings=(), host_env={},
                                 env={})
    backend = ProcessBackend()
    run = backend.start(RunSpec(plan=plan, mounts=()), backend.prepare_image(plan))  # type: ignore[arg-type]
    own: subprocess.Popen[bytes] | None = None
    job: dict[str, int] = {}
    try:
        job = _pids(tmp_path, ["setsid", "mate", "grouped"])
        own = subprocess.Popen(["sleep", "600"], start_new_session=True)  # the caller's, while the job runs
        go.touch()
        assert run.wait() == 0
        run.remove()
        stopped = run.stop_leftovers()
        assert own.poll() is None, "the caller's own child was killed with the job's leftovers"
        assert {name for name, pid in job.items() if _alive(pid)} == set()
        assert stopped >= 3, stopped  # each of them (and the session leader left waiting)
    finally:
        for pid in job.values():
            with contextlib.suppress(ProcessLookupError):
                if _alive(pid):  # (a failed test): the job's, started by this test
                    os.kill(pid, signal.SIGKILL)
        if own is not None:
            own.kill()
            own.wait(timeout=30)
