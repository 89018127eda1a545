"""Two ways around the ``ADD <url>`` check, refused before the engine fetches anything (real Docker, a
server on this machine's loopback counting requests):

- an ``# escape=`` directive after one this engine does not know (``# check=``): the engine keeps ``\\``
  and runs an ``ADD`` that the declared escape would fold into the line before; the file is read both ways;
- an ``ONBUILD ADD <url>``: refused in the Dockerfile that declares it, and in a base image's triggers
  (``Config.OnBuild``) when a build starts ``FROM`` it, the error naming the base image and the trigger.

Contexts live in ``tmp_path``; images built here are removed by tag."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback_http import CountingServer, counting_server

from runner.backends.context_build import build_image
from runner.errors import BackendError

pytestmark = pytest.mark.docker


@pytest.fixture
def server() -> Iterator[CountingServer]:
    with counting_server(b"hi") as served:
        yield served


@pytest.fixture
def tags(docker_client: Any) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for tag in made:
        with contextlib.suppress(Exception):
            docker_client.images.remove(tag, force=True)


def _context(tmp_path: Path, name: str, text: str) -> Path:
    context = tmp_path / name
    context.mkdir()
    (context / "Dockerfile").write_text(text)
    return context


def _tag(tags: list[str], name: str) -> str:
    tags.append(f"runner-test-s41n/{name}-{uuid.uuid4().hex[:12]}:1")
    return tags[-1]


def test_an_add_behind_an_unknown_directive_is_refused(tmp_path: Path, server: CountingServer,
                                                       docker_client: Any, tags: list[str]) -> None:
    context = _context(tmp_path, "f1", f"# check=skip=all\n# escape=`\nFROM runner/busybox:latest\n"
                                       f"ENV X=y`\nADD {server.url}/x /x\n")
    with pytest.raises(BackendError) as caught:
        build_image(docker_client, context, None, _tag(tags, "f1"), allow_pull=False)
    assert caught.value.where is not None and caught.value.where.line == 5
    assert f"'{server.url}/x'" in caught.value.message
    assert server.paths == []


def test_an_onbuild_add_url_is_refused_here_and_in_a_later_build(tmp_path: Path, server: CountingServer,
                                                                 docker_client: Any, tags: list[str]) -> None:
    text = f"FROM runner/busybox:latest\nONBUILD ADD {server.url}/x /x\n"
    base = _tag(tags, "base")
    with pytest.raises(BackendError) as own:
        build_image(docker_client, _context(tmp_path, "a", text), None, base, allow_pull=False)
    assert own.value.where is not None and own.value.where.line == 2 and "ONBUILD ADD" in own.value.message
    # built without the check (as a user could, by hand): its build fetches nothing, a build FROM it would
    docker_client.images.build(path=str(tmp_path / "a"), tag=base, network_mode="none", pull=False, rm=True,
                               forcerm=True)
    later = _context(tmp_path, "b", f"FROM {base}\nRUN true\n")
    with pytest.raises(BackendError) as caught:
        build_image(docker_client, later, None, _tag(tags, "later"), allow_pull=False)
    err = caught.value
    assert err.where is not None and err.where.line == 1
    assert f"base image '{base}'" in err.message and f"'ADD {server.url}/x /x'" in err.message, err.message
    assert server.paths == []
