"""A build context whose Dockerfile ``ADD``s a URL is refused before the engine is asked to build (real
Docker): the engine fetches an ``ADD`` URL itself, whatever network the build's ``RUN`` steps get, so
unless ``RUNNER_ALLOW_PULL=1`` the job stops with one error at the Dockerfile's line (its secrets masked)
and could not be started (exit 4). The URL is a server on this machine's loopback that counts requests:
refused, it is never asked; with ``RUNNER_ALLOW_PULL=1`` the engine fetches it into the image and the job
runs, as before.
Contexts live in ``tmp_path``; an image built here is removed."""

from __future__ import annotations

import contextlib
import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, show, write_job
from loopback_http import CountingServer, counting_server

from runner.backends.docker import DockerBackend
from runner.errors import BackendError

pytestmark = pytest.mark.docker

JOB = """
    command: cat /fetched.txt
    environment:
      build:
        path: docker-context
    """


@pytest.fixture
def server() -> Iterator[CountingServer]:
    with counting_server(uuid.uuid4().hex.encode()) as served:
        yield served


@pytest.fixture(autouse=True)
def no_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_ALLOW_PULL", raising=False)


def _context(tmp_path: Path, url: str) -> Path:
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM runner/busybox:latest\n# {uuid.uuid4().hex}\n"
                                        f"ADD {url} /fetched.txt\n")
    return context


def test_an_add_url_stops_the_job_and_nothing_is_fetched(workspace_dir: Path, tmp_path: Path,
                                                         server: CountingServer, docker_client: Any) -> None:
    context = _context(tmp_path, f"{server.url}/file.txt?sv=2021&sig=SECRETSIG")
    job = write_job(tmp_path, JOB)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "add-url", "--stream")
    record = show(workspace_dir, "add-url")
    _remove(docker_client, record.get("image_id"))  # built only if the refusal regressed
    assert result.returncode == 4, result.stderr  # the job could not be started
    error = record["error"]
    assert error.startswith(f"{context / 'Dockerfile'}:3: the build's ADD would fetch "
                            f"'{server.url}/file.txt?<query removed>' from outside this machine"), error
    assert "RUNNER_ALLOW_PULL=1" in error and "COPY" in error
    assert "SECRETSIG" not in error + result.stderr + result.stdout
    assert server.paths == []


def test_the_engine_is_never_asked_to_build(tmp_path: Path, server: CountingServer,
                                            docker_client: Any) -> None:
    context = _context(tmp_path, f"{server.url}/file.txt")
    backend = DockerBackend()
    builds: list[dict[str, Any]] = []
    real = backend.client.images

    class Spy:
        def get(self, name: str) -> Any:
            return real.get(name)

        def build(self, **kwargs: Any) -> Any:
            builds.append(kwargs)
            return real.build(**kwargs)

    backend._client = type("Client", (), {"images": Spy(), "api": backend.client.api})()
    try:
        with pytest.raises(BackendError) as caught:
            backend._build(context, None)
    finally:
        for build in builds:  # built only if the refusal regressed
            _remove(docker_client, build["tag"])
    assert caught.value.where is not None and caught.value.where.line == 3
    assert builds == [] and server.paths == []


def test_with_pulling_allowed_the_engine_fetches_it(workspace_dir: Path, tmp_path: Path,
                                                    server: CountingServer, docker_client: Any) -> None:
    _context(tmp_path, f"{server.url}/file.txt")
    job = write_job(tmp_path, JOB)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "add-url-allowed", "--stream",
                 env={"RUNNER_ALLOW_PULL": "1"})
    image_id = show(workspace_dir, "add-url-allowed").get("image_id")
    try:
        assert result.returncode == 0, result.stderr
        assert server.paths == ["/file.txt"]  # the build's network_mode="none" does not hold for ADD
        assert image_id, result.stdout
        assert _read_file(docker_client, image_id, "/fetched.txt") == server.body
    finally:
        _remove(docker_client, image_id)


def _read_file(docker_client: Any, image: str, path: str) -> str:
    """A file of ``image``, read from a container created (never started) from it."""
    container = docker_client.containers.create(image, ["true"], network_disabled=True)
    try:
        bits, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as archive:
            member = archive.extractfile(archive.getmembers()[0])
            assert member is not None
            return member.read().decode()
    finally:
        container.remove(force=True)


def _remove(docker_client: Any, image: str | None) -> None:
    if image:
        with contextlib.suppress(Exception):
            docker_client.images.remove(image, force=True)
