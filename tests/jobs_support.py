"""Helpers for the job integration tests: run the real `runner` CLI, inspect records, hash trees,
and check that nothing (container, FUSE mount) was left behind."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

RUNNER = [sys.executable, "-m", "runner"]


def cli(ws: Path, *args: str, timeout: float = 240, check: bool = False,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``runner --workspace ws ARGS`` to completion and return its result (text)."""
    result = subprocess.run([*RUNNER, "--workspace", str(ws), *args], capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"runner {' '.join(args)} exited {result.returncode}\n"
                             f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


SUMMARY = "\nExecution Summary\n"


def job_log(stdout: str) -> str:
    """The job's log from a ``--stream`` run's stdout: what comes before its Execution Summary (printed
    after the log on stdout, as ``az ml job create --stream`` does)."""
    assert SUMMARY in stdout, f"no Execution Summary on stdout:\n{stdout}"
    return stdout[:stdout.index(SUMMARY)]


def spawn(ws: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*RUNNER, "--workspace", str(ws), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def write_job(folder: Path, yaml_text: str, name: str = "job.yml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(yaml_text).lstrip())
    return path


def show(ws: Path, name: str) -> dict[str, Any]:
    return json.loads(cli(ws, "job", "show", "--name", name, "-o", "json", check=True).stdout)


def wait_for_status(ws: Path, name: str, statuses: set[str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        record = show(ws, name)
        if record["status"] in statuses:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"job {name} stayed {record['status']} (wanted {statuses})")
        time.sleep(0.5)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(root: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every file under ``root``."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def tree_without_links(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``, no link followed: relative path -> a file's bytes, or "-> <target>"
    for a link (a hostile test's view of what a job or the runner left)."""
    found: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                found[rel] = path.read_bytes()
    return found


def make_tree(root: Path, files: dict[str, bytes]) -> dict[str, str]:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return sha256_tree(root)


def containers_of(docker_client: Any, job: str) -> list[Any]:
    # ignore_removed: a container removed between the listing and its inspection is gone, not an error
    return docker_client.containers.list(all=True, filters={"label": f"runner.job={job}"},
                                         ignore_removed=True)


def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    with open("/proc/mounts") as handle:
        return [line.split()[1] for line in handle if line.split()[1].startswith(prefix)]


def assert_no_leftovers(docker_client: Any, ws: Path, job: str) -> None:
    """No container, no mount, and no input scratch (downloaded copies) of ``job`` left behind."""
    assert containers_of(docker_client, job) == [], f"container of job {job} left behind"
    assert mounts_under(ws) == [], f"mounts left under {ws}"
    inputs = ws / "jobs" / job / "inputs"
    scratch = [str(p) for p in inputs.rglob("*") if not p.is_dir()] if inputs.is_dir() else []
    assert scratch == [], f"input scratch of job {job} left behind: {scratch[:5]}"


def create_azure_datastore(ws: Path, folder: Path, azure_container: Any, name: str = "az") -> None:
    """``runner datastore create`` of an Azure Blob datastore (account key) on the test's container."""
    datastore = write_job(folder, f"""
        name: {name}
        type: azure_blob
        account_name: {azure_container.azurite.account}
        container_name: {azure_container.name}
        account_url: {azure_container.azurite.blob_endpoint}
        credentials:
          account_key: {azure_container.azurite.key}
        """, name=f"datastore-{name}.yml")
    cli(ws, "datastore", "create", "--file", str(datastore), check=True)


def datastore_file(ws: Path, rel: str) -> Path:
    return ws / "datastores" / "workspaceblobstore" / rel


def watchdog_pids(ws: Path, job: str) -> list[int]:
    """The live watchdogs of ``job`` (``runner.jobs.watchdog``): while one lives, a runner command's
    recovery leaves the job's container and its end to it."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if any(b"runner.jobs.watchdog" in arg for arg in argv) and str(ws).encode() in argv and \
                job.encode() in argv:
            found.append(int(entry))
    return found
