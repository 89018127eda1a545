"""The warm fork server (``runner.forkserver``) and its client (``runner.launch``): a command served by
a forked child behaves as if it ran in the client's own process: the client's environment, working
directory, streams, exit status and signals; a client killed takes its command with it."""

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
from typing import Any

import pytest
from jobs_support import RUNNER, cli, show, wait_for_status, write_job
from repo_paths import REPO

from runner.forkserver import server_pids
from runner.launch import ENV_SWITCH, server_paths

PROCESS_JOB = """
    command: echo "var=$FROM_CLIENT cwd=$(pwd)"; echo started; {tail}
    compute: local-process
    environment:
      image: not-used:1
    """


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], env: dict[str, str], socket_path: str) -> None:
        self.proc, self.env, self.socket = proc, env, socket_path

    def run(self, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*RUNNER, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                              env={**self.env, **env})

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*RUNNER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch, workspace_dir: Path) -> Iterator[dict[str, str]]:
    """A private ``XDG_RUNTIME_DIR`` (so this test's servers are its own) and the environment that
    points at it and at the test's workspace; every server started there is stopped at the end."""
    runtime = Path(tempfile.mkdtemp(prefix="rfs-", dir="/tmp"))  # short: a socket's path is <= 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv(ENV_SWITCH, raising=False)
    yield dict(os.environ)
    for pid in server_pids(str(runtime)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(runtime, ignore_errors=True)


def _wait_for(predicate: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def server(runtime: dict[str, str], workspace_dir: Path) -> Iterator[Server]:
    env = runtime
    paths = server_paths()
    assert paths is not None
    proc = subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock],
                            env=env, start_new_session=True)
    try:
        _wait_for(lambda: os.path.exists(paths.socket), "the server's socket")
        yield Server(proc, env, paths.socket)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _running(ws: Path, name: str) -> dict[str, Any]:
    """The job's record once it is Running (it may not exist yet when this is first asked)."""
    _wait_for(lambda: cli(ws, "job", "show", "--name", name).returncode == 0, f"job {name} to exist")
    return wait_for_status(ws, name, {"Running"})


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        pid = _parent(pid)
        chain.append(pid)
    return chain


