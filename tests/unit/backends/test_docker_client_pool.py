"""``docker_client``'s requests share one pool of connections to the engine, whatever their URL: docker-py
keys its Unix-socket pools by the whole URL (a pool, and an idle connection, per container and call)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.backends.docker_client import docker_client


@pytest.fixture(autouse=True)
def engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An engine address nothing listens on (requests fail to connect, their pool is made anyway)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/a.sock")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "RUNNER_DOCKER_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _calls(api: Any) -> None:
    """Requests to five URLs (two containers, several calls); none reaches an engine."""
    for call in (lambda: api.version(), lambda: api.inspect_container("a1"), lambda: api.wait("a1"),
                 lambda: api.remove_container("b2", force=True), lambda: api.logs("b2", stream=False)):
        with pytest.raises(requests.exceptions.ConnectionError):
            call()


def test_every_request_of_the_client_goes_through_one_pool() -> None:
    api = docker_client().api
    _calls(api)
    adapter = api.get_adapter(api.base_url)
    assert list(adapter.pools.keys()) == ["http+docker://localhost"]


def test_a_forked_child_gets_one_pool_of_its_own_too() -> None:
    api = docker_client().api
    _calls(api)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            adapter = api.get_adapter(api.base_url)
            emptied = len(adapter.pools)
            with contextlib.suppress(BaseException):  # what it made is what the pipe reports
                _calls(api)
            os.write(write_end, f"{emptied} {len(adapter.pools)}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as result:
        in_child = result.read()
    os.waitpid(pid, 0)
    assert in_child == "0 1"  # the parent's pool dropped (``_forget_connections``), then one of its own
