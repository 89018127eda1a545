"""An environment build (``DockerBackend._build``) never makes the engine pull: unless pulling is allowed,
every image its Dockerfile names (``FROM``, ``COPY --from``) must be local before the build starts, else one
error at the Dockerfile's line, as for a missing plain image. The Dockerfile is read inside the build
context only (a planted link never leads out of it), bounded, never blocking. A failed build is one short
message with a hint. The engine is a fake here; everything is made in ``tmp_path``."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest

from runner.backends.context_build import MAX_DOCKERFILE
from runner.backends.docker import DockerBackend
from runner.errors import BackendError

pytestmark = pytest.mark.timeout(60)

AMD64 = {"Os": "linux", "Architecture": "amd64"}
HINT_PULL = "RUNNER_ALLOW_PULL=1"


class FakeImages:
    def __init__(self, local: dict[str, dict[str, str]], build_error: Exception | None = None) -> None:
        self.local = local
        self.asked: list[str] = []
        self.built: list[dict[str, Any]] = []
        self.build_error = build_error

    def get(self, name: str) -> Any:
        self.asked.append(name)
        if name in self.local:
            return SimpleNamespace(id=f"sha256:{len(name)}", attrs=self.local[name], tags=[name])
        raise docker.errors.ImageNotFound(f"No such image: {name}")

    def build(self, **kwargs: Any) -> tuple[Any, Any]:
        self.built.append(kwargs)
        if self.build_error is not None:
            raise self.build_error
        return SimpleNamespace(id="sha256:built", tags=[kwargs["tag"]]), iter(())


def _backend(local: dict[str, dict[str, str]], *, allow_pull: bool = False,
             build_error: Exception | None = None) -> tuple[DockerBackend, FakeImages]:
    backend = DockerBackend(allow_pull=allow_pull)
    images = FakeImages(local, build_error)
    backend._client = SimpleNamespace(images=images)
    return backend, images


def _context(tmp_path: Path, text: str, name: str = "Dockerfile") -> Path:
    context = tmp_path / "docker-context"
    context.mkdir(exist_ok=True)
    (context / name).write_text(text)
    return context


def test_a_from_image_that_is_not_local_is_refused_before_the_build(tmp_path: Path) -> None:
    context = _context(tmp_path, "# R\nARG BASE=rocker/tidyverse:latest\nFROM ${BASE}\nRUN R -e 'x'\n")
    backend, images = _backend({"runner/busybox:latest": AMD64})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    text = caught.value.render()
    assert text.startswith(f"{context / 'Dockerfile'}:3: image 'rocker/tidyverse:latest' (the build's FROM) "
                           "is not available locally (pulling is disabled)\n  hint: "), text
    assert HINT_PULL in text and "`docker images`" in text
    assert images.built == []


def test_a_copy_from_image_that_is_not_local_is_refused(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM runner/busybox:latest AS a\nCOPY --from=a /x /y\n"
                                 "COPY --from=nginx:1 /etc/nginx /n\n")
    backend, images = _backend({"runner/busybox:latest": AMD64})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    assert caught.value.where is not None and caught.value.where.line == 3
    assert "image 'nginx:1' (the build's COPY --from) is not available locally" in caught.value.message
    assert images.built == []


def test_local_images_build_with_no_network_and_no_pull(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM --platform=linux/x86_64 runner/busybox:latest AS b\nFROM b\n",
                       name="Other.dockerfile")
    backend, images = _backend({"runner/busybox:latest": AMD64})
    backend._build(context, "Other.dockerfile")
    assert len(images.built) == 1
    assert images.built[0]["network_mode"] == "none" and images.built[0]["pull"] is False
    assert images.built[0]["dockerfile"] == "Other.dockerfile"
    assert "runner/busybox:latest" in images.asked


def test_a_local_image_for_another_platform_is_refused(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM --platform=linux/arm64 runner/busybox:latest\n")
    backend, images = _backend({"runner/busybox:latest": AMD64})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    assert caught.value.message == ("image 'runner/busybox:latest' is local for linux/amd64, not for "
                                    "linux/arm64 (the build's FROM --platform), and pulling is disabled")
    assert images.built == []


def test_with_pulling_allowed_the_engine_decides(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM rocker/tidyverse:latest\n")
    backend, images = _backend({}, allow_pull=True)
    backend._build(context, None)
    assert len(images.built) == 1 and "rocker/tidyverse:latest" not in images.asked


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM outside/secret:1\n")
    return outside


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_a_dockerfile_linked_out_of_the_context_is_never_read(tmp_path: Path, how: str) -> None:
    outside = _outside(tmp_path)
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "Dockerfile").symlink_to("../outside/Dockerfile" if how == "relative"
                                        else outside / "Dockerfile")
    backend, images = _backend({})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    text = caught.value.render()
    assert f"the build context {context} has no readable Dockerfile" in text, text
    assert "outside/secret" not in text and images.asked[1:] == [] and images.built == []


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_a_folder_linked_out_of_the_context_is_never_entered(tmp_path: Path, how: str) -> None:
    outside = _outside(tmp_path)
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "sub").symlink_to("../../outside" if how == "relative" else outside)
    backend, images = _backend({})
    with pytest.raises(BackendError) as caught:
        backend._build(context, "sub/Dockerfile")
    assert "has no readable sub/Dockerfile" in caught.value.message
    assert "outside/secret" not in caught.value.render() and images.built == []


def test_a_link_inside_the_context_is_followed_inside_it(tmp_path: Path) -> None:
    context = _context(tmp_path, "\nFROM inside/missing:1\n", name="real.dockerfile")
    (context / "docker").mkdir()
    (context / "docker" / "Dockerfile").symlink_to("/real.dockerfile")  # the context is its root
    (context / "Dockerfile").symlink_to("docker/../docker/Dockerfile")
    backend, _ = _backend({})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    where = caught.value.where
    assert where is not None and where.file == context / "real.dockerfile" and where.line == 2


def test_a_fifo_dockerfile_is_not_opened_for_a_blocking_read(tmp_path: Path) -> None:
    context = tmp_path / "docker-context"
    context.mkdir()
    os.mkfifo(context / "Dockerfile")
    backend, images = _backend({})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    assert "has no readable Dockerfile (it is not a regular file)" in caught.value.message
    assert images.built == []


def test_an_oversized_dockerfile_is_one_error(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM runner/busybox:latest\n" + "#" * MAX_DOCKERFILE + "\n")
    backend, images = _backend({"runner/busybox:latest": AMD64})
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    assert "is larger than 1 MiB" in caught.value.message and images.built == []


def test_a_failed_build_is_one_short_message_with_a_hint(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM runner/busybox:latest\nRUN pip install x\n")
    dump = ('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on '
            '127.0.0.53:53: server misbehaving\n')
    log = [{"stream": "Step 1/2 : FROM runner/busybox:latest\n"}, {"stream": "\n"},
           {"stream": "Step 2/2 : RUN pip install x\n"}, {"stream": "\x1b[91mno network \x1b[0m\n"},
           {"error": dump}]
    backend, _ = _backend({"runner/busybox:latest": AMD64},
                          build_error=docker.errors.BuildError(dump, iter(log)))
    with pytest.raises(BackendError) as caught:
        backend._build(context, None)
    err = caught.value
    assert err.message == f"building the environment from {context} failed: {dump.strip()}"
    assert err.hint is not None and err.hint.startswith("the build has no network")
    assert HINT_PULL in err.hint
    assert err.hint.endswith("build log tail:\n    Step 1/2 : FROM runner/busybox:latest\n    "
                             f"Step 2/2 : RUN pip install x\n    no network\n    {dump.strip()}")


def test_an_absolute_dockerfile_path_inside_the_context_is_read(tmp_path: Path) -> None:
    context = _context(tmp_path, "FROM inside/missing:1\n", name="Build.dockerfile")
    backend, images = _backend({})
    with pytest.raises(BackendError) as caught:
        backend._build(context, str(context / "Build.dockerfile"))
    where = caught.value.where
    assert where is not None and where.file == context / "Build.dockerfile" and where.line == 1


def test_a_dockerfile_path_climbing_out_of_the_context_is_refused_unread(tmp_path: Path) -> None:
    _outside(tmp_path)
    context = _context(tmp_path, "FROM runner/busybox:latest\n")
    backend, images = _backend({"runner/busybox:latest": AMD64})
    with pytest.raises(BackendError) as caught:
        backend._build(context, "../outside/Dockerfile")
    assert caught.value.message == (f"the Dockerfile '../outside/Dockerfile' is outside the build context "
                                    f"{context}")
    assert images.built == [] and "outside/secret" not in caught.value.render()
