"""A real two-node Ray cluster for the session (head 127.0.0.2, worker 127.0.0.3 with ``worker_tag: 1``),
started by ``scripts/ray_cluster.sh`` inside a private network namespace, its dashboard bridged to a free
port on the host's 127.0.0.2 and the session's Azurite forwarded into it at the same address. Stopped
by PID at the end of the session (never ``ray stop``). The test process itself never imports ray.

Ray is installed by ``scripts/provision.sh`` into its own venv; a missing Ray (or no root for the network
namespace) skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

CLUSTER_SH = REPO / "scripts" / "ray_cluster.sh"
HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_service(what: str) -> None:
    """Skip (locally) or fail (in CI), as the root conftest's ``missing_service``."""
    message = f"{what} is not available: run `bash scripts/provision.sh` (it installs Ray into its own venv)"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def cache_dir() -> Path:
    return Path(os.environ.get("RUNNER_CACHE_DIR", Path.home() / ".cache" / "runner"))


@dataclass(frozen=True)
class RayCluster:
    address: str  # the dashboard on the host: http://127.0.0.2:<port>
    state: Path

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait until no Ray job of the cluster is pending or running (a test starts on an idle cluster:
        a worker job queues behind anything still holding the worker's one ``worker_tag``); fail naming
        what is still there."""
        from runner.backends.ray_jobs import TERMINAL, RayJobsClient

        client = RayJobsClient(self.address)
        deadline = time.monotonic() + timeout
        while busy := {j.get("submission_id"): j.get("status") for j in client.jobs()
                       if j.get("status") not in TERMINAL}:
            if time.monotonic() > deadline:
                pytest.fail(f"Ray jobs of earlier tests still run after {timeout:.0f} s: {busy}",
                            pytrace=False)
            time.sleep(0.5)

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside the cluster's network namespace."""
        return subprocess.run([str(CLUSTER_SH), "exec", str(self.state), *command], capture_output=True,
                              text=True, timeout=60, check=False)


def _ray_executable() -> Path | None:
    candidate = Path(os.environ.get("RAY") or cache_dir() / "ray-venv" / "bin" / "ray")
    return candidate if candidate.exists() else None


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def ray_cluster(azurite: Any) -> Iterator[RayCluster]:
    ray = _ray_executable()
    if ray is None:
        missing_service(f"Ray (no ray executable at {cache_dir() / 'ray-venv/bin/ray'})")
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        missing_service("root with unshare/nsenter (the test cluster runs in a private network namespace)")
    # short: Ray's unix sockets live under it, and a socket path has at most 107 bytes
    state = Path(tempfile.mkdtemp(prefix="rayt-", dir="/tmp"))
    port = _free_port(HEAD_IP)
    env = {**os.environ, "RAY": str(ray), "BRIDGE_PORT": str(port),
           "FORWARD_IN": f"{azurite.host}:{azurite.port}", "START_TIMEOUT_S": "300"}
    started = subprocess.run([str(CLUSTER_SH), "start", str(state)], capture_output=True, text=True,
                             env=env, timeout=420, check=False)
    try:
        if started.returncode != 0:
            pytest.fail(f"the Ray test cluster did not start:\n{started.stdout}\n{started.stderr}",
                        pytrace=False)
        yield RayCluster(f"http://{HEAD_IP}:{port}", state)
    finally:
        for _ in range(3):  # a loaded machine may take longer than the script waits for the last exits
            stopped = subprocess.run([str(CLUSTER_SH), "stop", str(state)], capture_output=True, text=True,
                                     env=env, timeout=120, check=False)
            if stopped.returncode == 0:
                shutil.rmtree(state, ignore_errors=True)
                break
