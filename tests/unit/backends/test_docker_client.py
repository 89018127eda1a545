"""``docker_client``: one docker-py client per process (and per fork server), remade when what
docker-py read to make it changes: the environment naming the engine, or the Docker config file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.backends.docker import DockerBackend
from runner.backends.docker_client import docker_client


@pytest.fixture(autouse=True)
def engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An engine address nothing listens on (making a client connects to nothing) and a config folder."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/a.sock")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "RUNNER_DOCKER_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_same_environment_gets_the_same_client_for_every_backend() -> None:
    client = docker_client()
    assert docker_client() is client
    assert DockerBackend().client is client and DockerBackend().client is client
    assert client.api.trust_env is False  # no proxy or .netrc lookups on the engine's socket
    assert client.api._version == "1.41"


def test_another_engine_or_api_version_gets_its_own_client(monkeypatch: pytest.MonkeyPatch,
                                                           engine: Path) -> None:
    first = docker_client()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{engine}/b.sock")
    second = docker_client()
    assert second is not first
    monkeypatch.setenv("RUNNER_DOCKER_API_VERSION", "1.43")
    assert docker_client().api._version == "1.43"


def test_an_edited_docker_config_file_gets_a_new_client(engine: Path) -> None:
    config = engine / "docker" / "config.json"
    config.parent.mkdir()
    config.write_text("{}")
    first = docker_client()
    config.write_text('{"proxies": {"default": {"httpProxy": "http://127.0.0.1:3128"}}}')
    os.utime(config, ns=(1, 1))  # a different mtime, whatever the file system's clock resolution
    assert docker_client() is not first


def test_a_forked_child_does_not_share_its_parents_pooled_connections() -> None:
    import requests

    client = docker_client()
    with pytest.raises(requests.exceptions.ConnectionError):  # nothing listens: the pool is made anyway
        client.api.version()
    adapter = client.api.get_adapter(client.api.base_url)
    assert len(adapter.pools) == 1
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write_end, str(len(adapter.pools)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as result:
        in_child = result.read()
    os.waitpid(pid, 0)
    assert in_child == "0" and len(adapter.pools) == 1  # the parent keeps its own
