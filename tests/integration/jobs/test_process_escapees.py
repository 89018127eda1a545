"""The process backend: what a job's command starts in a session of its own (a double fork, ``setsid``)
is ended even when the runner itself is SIGKILLed (its cgroup, else the mark in its environment,
``runner.backends.job_tree``); and such a process that ends by itself mid-job is not left a zombie of a
Python process running the job in-process, whose own children stay its to wait for.

Each run marks its processes with a variable of its own (``PLANT``, a fresh token) and the test finds
them by it; what it kills in clean-up, it kills by PID."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from jobs_support import show, wait_for_status, write_job

from runner.backends.job_tree import cgroup2_root

PLANT = "T43_PLANTED"


def _planted(token: str) -> list[int]:
    """Live (not zombie) processes whose environment holds ``PLANT=token``."""
    needle = f"\0{PLANT}={token}\0".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in b"\0" + environ and state != b"Z":
            found.append(int(entry))
    return found


def _session(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[3])


def _kill_by_pid(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _cgroup_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    mode = str(request.param)
    if mode == "cgroup" and (os.geteuid() != 0 or cgroup2_root() is None):
        pytest.fail("the cgroup case needs root and cgroup v2 (as on the CI machine)", pytrace=False)
    monkeypatch.setenv("RUNNER_JOB_CGROUP", "1" if mode == "cgroup" else "0")
    return mode


@pytest.fixture(params=["cgroup", "mark"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    return _cgroup_mode(request, monkeypatch)


def test_a_sigkilled_runner_leaves_no_process_of_its_job(workspace_dir: Path, tmp_path: Path, mode: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "1")
    ws, token, name = workspace_dir, uuid.uuid4().hex, f"escape-{mode}"
    job = write_job(tmp_path, f"""
        command: >-
          (setsid sh -c 'sleep 600 & wait' > /dev/null 2>&1 &);
          (setsid sh -c 'trap "" TERM; sleep 600; :' > /dev/null 2>&1 &);
          echo started; sleep 600
        environment_variables:
          {PLANT}: {token}
        compute: local-process
        environment:
          image: runner/busybox:latest
        """)
    subprocess.run([sys.executable, "-m", "runner", "--workspace", str(ws), "job", "create", "--file",
                    str(job), "--name", name], check=True, capture_output=True, timeout=120)
    try:
        record = wait_for_status(ws, name, {"Running"})
        deadline = time.monotonic() + 60
        while len(planted := _planted(token)) < 5:  # the command (bash runs its last one as itself), two
            # escapees and their sleeps
            assert time.monotonic() < deadline, f"the job's processes did not all start: {planted}"
            time.sleep(0.1)
        leader = int(record["container_id"])
        assert len({_session(pid) for pid in planted}) == 3  # the job's session and two of their own
        tree = record["extra"]["process_tree"]
        assert (tree["cgroup"] is not None) == (mode == "cgroup"), tree
        os.kill(record["runner_pid"], signal.SIGKILL)
        final = wait_for_status(ws, name, {"Failed"}, timeout=120)  # recorded by the watchdog
        assert "died while the job was Running" in final["error"]
        deadline = time.monotonic() + 30
        while left := _planted(token):
            assert time.monotonic() < deadline, f"still running after their runner died: {left}"
            time.sleep(0.1)
        assert not Path(f"/proc/{leader}").exists() or leader not in _planted(token)
        if tree["cgroup"]:
            assert not Path(tree["cgroup"]).exists()  # removed once empty
    finally:
        _kill_by_pid(_planted(token))


def test_a_process_that_moved_itself_out_of_the_jobs_cgroup_is_still_stopped(workspace_dir: Path,
                                                                              tmp_path: Path) -> None:
    """Root may move a process out of the job's cgroup: the end-of-job scan for the mark (of processes
    started since the job's, ``job_tree.marked``) still finds it."""
    root = cgroup2_root()
    if os.geteuid() != 0 or root is None:
        pytest.fail("this needs root and cgroup v2 (as on the CI machine)", pytrace=False)
    token, name = uuid.uuid4().hex, "left-its-cgroup"
    pid_file, where = tmp_path / "leaver.pid", tmp_path / "leaver.cgroup"
    job = write_job(tmp_path, f"""
        command: >-
          (setsid sh -c 'cg=$(sed -n "s/^0:://p" /proc/self/cgroup);
          echo $$ > "{root}$(dirname "$cg")/cgroup.procs"; sed -n "s/^0:://p" /proc/self/cgroup > {where};
          echo $$ > {pid_file}; sleep 600' > /dev/null 2>&1 &);
          while [ ! -s {pid_file} ]; do sleep 0.05; done; echo main-done
        environment_variables:
          {PLANT}: {token}
        compute: local-process
        environment:
          image: runner/busybox:latest
        """)
    try:
        result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(workspace_dir), "job",
                                 "create", "--file", str(job), "--name", name, "--stream"],
                                capture_output=True, text=True, timeout=180, env={**os.environ,
                                                                                   "RUNNER_JOB_CGROUP": "1"})
        assert result.returncode == 0, result.stdout + result.stderr
        record = show(workspace_dir, name)
        assert record["extra"]["process_tree"]["cgroup"], record["extra"]  # it ran in a cgroup of its own
        assert "runner-job-" not in where.read_text(), where.read_text()  # which the leaver left
        assert _planted(token) == [], "the process that left the job's cgroup still runs"
        assert any(w.startswith("stopped ") for w in record["extra"]["warnings"]), record["extra"]
    finally:
        _kill_by_pid(_planted(token))


