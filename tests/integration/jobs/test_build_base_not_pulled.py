"""An environment build never pulls (real Docker; nothing can be pulled here anyway): a build context whose
``FROM`` is local builds; one whose ``FROM`` is not (azureml-examples' ``FROM rocker/tidyverse:latest``) is
refused before the build starts, with the missing-image error at the Dockerfile's line, and the job could
not be started (exit 4). Contexts live in ``tmp_path``; an image built here is removed."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, job_log, show, write_job

from runner.backends.docker import DockerBackend
from runner.errors import BackendError

pytestmark = pytest.mark.docker

JOB = """
    command: cat /marker
    environment:
      build:
        path: docker-context
    """


@pytest.fixture(autouse=True)
def no_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_ALLOW_PULL", raising=False)


def test_a_local_from_image_builds(workspace_dir: Path, tmp_path: Path, docker_client: Any) -> None:
    marker = uuid.uuid4().hex  # a context built nowhere before: this job builds it
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"ARG BASE=runner/busybox\nFROM ${{BASE}}:latest\n"
                                        f"RUN echo {marker} > /marker\n")
    job = write_job(tmp_path, JOB)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "local-base", "--stream")
    image_id = show(workspace_dir, "local-base").get("image_id")
    try:
        assert result.returncode == 0, result.stderr
        assert job_log(result.stdout).strip() == marker
    finally:
        if image_id:
            with contextlib.suppress(Exception):
                docker_client.images.remove(image_id, force=True)


def test_a_missing_from_image_stops_the_job_before_the_build(workspace_dir: Path, tmp_path: Path) -> None:
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "Dockerfile").write_text("# accidents, as in azureml-examples\nFROM some/missing:tag\n"
                                        "RUN echo never\n")
    job = write_job(tmp_path, JOB)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "missing-base", "--stream")
    assert result.returncode == 4, result.stderr  # the job could not be started
    error = show(workspace_dir, "missing-base")["error"]
    assert error.startswith(f"{context / 'Dockerfile'}:2: image 'some/missing:tag' (the build's FROM) is "
                            "not available locally (pulling is disabled)\n  hint: "), error
    assert "RUNNER_ALLOW_PULL=1" in error and "registry" not in error


def test_the_engine_is_never_asked_to_build(tmp_path: Path, docker_client: Any) -> None:
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM runner/busybox:latest AS tools\n"
                                        "FROM --platform=linux/amd64 some/missing:tag\n"
                                        "COPY --from=tools /bin/busybox /busybox\n")
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
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    assert caught.value.where is not None and caught.value.where.line == 2
    assert "image 'some/missing:tag'" in caught.value.message
    assert builds == []
