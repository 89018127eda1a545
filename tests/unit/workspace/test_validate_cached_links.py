"""A datastore caching this machine's files (``simplecache::file:///<folder>``) follows no link below its
folder. Planning (``check=False``: ``job validate``, ``job create``) reads nothing remote, but a cache over
this machine's files is no remote store: a path naming a link there is the same error at planning as when
the job runs (``check=True``), and a cache over a remote store is still not looked at.

Everything lives in this test's tmp_path; the planted links name a decoy there (never followed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.registry import _registry

from runner.errors import RunnerError
from runner.modes import PathKind
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_bytes(b"fine")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "decoy.txt").write_bytes(b"DECOY")
    (root / "out.txt").symlink_to(tmp_path / "outside" / "decoy.txt")  # out of the folder
    (root / "outdir").symlink_to(tmp_path / "outside")
    (root / "in").symlink_to(root / "data")  # inside it: still not followed by such a cache
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    found = Resolver(ws)
    found.datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{root}"))
    return found


def _refusal(resolver: Resolver, path: str, *, check: bool) -> RunnerError:
    with pytest.raises(RunnerError) as caught:
        resolver.resolve(f"azureml://datastores/cached/paths/{path}", field="inputs.d.path", check=check)
    return caught.value


@pytest.mark.parametrize("path", ["out.txt", "outdir", "outdir/decoy.txt", "in", "in/a.txt"])
def test_validate_refuses_a_link_as_the_run_does(resolver: Resolver, path: str) -> None:
    planned, ran = _refusal(resolver, path, check=False), _refusal(resolver, path, check=True)
    assert planned.render() == ran.render()
    assert "is a link" in planned.message and "DECOY" not in planned.render()
    assert planned.hint and "credentials" not in planned.hint


def test_a_cached_path_without_links_still_plans(resolver: Resolver) -> None:
    found = resolver.resolve("azureml://datastores/cached/paths/data/a.txt", check=False)
    assert found.kind is PathKind.FILE
    assert resolver.resolve("azureml://datastores/cached/paths/data", check=False).kind is PathKind.FOLDER


class _Remote(MemoryFileSystem):
    """A store elsewhere (its protocol is none of this machine's): what it holds is never looked at when
    planning."""

    protocol = ("s36c-remote",)
    looked: list[str] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return MemoryFileSystem._strip_protocol(str(path).replace("s36c-remote://", "memory://", 1))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        self.looked.append(path)
        return dict(super().info(path, **kwargs))


def test_a_remote_cache_is_not_looked_at_when_planning(resolver: Resolver, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.setitem(_registry, "s36c-remote", _Remote)  # fsspec's registry: as it was, afterwards
    _Remote().pipe("/bucket/a.txt", b"x")
    resolver.datastores.save(FsspecDatastore(name="remote", url="simplecache::s36c-remote://bucket"))
    found = resolver.resolve("azureml://datastores/remote/paths/a.txt", check=False)
    assert found.kind is PathKind.ANY and _Remote.looked == []
    assert resolver.resolve("azureml://datastores/remote/paths/a.txt", check=True).kind is PathKind.FILE