CALLER = """
import json, os, subprocess, sys
from runner import MLClient, command

own = subprocess.Popen(["sh", "-c", "exit 7"], start_new_session=True)  # the caller's own, left unwaited
ml_client = MLClient(workspace_dir=sys.argv[1])
job = command(command=sys.argv[5], environment="runner/busybox:latest", name=sys.argv[2],
    environment_variables={sys.argv[4]: sys.argv[3]}, compute="local-process")
done = ml_client.jobs.create_or_update(job, stream=True, echo=lambda _: None)
zombies = []
for entry in os.listdir("/proc"):
    try:
        fields = open(f"/proc/{entry}/stat", "rb").read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        continue
    if fields[1] == str(os.getpid()).encode() and fields[0] == b"Z":
        zombies.append(int(entry))
print(json.dumps({"status": str(done.status), "zombies": sorted(zombies), "own": own.pid,
                  "own_code": own.wait()}))
"""


@pytest.fixture(params=["cgroup", "mark"])
def caller_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    return _cgroup_mode(request, monkeypatch)


LONG = ("(setsid sh -c 'sleep 1.5' > /dev/null 2>&1 &); (setsid sh -c 'sleep 1.5' > /dev/null 2>&1 &);"
        " sleep 4; echo main-done")  # seen running by the reaper's scans, then ended mid-job
QUICK = ("(setsid true &); (setsid sh -c 'exit 3' &); (true &); (sh -c 'exit 4' &);"
         " sleep 2; echo main-done")  # ended before any scan could see them run (nor read their mark)


@pytest.mark.parametrize("escapees", [LONG, QUICK], ids=["long", "quick"])
def test_an_in_process_caller_keeps_no_zombie_and_its_own_children(workspace_dir: Path, tmp_path: Path,
                                                                   caller_mode: str, escapees: str) -> None:
    token, name = uuid.uuid4().hex, f"zombie-{caller_mode}-{'long' if escapees == LONG else 'quick'}"
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(CALLER))
    try:
        args = [str(workspace_dir), name, token, PLANT, escapees]
        result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                                timeout=180, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        seen = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        _kill_by_pid(_planted(token))
    assert seen["status"] == "Completed", seen
    assert seen["zombies"] == [seen["own"]], seen  # the escapees that ended were reaped; its own was not
    assert seen["own_code"] == 7, seen  # and it still gets its own child's exit code
    assert show(workspace_dir, name)["status"] == "Completed"
