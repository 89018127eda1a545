"""``context_build.build_image`` reads each local base image's ``ONBUILD`` triggers (``Config.OnBuild``: they
run in this build, right after its ``FROM``): a trigger that ``ADD``s a URL is refused before the build
(the error names the base image, the trigger and the Dockerfile's FROM line), and an image a trigger's
``COPY --from`` names must be local. The engine is a fake; contexts live in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest

from runner.backends.context_build import build_image
from runner.errors import BackendError

pytestmark = pytest.mark.timeout(60)

PLATFORM = {"Os": "linux", "Architecture": "amd64"}


class FakeImages:
    def __init__(self, local: dict[str, dict[str, Any]]) -> None:
        self.local = local
        self.built: list[dict[str, Any]] = []

    def get(self, name: str) -> Any:
        if name in self.local:
            return SimpleNamespace(id="sha256:local", attrs=self.local[name], tags=[name])
        raise docker.errors.ImageNotFound(f"No such image: {name}")

    def build(self, **kwargs: Any) -> tuple[Any, Any]:
        self.built.append(kwargs)
        return SimpleNamespace(id="sha256:built", tags=[kwargs["tag"]]), iter(())


def _base(*triggers: str, env: list[str] | None = None) -> dict[str, Any]:
    return {**PLATFORM, "Config": {"OnBuild": list(triggers), "Env": env or ["PATH=/bin"]}}


def _build(tmp_path: Path, local: dict[str, dict[str, Any]], *, allow_pull: bool = False) -> FakeImages:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("# the app\nFROM team/base:1\nRUN true\n")
    images = FakeImages(local)
    build_image(SimpleNamespace(images=images), context, None, "t", allow_pull=allow_pull)
    return images


def test_a_base_image_trigger_adding_a_url_is_refused(tmp_path: Path) -> None:
    local = {"team/base:1": _base("RUN true", "ADD https://me:hunter2@example.com/x?sig=SECRETSIG /x")}
    with pytest.raises(BackendError) as caught:
        _build(tmp_path, local)
    err = caught.value
    assert err.where is not None and err.where.line == 2
    text = err.render()
    assert "base image 'team/base:1'" in text and "ONBUILD" in text
    assert "'ADD https://me:***@example.com/x?<query removed> /x'" in text, text
    assert "hunter2" not in text and "SECRETSIG" not in text and "RUNNER_ALLOW_PULL=1" in text


def test_a_trigger_url_from_the_base_image_s_env_is_refused(tmp_path: Path) -> None:
    local = {"team/base:1": _base("ADD $SRC /x", env=["SRC=https://example.com/s.tgz"])}
    with pytest.raises(BackendError) as caught:
        _build(tmp_path, local)
    assert "https://example.com/s.tgz" in caught.value.message


def test_a_trigger_copy_from_a_missing_image_is_refused(tmp_path: Path) -> None:
    local = {"team/base:1": _base("COPY --from=other/tools:2 /t /t")}
    with pytest.raises(BackendError) as caught:
        _build(tmp_path, local)
    err = caught.value
    assert err.where is not None and err.where.line == 2
    assert "'other/tools:2'" in err.message and "base image 'team/base:1'" in err.message
    assert "not available locally" in err.message


def test_local_triggers_build(tmp_path: Path) -> None:
    local = {"team/base:1": _base("ADD app.tgz /app", "COPY --from=other/tools:2 /t /t", env=["SRC=x.tgz"]),
             "other/tools:2": dict(PLATFORM)}
    assert len(_build(tmp_path, local).built) == 1


def test_with_pulling_allowed_triggers_are_not_read(tmp_path: Path) -> None:
    local = {"team/base:1": _base("ADD https://example.com/x /x")}
    assert len(_build(tmp_path, local, allow_pull=True).built) == 1