def test_command_runs_in_a_child_of_the_server_with_the_clients_env_cwd_and_streams(
        server: Server, tmp_path: Path, workspace_dir: Path) -> None:
    job = write_job(tmp_path / "here", PROCESS_JOB.format(tail="sleep 2; exit 3"))
    client = subprocess.Popen([*RUNNER, "job", "create", "--file", "job.yml", "--stream", "--name", "fs1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=job.parent, env={**server.env, "FROM_CLIENT": "hello"})
    record = _running(workspace_dir, "fs1")
    runner_pid = record["runner_pid"]
    assert runner_pid != client.pid
    assert server.proc.pid in _ancestors(runner_pid)  # forked by the server, not started by the client
    out, err = client.communicate(timeout=120)
    assert client.returncode == 1, err  # the job failed: the client exits as the command did
    assert f"var=hello cwd={workspace_dir / 'jobs' / 'fs1' / 'code'}" in out
    assert "Status: Failed" in out and "Exit code: 3" in out


@pytest.mark.parametrize("args", [("--version",), ("job", "show", "--name", "nope"), ("no-such-command",),
                                  ("job", "create")])
def test_output_and_exit_codes_match_a_run_in_process(server: Server, args: tuple[str, ...]) -> None:
    served = server.run(*args)
    alone = server.run(*args, **{ENV_SWITCH: "0"})
    assert (served.returncode, served.stdout, served.stderr) == (alone.returncode, alone.stdout,
                                                                 alone.stderr)
    assert "Traceback" not in served.stderr


def test_ctrl_c_is_forwarded_and_cancels_the_job(server: Server, tmp_path: Path,
                                                 workspace_dir: Path) -> None:
    job = write_job(tmp_path, PROCESS_JOB.format(tail="sleep 60"))
    client = server.spawn("job", "create", "--file", str(job), "--stream", "--name", "fs2")
    assert _running(workspace_dir, "fs2")["runner_pid"] != client.pid
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=60)
    assert client.returncode == 3, err
    assert "Status: Canceled" in out
    assert show(workspace_dir, "fs2")["status"] == "Canceled"


def test_a_killed_client_takes_its_command_with_it(server: Server, tmp_path: Path,
                                                   workspace_dir: Path) -> None:
    job = write_job(tmp_path, PROCESS_JOB.format(tail="sleep 60"))
    client = server.spawn("job", "create", "--file", str(job), "--stream", "--name", "fs3")
    runner_pid = _running(workspace_dir, "fs3")["runner_pid"]
    client.kill()
    client.wait(timeout=30)
    _wait_for(lambda: not Path(f"/proc/{runner_pid}").exists(), "the command to die with its client")
    record = show(workspace_dir, "fs3")  # the next command recovers the job, as after a killed runner
    assert record["status"] == "Failed"
    assert f"runner process (pid {runner_pid}) died while the job was Running" in record["error"]


def test_the_client_dies_of_the_signal_that_killed_its_command(server: Server, tmp_path: Path,
                                                               workspace_dir: Path) -> None:
    job = write_job(tmp_path, PROCESS_JOB.format(tail="sleep 60"))
    client = server.spawn("job", "create", "--file", str(job), "--stream", "--name", "fs4")
    runner_pid = _running(workspace_dir, "fs4")["runner_pid"]
    os.kill(runner_pid, signal.SIGKILL)
    client.communicate(timeout=30)
    assert client.returncode == -signal.SIGKILL
    assert show(workspace_dir, "fs4")["status"] == "Failed"


def test_the_clients_stdin_reaches_the_command(server: Server, tmp_path: Path) -> None:
    """``--file /dev/stdin`` reads the client's stdin: the served command has the client's descriptor 0
    (without it, it would read the server's stdin, /dev/null, and find no job)."""
    _wait_for(lambda: len(_children(server.proc.pid)) == 1, "the server's spare")
    spare = _children(server.proc.pid)
    marker = f"from-stdin-{os.getpid()}"
    yaml_text = f"command: echo {marker}\nenvironment:\n  image: runner/busybox:latest\n"
    served = subprocess.run([*RUNNER, "job", "validate", "--file", "/dev/stdin"], input=yaml_text,
                            capture_output=True, text=True, timeout=120, env=server.env)
    assert served.returncode == 0, served.stderr
    assert f"echo {marker}" in served.stdout
    # the spare took the command (the server forks the next one): it was served, not run in the client
    _wait_for(lambda: _children(server.proc.pid) not in ([], spare), "the server's next spare")


@pytest.mark.parametrize("mask", [0o027, 0o002])
def test_the_clients_umask_reaches_the_command_and_its_job(server: Server, tmp_path: Path,
                                                          workspace_dir: Path, mask: int) -> None:
    """A local-process job's shell has the umask of the client that created it (not the server's)."""
    name = f"fsu{mask:o}"
    job = write_job(tmp_path, PROCESS_JOB.format(tail="echo umask=$(umask); touch made.txt"))
    client = subprocess.Popen([*RUNNER, "job", "create", "--file", str(job), "--stream", "--name", name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server.env,
                              preexec_fn=lambda: os.umask(mask))  # noqa: PLW1509 - the client's umask
    out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err
    assert show(workspace_dir, name)["runner_pid"] != client.pid  # served by the server's child
    assert f"umask={mask:04o}" in out
    made = workspace_dir / "jobs" / name / "code" / "made.txt"
    assert made.stat().st_mode & 0o777 == 0o666 & ~mask


def test_sigterm_is_forwarded_and_cancels_the_job(server: Server, tmp_path: Path,
                                                  workspace_dir: Path) -> None:
    """SIGTERM to the client (what `kill`, systemd or a CI runner send) reaches the served command: the
    job is canceled and finalized, and the client exits as an in-process run does (3: Canceled)."""
    job = write_job(tmp_path, PROCESS_JOB.format(tail="sleep 60"))
    outcomes = []
    for name, env in (("fst1", server.env), ("fst2", {**server.env, ENV_SWITCH: "0"})):
        client = subprocess.Popen([*RUNNER, "job", "create", "--file", str(job), "--stream", "--name", name],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        runner_pid = _running(workspace_dir, name)["runner_pid"]
        assert (runner_pid != client.pid) == (name == "fst1")  # served, then in process
        client.send_signal(signal.SIGTERM)
        out, _err = client.communicate(timeout=60)
        assert "Status: Canceled" in out
        assert show(workspace_dir, name)["status"] == "Canceled"
        outcomes.append(client.returncode)
    assert outcomes[0] == outcomes[1] == 3


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            if _parent(int(entry)) == pid:
                found.append(int(entry))
    return found


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_spare_waits_for_the_next_client_and_goes_with_its_server(server: Server) -> None:
    _wait_for(lambda: len(_children(server.proc.pid)) == 1, "the server's spare")
    (spare,) = _children(server.proc.pid)
    _wait_for(lambda: len(_children(spare)) == 1, "the spare's command process")
    (waiting,) = _children(spare)
    result = server.run("--version")  # taken by that spare: the server forks the next one
    assert result.returncode == 0 and result.stdout.startswith("runner ")
    _wait_for(lambda: len(_children(server.proc.pid)) == 1 and _children(server.proc.pid) != [spare],
              "the next spare (and the last one gone)")
    assert _gone(waiting)  # that command ran and ended
    (spare,) = _children(server.proc.pid)
    _wait_for(lambda: len(_children(spare)) == 1, "the next spare's command process")
    (waiting,) = _children(spare)
    server.proc.kill()  # even killed, the server leaves no spare behind
    server.proc.wait(timeout=30)
    _wait_for(lambda: _gone(spare) and _gone(waiting), "the spare and its command to exit")


def _kib(pid: int, field: str) -> int:
    """A field of ``/proc/<pid>/smaps_rollup`` in KiB (0 once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(f"{field}:")))


def test_a_waiting_command_takes_its_copies_of_the_servers_memory_before_a_client_comes(
        server: Server) -> None:
    _wait_for(lambda: len(_children(server.proc.pid)) == 1, "the server's spare")
    (spare,) = _children(server.proc.pid)
    _wait_for(lambda: len(_children(spare)) == 1, "the spare's command process")
    (waiting,) = _children(spare)
    shared = _kib(server.proc.pid, "Anonymous")  # the server's memory, shared with its children
    _wait_for(lambda: _kib(waiting, "Private_Dirty") >= shared // 2, "the waiting command's own copies")
    result = server.run("--version")  # and it still serves its client
    assert result.returncode == 0 and result.stdout.startswith("runner ")


def test_first_command_runs_in_process_and_starts_a_server(runtime: dict[str, str], tmp_path: Path,
                                                           workspace_dir: Path) -> None:
    paths = server_paths()
    assert paths is not None and not os.path.exists(paths.socket)
    job = write_job(tmp_path, PROCESS_JOB.format(tail="true"))
    clients = []
    for name in ("fs5", "fs6"):
        client = subprocess.Popen([*RUNNER, "job", "create", "--file", str(job), "--stream", "--name", name],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=runtime)
        _out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        clients.append(client.pid)
        _wait_for(lambda: os.path.exists(paths.socket), "a server started by the first command")
    assert show(workspace_dir, "fs5")["runner_pid"] == clients[0]  # in process: no server yet
    assert show(workspace_dir, "fs6")["runner_pid"] != clients[1]  # served by the new server
    assert len(server_pids(runtime["XDG_RUNTIME_DIR"])) == 1


def test_idle_server_exits_and_removes_its_socket(runtime: dict[str, str]) -> None:
    env = {**runtime, "RUNNER_FORKSERVER_IDLE_S": "1"}
    paths = server_paths()
    assert paths is not None
    proc = subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock], env=env)
    try:
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
    assert not os.path.exists(paths.socket)


def test_off_switch_runs_in_process(runtime: dict[str, str], tmp_path: Path, workspace_dir: Path) -> None:
    env = {**runtime, ENV_SWITCH: "0"}
    paths = server_paths()
    assert paths is not None
    job = write_job(tmp_path, PROCESS_JOB.format(tail="true"))
    client = subprocess.Popen([*RUNNER, "job", "create", "--file", str(job), "--stream", "--name", "fs7"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    client.communicate(timeout=120)
    assert client.returncode == 0
    assert not os.path.exists(paths.socket) and not os.path.exists(paths.lock)  # none started
    assert show(workspace_dir, "fs7")["runner_pid"] == client.pid


def test_a_server_for_new_code_retires_the_old_one(runtime: dict[str, str]) -> None:
    paths = server_paths()
    assert paths is not None
    old_socket = os.path.join(paths.directory, f"{paths.prefix}0000000000000000.sock")  # older code
    old = subprocess.Popen([sys.executable, "-m", "runner.forkserver", old_socket, old_socket + ".lock"],
                           env=runtime)
    _wait_for(lambda: os.path.exists(old_socket), "the old server's socket")
    elsewhere = os.path.join(paths.directory, "fs-00000000-1111111111111111.sock")  # another checkout
    Path(elsewhere).touch()
    new = subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock],
                           env=runtime)
    try:
        _wait_for(lambda: os.path.exists(paths.socket), "the new server's socket")
        assert not os.path.exists(old_socket)  # no command reaches the old code any more ...
        assert os.path.exists(elsewhere)  # ... and another folder's server is left alone
        assert old.wait(timeout=90) == 0  # it exits at its next check instead of idling
        assert new.poll() is None
    finally:
        new.kill()
        old.kill()


# -- the installed `runner` command: bin/runner -------------------------------------------------------


def _installed_launcher(into: Path, entry_point: str | None = None) -> Path:
    """bin/runner as pip installs it: beside the ``runner-py`` console script, which names this
    interpreter (``entry_point`` replaces that script's text)."""
    into.mkdir()
    shutil.copy2(REPO / "bin" / "runner", into / "runner")
    entry = into / "runner-py"
    entry.write_text(entry_point or f"#!{sys.executable}\nimport sys\nfrom runner.launch import main\n"
                                    "sys.exit(main())\n")
    entry.chmod(0o755)
    return into / "runner"


def test_launcher_runs_a_command_itself_then_has_the_server_run_the_next_from_a_client_without_site(
        runtime: dict[str, str], tmp_path: Path, workspace_dir: Path) -> None:
    launcher = _installed_launcher(tmp_path / "bin")
    paths = server_paths()
    assert paths is not None and not os.path.exists(paths.socket)
    first_job = write_job(tmp_path / "a", PROCESS_JOB.format(tail="true"))
    first = subprocess.Popen([launcher, "job", "create", "--file", str(first_job), "--stream", "--name",
                              "fl1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=runtime)
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert show(workspace_dir, "fl1")["runner_pid"] == first.pid  # no server yet: run in that process
    _wait_for(lambda: os.path.exists(paths.socket), "the server the first command started")

    job = write_job(tmp_path / "b", PROCESS_JOB.format(tail="sleep 2; exit 4"))
    client = subprocess.Popen([launcher, "job", "create", "--file", str(job), "--stream", "--name", "fl2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**runtime, "FROM_CLIENT": "launched"})
    record = _running(workspace_dir, "fl2")
    assert record["runner_pid"] != client.pid  # run by the server's child
    argv = Path(f"/proc/{client.pid}/cmdline").read_bytes().split(b"\0")
    assert argv[1:3] == [b"-S", os.fsencode(launcher)]  # the client: python -S, no site-packages hooks
    out, err = client.communicate(timeout=120)
    assert client.returncode == 1, err  # the job failed: the launcher exits as the command did
    assert "var=launched" in out


def test_launcher_without_runner_py_beside_it_says_what_to_do(tmp_path: Path) -> None:
    launcher = _installed_launcher(tmp_path / "bin")
    (launcher.parent / "runner-py").unlink()
    result = subprocess.run([launcher, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 127
    assert "no runner-py beside" in result.stderr and "python -m runner" in result.stderr


def test_launcher_leaves_pips_long_path_form_to_runner_py(runtime: dict[str, str], tmp_path: Path) -> None:
    # pip writes this form when the interpreter's path is too long or has spaces for a #! line
    entry = (f"#!/bin/sh\n'''exec' \"{sys.executable}\" \"$0\" \"$@\"\n' '''\nimport sys\n"
             "from runner.launch import main\nsys.exit(main())\n")
    launcher = _installed_launcher(tmp_path / "bin", entry)
    result = subprocess.run([launcher, "--version"], capture_output=True, text=True, timeout=120, env=runtime)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("runner ")


def test_a_machine_without_libfuse_still_gets_a_warm_server(runtime: dict[str, str]) -> None:
    """A warm-up module that cannot load here (the FUSE modules, with no libfuse) is left to the command
    that needs it: the server still starts and serves every other command (it used to die in its
    warm-up, so each command paid a server start and ran cold)."""
    env = {**runtime, "FUSE_LIBRARY_NAME": "no-such-fuse-library"}
    paths = server_paths()
    assert paths is not None
    proc = subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock],
                            env=env, start_new_session=True)
    try:
        _wait_for(lambda: os.path.exists(paths.socket) or proc.poll() is not None, "the server's socket")
        assert proc.poll() is None, f"the server exited with {proc.returncode} during its warm-up"
        served = subprocess.run([*RUNNER, "--version"], capture_output=True, text=True, timeout=120, env=env)
        assert served.returncode == 0, served.stderr
        assert proc.pid in server_pids(runtime["XDG_RUNTIME_DIR"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
