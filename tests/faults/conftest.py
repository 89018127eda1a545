"""Fixtures of the fault suite: a workspace, a small tmpfs to fill, and a private Azurite behind a
throttling proxy (stopped and restarted by the tests; never the shared one). Helpers: fault_support.py."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_support import RATE, Storage
from private_azurite import PrivateAzurite
from throttle import ThrottledProxy


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    monkeypatch.delenv("RUNNER_RETRY_TOTAL_S", raising=False)  # the default policy unless a test sets one
    yield workspace_dir
    # a test that failed halfway (its runner and watchdog killed) must not leave a container running
    for container in docker_client.containers.list(
            all=True, filters={"label": f"runner.workspace={workspace_dir.resolve()}"}, ignore_removed=True):
        container.remove(force=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of this test alone, to fill up."""
    if os.geteuid() != 0:  # as tests/conftest.py's missing_service: a failure under CI=true
        message = "the disk-full tests mount a small tmpfs, which needs root"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    point = tmp_path / "small-disk"
    point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(point)], check=True)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def storage(private_azurite: PrivateAzurite) -> Iterator[Storage]:
    proxy = ThrottledProxy(private_azurite.port, RATE)
    container = f"f{uuid.uuid4().hex[:16]}"
    found = Storage(private_azurite, proxy, container)
    found.service().create_container(container)
    try:
        yield found
    finally:
        proxy.close()
