"""A job with no network runs in a container the engine makes no network sandbox for
(``NetworkDisabled`` besides ``network_mode: none``: no ``libnetwork-setkey`` hook, the cheaper start),
and it still sees what `docker run --network none` gives: a network namespace of its own with only its
loopback interface, nothing reachable beyond it, no DNS, and ``localhost`` through an /etc/hosts the
engine's own words for that network, writable by root and readable by another user, as Docker's is.

Real `runner job create --stream` in real containers. The job's command writes what it sees, then says
so with a file in its working directory and waits for one this test writes once it has inspected the
running container: files are the events; the waits are bounded only so a broken runner fails the test
instead of hanging it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, containers_of, show, spawn, write_job

from runner.backends.container_args import NO_NETWORK_HOSTS

pytestmark = pytest.mark.docker

PROBE = r'''
import json, os, socket, threading, time
seen = {"interfaces": sorted(os.listdir("/sys/class/net")), "netns": os.readlink("/proc/self/ns/net"),
        "hosts": open("/etc/hosts").read()}
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
threading.Thread(target=lambda: server.accept()[0].sendall(b"ok"), daemon=True).start()
with socket.create_connection(("localhost", server.getsockname()[1]), timeout=10) as client:
    seen["loopback"] = client.recv(2).decode()
for name, reach in (("outside", lambda: socket.create_connection(("192.0.2.1", 80), timeout=5)),
                    ("dns", lambda: socket.getaddrinfo("example.com", 80))):
    try:
        reach()
        seen[name] = "reached"
    except OSError as exc:
        seen[name] = type(exc).__name__
try:
    with open("/etc/hosts", "a") as hosts:
        hosts.write("127.0.0.1 myservice\n")
    seen["hosts_written"] = socket.gethostbyname("myservice")
except OSError as exc:
    seen["hosts_written"] = type(exc).__name__
open("seen.json", "w").write(json.dumps(seen))
open("ready", "w").close()
deadline = time.monotonic() + 120
while not os.path.exists("go") and time.monotonic() < deadline:
    time.sleep(0.05)
'''


def _start(ws: Path, tmp_path: Path, name: str, docker_args: str) -> tuple[subprocess.Popen[str], Path]:
    """The job, once its command wrote what it sees and waits; returns it and its working directory."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "probe.py").write_text(PROBE)
    resources = f"resources:\n  docker_args: \"{docker_args}\"\n" if docker_args else ""
    job = write_job(tmp_path, "command: python probe.py\ncode: ./src\n"
                              f"environment:\n  image: runner/python:3.11\n{resources}")
    proc = spawn(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    code = ws / "jobs" / name / "code"
    deadline = time.monotonic() + 120
    while not (code / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"the job never got to wait (exit {proc.returncode}):\n{out}\n{err}")
        time.sleep(0.05)
    return proc, code


def _inspect(docker_client: Any, name: str) -> dict[str, Any]:
    [container] = containers_of(docker_client, name)
    return dict(docker_client.api.inspect_container(container.id))


@pytest.mark.parametrize(("user", "docker_args"), [("root", ""), ("other", "--user 1000:1000")])
def test_a_job_with_no_network_gets_no_sandbox_and_sees_loopback_only(workspace_dir: Path, tmp_path: Path,
                                                                      docker_client: Any, user: str,
                                                                      docker_args: str) -> None:
    ws, name = workspace_dir, f"nonet-{user}"
    proc, code = _start(ws, tmp_path, name, docker_args)
    try:
        inspected = _inspect(docker_client, name)
    finally:
        (code / "go").write_text("")
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, out + err
    assert inspected["Config"].get("NetworkDisabled") is True  # no sandbox, no setkey hook
    assert inspected["HostConfig"]["NetworkMode"] == "none"
    assert inspected["NetworkSettings"]["SandboxKey"] == "" and not inspected["NetworkSettings"]["Networks"]
    seen = json.loads((code / "seen.json").read_text())
    assert seen["interfaces"] == ["lo"]
    assert seen["netns"] != os.readlink("/proc/self/ns/net")  # a namespace of its own, not the host's
    assert seen["loopback"] == "ok"  # localhost resolves and answers
    assert seen["outside"] == "OSError" and seen["dns"] == "gaierror"
    assert seen["hosts"] == NO_NETWORK_HOSTS
    # root may add a name, as to Docker's own file; another user may not (it is root's, 0644)
    assert seen["hosts_written"] == ("127.0.0.1" if user == "root" else "PermissionError")
    record = show(ws, name)
    assert record["status"] == "Completed" and record["extra"]["network"] == "none: no binding needs one"
    assert_no_leftovers(docker_client, ws, name)
