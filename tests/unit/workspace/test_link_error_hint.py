"""A link a datastore caching this machine's files does not read (``host_cache.LinkNotRead``) is one
error that says so in full and gives the link's fix, once: not the "credentials and endpoint" hint of a
storage failure, and not the fix twice (once in the message, once as the hint).

Everything lives in this test's tmp_path; the planted link names a decoy there (never followed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import RunnerError
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.host_cache import NoLinksFileSystem
from runner.workspace.resolve import Resolver
from runner.workspace.storage_errors import storage_error


def _planted(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "decoy.txt").write_bytes(b"DECOY")
    link = root / "data" / ("x" * 150 + ".txt")  # a long name: the whole message is kept
    link.symlink_to(tmp_path / "outside" / "decoy.txt")
    return root, link


def _check(err: RunnerError, link: Path) -> None:
    text = err.render()
    assert str(link) in err.message and "is a link" in err.message
    assert err.hint is not None and "credentials" not in err.hint and "link" in err.hint
    assert text.count("replace") == 1, text  # the fix once
    assert "DECOY" not in text


def test_storage_error_gives_a_link_its_own_hint(tmp_path: Path) -> None:
    root, link = _planted(tmp_path)
    with pytest.raises(OSError) as caught:
        NoLinksFileSystem(root=str(root)).info(str(link))
    _check(storage_error(caught.value, "azureml://datastores/c/paths/data/x.txt"), link)


def test_a_cached_datastore_path_naming_a_link_is_one_error_with_the_link_hint(tmp_path: Path) -> None:
    root, link = _planted(tmp_path)
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{root}"))
    with pytest.raises(RunnerError) as caught:
        resolver.resolve(f"azureml://datastores/cached/paths/data/{link.name}", field="inputs.d.path")
    _check(caught.value, link)
