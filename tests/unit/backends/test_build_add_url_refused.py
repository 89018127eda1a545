"""An environment build (``DockerBackend._build``) whose Dockerfile ``ADD``s a URL is refused before the
engine is asked anything, unless pulling is allowed (``RUNNER_ALLOW_PULL=1``): the engine fetches an ``ADD``
URL itself (the build's ``network_mode="none"`` only holds for its ``RUN`` steps). One error at the
Dockerfile's line, its secrets masked; with pulling allowed the engine builds it as before, and a failed
build's log never shows a URL's secrets. The engine is a fake here; everything is made in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest

from runner.backends.docker import BUILD_TAG_PREFIX, DockerBackend
from runner.errors import BackendError

pytestmark = pytest.mark.timeout(60)

LOCAL = {"runner/busybox:latest": {"Os": "linux", "Architecture": "amd64"}}
SECRET_URL = "https://me:hunter2@example.com/a.tgz?sv=2021&sig=SECRETSIG"


class FakeImages:
    def __init__(self, build_error: Exception | None = None) -> None:
        self.asked: list[str] = []
        self.built: list[dict[str, Any]] = []
        self.build_error = build_error

    def get(self, name: str) -> Any:
        self.asked.append(name)
        if name in LOCAL:
            return SimpleNamespace(id="sha256:local", attrs=LOCAL[name], tags=[name])
        raise docker.errors.ImageNotFound(f"No such image: {name}")

    def build(self, **kwargs: Any) -> tuple[Any, Any]:
        self.built.append(kwargs)
        if self.build_error is not None:
            raise self.build_error
        return SimpleNamespace(id="sha256:built", tags=[kwargs["tag"]]), iter(())


def _backend(*, allow_pull: bool = False, build_error: Exception | None = None) -> tuple[DockerBackend,
                                                                                            FakeImages]:
    backend = DockerBackend(allow_pull=allow_pull)
    images = FakeImages(build_error)
    backend._client = SimpleNamespace(images=images)
    return backend, images


def _context(tmp_path: Path, text: str) -> Path:
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "Dockerfile").write_text(text)
    return context


def test_an_add_url_is_refused_before_the_engine_is_asked(tmp_path: Path) -> None:
    context = _context(tmp_path, f"FROM runner/busybox:latest\nARG SRC={SECRET_URL}\nADD ${{SRC}} /a\n")
    backend, images = _backend()
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    text = caught.value.render()
    assert text.startswith(f"{context / 'Dockerfile'}:3: the build's ADD would fetch 'https://me:***@"
                           "example.com/a.tgz?<query removed>' from outside this machine"), text
    assert "hunter2" not in text and "SECRETSIG" not in text
    assert "RUNNER_ALLOW_PULL=1" in text and "COPY" in text
    assert images.built == [] and _only_the_cache_was_asked(images)


def _only_the_cache_was_asked(images: FakeImages) -> bool:
    """The engine was asked for the build's cached image only (``_build``'s first look-up), no FROM image."""
    return len(images.asked) == 1 and images.asked[0].startswith(BUILD_TAG_PREFIX)


def test_an_add_url_before_a_missing_from_is_still_the_error(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM some/missing:1\nADD git@github.com:moby/buildkit.git /src\n")
    backend, images = _backend()
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    assert caught.value.where is not None and caught.value.where.line == 2
    assert "git@github.com:moby/buildkit.git" in caught.value.message
    assert _only_the_cache_was_asked(images) and images.built == []


def test_with_pulling_allowed_the_engine_fetches_it(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM runner/busybox:latest\nADD https://example.com/a.tgz /a\n")
    backend, images = _backend(allow_pull=True)
    backend._build(context, None)
    assert len(images.built) == 1


def test_a_local_archive_add_builds(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM runner/busybox:latest\nADD app.tar.gz /opt/\n")
    backend, images = _backend()
    backend._build(context, None)
    assert len(images.built) == 1 and images.built[0]["network_mode"] == "none"


def test_a_failed_build_log_never_shows_a_url_secret(tmp_path: Path) -> None:
    context = _context(tmp_path, f"FROM runner/busybox:latest\nADD {SECRET_URL} /a\n")
    log = [{"stream": f"Step 2/2 : ADD {SECRET_URL} /a\n"}, {"error": f"Get {SECRET_URL}: 403 Forbidden\n"}]
    backend, _ = _backend(allow_pull=True, build_error=docker.errors.BuildError(
        f"Get {SECRET_URL}: 403 Forbidden", iter(log)))
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    text = caught.value.render()
    assert "hunter2" not in text and "SECRETSIG" not in text, text
    assert "https://me:***@example.com/a.tgz?<query removed>" in text
