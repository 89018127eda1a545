"""A path that does not exist gets a hint naming the nearest existing folder and what it holds; when that
folder is (or lies in) the workspace's secrets folder, or is reached through a link to it, its entries are
never listed (their names say which datastores have which credentials), however the path was written: a
local datastore over the workspace, a local path, a link a job left in a datastore. Other folders are
listed as before. Everything lives in tmp_path; nothing follows a link out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ResolveError
from runner.workspace.datastores import FsspecDatastore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

SECRET_NAME = "mystore-account-key-name"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    (workspace.secrets_dir / SECRET_NAME).write_text("k")
    (workspace.secrets_dir / "sub").mkdir()
    return workspace


def _hint(resolver: Resolver, path: str) -> str:
    with pytest.raises(ResolveError) as info:
        resolver.resolve(path, field="inputs.d.path")
    err = info.value
    assert "does not exist" in err.message and err.field == "inputs.d.path"
    return err.hint or ""


def _paths(ws: Workspace, tmp_path: Path) -> list[str]:
    store = tmp_path / "store"
    store.mkdir()
    (store / "keys").symlink_to(ws.secrets_dir)  # a link a job may have left in a datastore
    resolver = Resolver(ws)
    resolver.datastores.save(LocalDatastore(name="over", path=str(ws.root)))
    resolver.datastores.save(LocalDatastore(name="store", path=str(store)))
    resolver.datastores.save(FsspecDatastore(name="files", url=f"file://{ws.root}"))
    return ["azureml://datastores/over/paths/secrets/x.json",
            "azureml://datastores/over/paths/secrets/sub/deeper/x.json",
            f"{ws.secrets_dir}/x.json",
            f"file://{ws.secrets_dir}/x.json",
            "azureml://datastores/store/paths/keys/x.json",
            "azureml://datastores/files/paths/secrets/x.json"]


def test_a_missing_path_in_the_secrets_folder_lists_no_entry(ws: Workspace, tmp_path: Path) -> None:
    resolver = Resolver(ws)
    for path in _paths(ws, tmp_path):
        hint = _hint(resolver, path)
        assert SECRET_NAME not in hint and "datastore-" not in hint, (path, hint)
        assert "contains:" not in hint, (path, hint)
        assert "not listed" in hint and "check the path" in hint, (path, hint)


def test_other_folders_are_listed_as_before(ws: Workspace, tmp_path: Path) -> None:
    resolver = Resolver(ws)
    resolver.datastores.save(LocalDatastore(name="over", path=str(ws.root)))
    (ws.root / "data").mkdir()
    (ws.root / "data" / "a.csv").write_text("1")
    assert "contains: a.csv" in _hint(resolver, "azureml://datastores/over/paths/data/b.csv")
    hint = _hint(resolver, "azureml://datastores/over/paths/nothing-here.csv")  # the workspace root
    assert "contains:" in hint and "secrets" in hint and SECRET_NAME not in hint
