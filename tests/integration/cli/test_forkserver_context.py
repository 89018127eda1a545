"""The fork server serves a command only in its caller's context (issue 20): a command started in
its own network namespace, with a lower limit, ``nice``d or on fewer CPUs runs in its own process
with that context, never in the server's; a client that connects anyway is declined by the server,
which reads the client's context from the kernel."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_support import RUNNER, show, write_job

from runner.forkserver import server_pids
from runner.launch import ENV_SWITCH, server_paths

CONTEXT_JOB = """
    command: echo "nofile=$(ulimit -n) net=$(readlink /proc/self/ns/net)"
    compute: local-process
    environment:
      image: not-used:1
    """


def _wait_for(predicate: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, workspace_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A fork server of this test's own (private ``XDG_RUNTIME_DIR``), started in this test's
    context: its socket path and the environment that reaches it."""
    runtime = Path(tempfile.mkdtemp(prefix="rfc-", dir="/tmp"))  # short: a socket's path is <= 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv(ENV_SWITCH, raising=False)
    paths = server_paths()
    assert paths is not None
    proc = subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock],
                            start_new_session=True)
    try:
        _wait_for(lambda: os.path.exists(paths.socket), "the server's socket")
        yield paths.socket, dict(os.environ)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for pid in server_pids(str(runtime)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(runtime, ignore_errors=True)


def _create(job: Path, name: str, env: dict[str, str], *wrapper: str, shell: str = "") -> tuple[str, int]:
    """``runner job create --stream`` started under ``wrapper`` (after ``shell`` commands): its output
    and the pid of the client (the shell ``exec``s it)."""
    command = " ".join([*RUNNER, "job", "create", "--file", str(job), "--stream", "--name", name])
    client = subprocess.Popen([*wrapper, "bash", "-c", f"{shell} exec {command}"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    out, _ = client.communicate(timeout=120)
    assert client.returncode == 0, out
    return out, client.pid


def _served(workspace: Path, name: str, client_pid: int) -> bool:
    return bool(show(workspace, name)["runner_pid"] != client_pid)


def test_a_command_under_a_lower_limit_runs_in_its_own_process_with_that_limit(
        server: tuple[str, dict[str, str]], tmp_path: Path, workspace_dir: Path) -> None:
    _socket, env = server
    job = write_job(tmp_path, CONTEXT_JOB)
    out, pid = _create(job, "ctx1", env, shell="ulimit -n 77;")
    assert "nofile=77 " in out  # the caller's limit, not the server's
    assert not _served(workspace_dir, "ctx1", pid)
    out, pid = _create(job, "ctx2", env)  # the same command in the server's context: served
    assert f"nofile={os.sysconf('SC_OPEN_MAX')} " in out
    assert _served(workspace_dir, "ctx2", pid)


def test_a_command_in_its_own_network_namespace_runs_there(
        server: tuple[str, dict[str, str]], tmp_path: Path, workspace_dir: Path) -> None:
    _socket, env = server
    job = write_job(tmp_path, CONTEXT_JOB)
    out, pid = _create(job, "ctx3", env, "unshare", "-n")
    ours = os.readlink("/proc/self/ns/net")
    assert "net=net:[" in out and f"net={ours}" not in out  # the caller's namespace, not the server's
    assert not _served(workspace_dir, "ctx3", pid)


DIRECT_CLIENT = """
import _socket, sys
from runner.launch import _send_request
path, workspace, job = sys.argv[1:]
sys.argv = ["runner", "--workspace", workspace, "job", "create", "--file", job, "--name", "ctx9"]
sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
sock.connect(path)
_send_request(sock)
print(sock.recv(4096).decode().splitlines()[0])
"""


@pytest.mark.parametrize(("wrapper", "what"), [
    (["unshare", "-n"], "net namespace"),
    (["prlimit", "--nofile=77:77"], "rlimits"),
    (["nice", "-n", "3"], "nice"),
    (["ionice", "-c", "3"], "I/O priority"),
    (["taskset", "-c", "0"], "Cpus_allowed_list"),
])
def test_the_server_declines_a_client_of_another_context_that_connects_anyway(
        server: tuple[str, dict[str, str]], tmp_path: Path, workspace_dir: Path, wrapper: list[str],
        what: str) -> None:
    if wrapper[0] == "taskset" and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: no smaller set to run on")
    socket_path, env = server
    job = write_job(tmp_path, CONTEXT_JOB)
    result = subprocess.run([*wrapper, sys.executable, "-c", DIRECT_CLIENT, socket_path, str(workspace_dir),
                             str(job)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("decline its context differs (") and what in result.stdout
    time.sleep(0.5)  # (had it been run, the job would exist by now)
    listed = subprocess.run([*RUNNER, "--workspace", str(workspace_dir), "job", "show", "--name", "ctx9"],
                            capture_output=True, text=True, timeout=60, env={**env, ENV_SWITCH: "0"})
    assert listed.returncode != 0  # nothing ran
