"""Smoke tests: one per real service provisioned by scripts/provision.sh, plus the installed CLI.

Each proves the service works the way the rest of the suite relies on: a container runs and its exit
code is read; a FUSE mount made on the host is read inside a container through a bind mount; a blob
written through adlfs to Azurite is read back.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runner

BUSYBOX = "runner/busybox:latest"
PYTHON_IMAGE = "runner/python:3.11"


def run_container(docker_client: Any, image: str, command: list[str], **options: Any) -> tuple[int, str]:
    """Run ``command`` in ``image`` with no network; return (exit code, output). The container is removed."""
    container = docker_client.containers.run(image, command, network_mode="none", detach=True, **options)
    try:
        status = container.wait(timeout=120)
        return int(status["StatusCode"]), container.logs().decode()
    finally:
        container.remove(force=True)


def is_mounted(path: Path) -> bool:
    with open("/proc/mounts", encoding="utf-8") as mounts:
        return any(line.split()[1] == str(path) for line in mounts)


def wait_for(condition: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@pytest.mark.docker
def test_container_runs_and_its_exit_code_is_read(docker_client: Any) -> None:
    exit_code, output = run_container(docker_client, BUSYBOX, ["sh", "-c", "echo hello from busybox; exit 3"])

    assert exit_code == 3
    assert "hello from busybox" in output


@pytest.mark.docker
def test_python_image_has_the_sample_packages(docker_client: Any) -> None:
    script = "import sklearn, mlflow, numpy, pandas, fsspec, adlfs, yaml; print(sklearn.__version__)"
    exit_code, output = run_container(docker_client, PYTHON_IMAGE, ["python", "-c", script])

    assert exit_code == 0, output
    assert output.strip().startswith("1.5")


@pytest.fixture
def rclone_mount(tmp_path: Path, fuse_available: bool) -> Iterator[tuple[Path, Path]]:
    """A local folder (source) mounted read-only with ``rclone mount --allow-other`` at a mount point."""
    if shutil.which("rclone") is None:
        pytest.fail("rclone is missing: run `bash scripts/provision.sh`", pytrace=False)
    source, mount_point = tmp_path / "source", tmp_path / "mnt"
    source.mkdir()
    mount_point.mkdir()
    (source / "hello.txt").write_text("hello through FUSE\n")
    subprocess.run(
        ["rclone", "mount", str(source), str(mount_point), "--read-only", "--allow-other", "--daemon",
         "--config", str(tmp_path / "rclone.conf")],
        check=True, capture_output=True, timeout=60,
    )
    try:
        assert wait_for(lambda: is_mounted(mount_point)), "rclone mount did not appear in /proc/mounts"
        yield source, mount_point
    finally:
        subprocess.run(["fusermount", "-u", str(mount_point)], check=False, capture_output=True, timeout=60)
        wait_for(lambda: not is_mounted(mount_point))
    assert not is_mounted(mount_point), f"{mount_point} is still mounted"


@pytest.mark.docker
@pytest.mark.fuse
def test_fuse_mount_on_host_is_read_inside_a_container(
    docker_client: Any, rclone_mount: tuple[Path, Path]
) -> None:
    from docker.types import Mount

    _, mount_point = rclone_mount
    data = Mount(target="/data", source=str(mount_point), type="bind", read_only=True)

    exit_code, output = run_container(docker_client, BUSYBOX, ["cat", "/data/hello.txt"], mounts=[data])

    assert exit_code == 0, output
    assert output == "hello through FUSE\n"


@pytest.mark.azure
def test_blob_written_through_adlfs_is_read_back(azure_container: Any) -> None:
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string=azure_container.azurite.connection_string)
    path = f"{azure_container.name}/smoke/hello.bin"
    payload = bytes(range(256)) * 1024

    with fs.open(path, "wb") as blob:
        blob.write(payload)
    fs.invalidate_cache()
    with fs.open(path, "rb") as blob:
        read_back = blob.read()

    assert read_back == payload
    assert fs.ls(f"{azure_container.name}/smoke", detail=False) == [path]


def test_installed_console_script_prints_the_version() -> None:
    executable = shutil.which("runner")
    assert executable, "the `runner` console script is not on PATH: run `pip install -e .`"

    result = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert runner.__version__ in result.stdout


def test_installed_console_script_shows_help() -> None:
    executable = shutil.which("runner")
    assert executable, "the `runner` console script is not on PATH: run `pip install -e .`"

    result = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert "job" in result.stdout
