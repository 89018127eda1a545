"""When Docker or FUSE is not there, a job fails before it starts, with the message and hint the README's
Troubleshooting section documents, and nothing runs. Both are made unavailable for real, for this test
only: Docker by pointing ``DOCKER_HOST`` at a closed Unix socket, FUSE by hiding ``/dev/fuse`` in a
private mount namespace (the runner runs in process there: ``RUNNER_FORKSERVER=0``, else a fork server
outside the namespace would serve it), or by the FUSE binding failing to load (``FUSE_LIBRARY_NAME``, which
mfusepy honours).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, write_job

DOCKER_MESSAGE = "the Docker engine is not reachable (connection refused)"
DOCKER_HINT = ("hint: start the Docker engine (`sudo systemctl start docker`, or Docker Desktop) and check "
               "DOCKER_HOST, or run the job on the host with --backend process; in a checkout of runner, "
               "`bash scripts/provision.sh` starts one")
FUSE_HINT = "hint: check that FUSE works (`ls /dev/fuse`, fusermount3) or use mode: download / upload"


def _closed_socket(folder: Path) -> str:
    """A Unix socket file nobody listens on (connections are refused)."""
    path = folder / "docker.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return f"unix://{path}"


def _never_started(record: dict[str, Any]) -> None:
    assert record["status"] == "Failed"
    assert record["started_at"] is None and record["container_id"] is None and record["exit_code"] is None
    log = Path(record["job_dir"]) / "user_logs" / "std_log.txt"
    assert not log.exists() or "the command ran" not in log.read_text()


@pytest.mark.parametrize("forkserver", ["1", "0"], ids=["served", "in-process"])
def test_docker_unreachable_fails_the_job_before_it_starts(workspace_dir: Path, tmp_path: Path,
                                                            forkserver: str) -> None:
    job = write_job(tmp_path, """
        command: echo the command ran
        environment:
          image: runner/busybox:latest
        """)
    env = {"DOCKER_HOST": _closed_socket(tmp_path), "RUNNER_FORKSERVER": forkserver}
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "nodocker",
                 env=env)
    assert result.returncode == 4  # could not be started: not a failed job (1)
    assert f"Error: {DOCKER_MESSAGE}\n  {DOCKER_HINT}" in result.stdout
    assert "Traceback" not in result.stderr and "the command ran" not in result.stdout
    record = show(workspace_dir, "nodocker")
    assert record["error"] == f"{DOCKER_MESSAGE}\n  {DOCKER_HINT}"
    _never_started(record)


def _fuse_job(ws: Path, tmp_path: Path, azure_container: Any) -> Path:
    """A local-process job (no Docker needed) reading a folder of an Azure datastore through ro_mount."""
    from azure.storage.blob import ContainerClient

    ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                           azure_container.name).upload_blob("data/a.txt", b"alpha\n")
    create_azure_datastore(ws, tmp_path, azure_container)
    return write_job(tmp_path, """
        command: echo the command ran; cat ${{inputs.d}}/a.txt
        inputs:
          d: {type: uri_folder, path: "azureml://datastores/az/paths/data", mode: ro_mount}
        compute: local-process
        environment:
          image: not-used:1
        """)


# A private mount namespace whose /dev is a tmpfs with the usual nodes bound in, and no /dev/fuse.
HIDE_DEV_FUSE = r"""
set -e
mount --make-rprivate /
old=$(mktemp -d)
mount --bind /dev "$old"
mount -t tmpfs -o mode=755 nodev /dev
for n in null zero full random urandom tty ptmx pts shm; do
  [ -e "$old/$n" ] || continue
  if [ -d "$old/$n" ]; then mkdir "/dev/$n"; else touch "/dev/$n"; fi
  mount --bind "$old/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
umount -l "$old"
test ! -e /dev/fuse
exec "$@"
"""


@pytest.mark.azure
@pytest.mark.root("makes a private mount namespace without /dev/fuse")
def test_without_dev_fuse_a_mount_job_fails_before_it_starts(workspace_dir: Path, tmp_path: Path,
                                                             azure_container: Any) -> None:
    job = _fuse_job(workspace_dir, tmp_path, azure_container)
    argv = ["unshare", "--mount", "sh", "-c", HIDE_DEV_FUSE, "hide-dev-fuse", sys.executable, "-m", "runner",
            "--workspace", str(workspace_dir), "job", "create", "--file", str(job), "--stream", "--name",
            "nofuse"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=240,
                            env={**os.environ, "RUNNER_FORKSERVER": "0"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "the command ran" not in result.stdout
    record = show(workspace_dir, "nofuse")
    error = record["error"]
    assert error.startswith("input 'd' (ro_mount of azureml://datastores/az/paths/data): FUSE mount at ")
    assert "/dev/fuse is missing (load the fuse module or pass --device /dev/fuse)" in error
    assert error.endswith(FUSE_HINT)
    assert f"Error: {error}" in result.stdout
    _never_started(record)


@pytest.mark.azure
def test_without_the_fuse_library_a_mount_job_fails_before_it_starts_with_the_fuse_hint(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    job = _fuse_job(workspace_dir, tmp_path, azure_container)
    env = {"RUNNER_FORKSERVER": "0", "FUSE_LIBRARY_NAME": "no-such-fuse-library"}
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "nolib", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "the command ran" not in result.stdout
    record = show(workspace_dir, "nolib")
    _never_started(record)
    assert "libfuse" in record["error"]
    assert record["error"].endswith(FUSE_HINT)
