"""A path missing on a datastore caching this machine's files (``simplecache::file:///<folder>``) is said
to be missing when the job is planned (``check=False``: ``job validate``, ``job create``), with the message
the run would fail with, as for a local datastore; a cache over a remote store is still not looked at
when planning. Everything lives in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.registry import _registry

from runner.errors import ResolveError
from runner.modes import PathKind
from runner.workspace.datastores import FsspecDatastore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_text("here\n")
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    found = Resolver(ws)
    found.datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{root}"))
    found.datastores.save(LocalDatastore(name="plain", path=str(root)))
    return found


def _missing(resolver: Resolver, uri: str, *, check: bool) -> ResolveError:
    with pytest.raises(ResolveError) as caught:
        resolver.resolve(uri, field="inputs.d.path", check=check)
    return caught.value


@pytest.mark.parametrize("path", ["missing.txt", "data/missing.txt", "nowhere/deeper/x.csv"])
def test_validate_says_a_cached_path_is_missing_as_the_run_does(resolver: Resolver, path: str) -> None:
    uri = f"azureml://datastores/cached/paths/{path}"
    planned, ran = _missing(resolver, uri, check=False), _missing(resolver, uri, check=True)
    assert planned.render() == ran.render()
    assert f"'{uri}' does not exist" in planned.message and planned.field == "inputs.d.path"


def test_the_message_is_a_local_datastores(resolver: Resolver) -> None:
    cached = _missing(resolver, "azureml://datastores/cached/paths/data/missing.txt", check=False)
    plain = _missing(resolver, "azureml://datastores/plain/paths/data/missing.txt", check=False)
    assert cached.message.replace("cached", "plain") == plain.message
    assert cached.hint == plain.hint and "a.txt" in (cached.hint or "")


def test_a_cached_path_that_exists_still_plans(resolver: Resolver) -> None:
    assert resolver.resolve("azureml://datastores/cached/paths/data/a.txt", check=False).kind is PathKind.FILE


class _Remote(MemoryFileSystem):
    """A store elsewhere (its protocol is none of this machine's): never looked at when planning."""

    protocol = ("s36g-remote",)
    looked: list[str] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return MemoryFileSystem._strip_protocol(str(path).replace("s36g-remote://", "memory://", 1))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        self.looked.append(path)
        return dict(super().info(path, **kwargs))


def test_a_missing_path_on_a_remote_cache_is_not_looked_at_when_planning(
        resolver: Resolver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_registry, "s36g-remote", _Remote)  # fsspec's registry: as it was, afterwards
    resolver.datastores.save(FsspecDatastore(name="remote", url="simplecache::s36g-remote://bucket"))
    found = resolver.resolve("azureml://datastores/remote/paths/missing.txt", check=False)
    assert found.kind is PathKind.ANY and _Remote.looked == []
    _missing(resolver, "azureml://datastores/remote/paths/missing.txt", check=True)
