"""Archiving a whole model or data asset keeps each version's own archive choice (as Azure keeps the
container's flag and each version's apart): while the asset is archived every version shows archived and
a version made meanwhile is born archived; restoring the asset brings back the versions its archive hid
(and those born under it) and leaves the versions archived on their own archived. Through the stores,
the Python API and the registry namespaces alike; a workspace written by an older runner (every version
flag rewritten by a whole-asset archive) keeps restoring as it did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.client import MLClient
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import Workspace
from runner.workspace.registry import DataRegistry, ModelRegistry
from runner.workspace.schema import SCHEMA_VERSION

KINDS = ["model", "data"]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    return folder


def _store(ws: Workspace, kind: str, registry_name: str | None = None) -> ModelRegistry | DataRegistry:
    return ModelRegistry(ws, registry_name=registry_name) if kind == "model" else \
        DataRegistry(ws, registry_name=registry_name)


def _create(store: ModelRegistry | DataRegistry, source: Path, name: str = "x") -> Any:
    if isinstance(store, ModelRegistry):
        return store.create(Model(name=name, path=str(source)))
    return store.create(Data(name=name, path=str(source), type="uri_folder"))


def _flags(store: ModelRegistry | DataRegistry, name: str = "x") -> dict[str, bool]:
    return {v.version or "": v.archived for v in store.list(name, include_archived=True)}


@pytest.mark.parametrize("registry_name", [None, "shared"])
@pytest.mark.parametrize("kind", KINDS)
def test_restoring_the_asset_keeps_a_version_archived_on_its_own(tmp_path: Path, source: Path, kind: str,
                                                                 registry_name: str | None) -> None:
    store = _store(Workspace(tmp_path / "ws"), kind, registry_name)
    for _ in range(3):
        _create(store, source)
    store.archive("x", "2")
    store.archive("x")
    assert store.list("x") == [] and store.list() == []
    assert _flags(store) == {"3": True, "2": True, "1": True}  # every version shows archived
    assert all(store.get("x", version=v).archived for v in ("1", "2", "3"))
    assert [p.version for p in store.page("x", archived_only=True).items] == ["3", "2", "1"]
    born = _create(store, source)
    assert born.version == "4" and born.archived  # made under the archived asset
    store.restore("x")
    assert [v.version for v in store.list("x")] == ["4", "3", "1"]  # version 2 was archived on its own
    assert _flags(store) == {"4": False, "3": False, "2": True, "1": False}
    assert store.get("x", version="2").archived and store.get("x", label="latest").version == "4"
    assert [p.version for p in store.page("x").items] == ["4", "3", "1"]
    assert [p.version for p in store.page("x", archived_only=True).items] == ["2"]
    assert [(a.name, a.version) for a in store.list()] == [("x", "4")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_version_archived_while_its_asset_is_archived_stays_archived(tmp_path: Path, source: Path,
                                                                       kind: str) -> None:
    store = _store(Workspace(tmp_path / "ws"), kind)
    for _ in range(2):
        _create(store, source)
    store.archive("x")
    born = _create(store, source)
    assert born.archived and store.archived_at_birth("x", "3")
    store.archive("x", "1")  # archived on its own too, while its asset is
    store.archive("x", "3")  # born archived, then archived by hand: that is now its own choice
    assert not store.archived_at_birth("x", "3")
    store.restore("x")
    assert _flags(store) == {"3": True, "2": False, "1": True}
    store.archive("x")  # archiving and restoring the asset again changes no version's own choice
    store.restore("x")
    assert _flags(store) == {"3": True, "2": False, "1": True}
    store.restore("x", "1")
    assert _flags(store) == {"3": True, "2": False, "1": False}


@pytest.mark.parametrize("kind", KINDS)
def test_the_python_api_keeps_the_choices_too(tmp_path: Path, source: Path, kind: str) -> None:
    client = MLClient(workspace_dir=tmp_path / "ws")
    operations: Any = client.models if kind == "model" else client.data
    for _ in range(3):
        operations.create_or_update(Model(name="x", path=str(source)) if kind == "model"
                                    else Data(name="x", path=str(source), type="uri_folder"))
    operations.archive("x", version="2")
    operations.archive("x")
    assert [v.version for v in operations.list("x")] == []
    operations.restore("x")
    assert [v.version for v in operations.list("x")] == ["3", "1"]
    assert operations.get("x", version="2").archived


@pytest.mark.parametrize("kind", KINDS)
def test_an_older_workspace_with_an_archived_asset_restores_every_version(tmp_path: Path, source: Path,
                                                                          kind: str) -> None:
    ws = Workspace(tmp_path / "ws")
    store = _store(ws, kind)
    for name in ("x", "y"):
        for _ in range(2):
            _create(store, source, name)
    table, containers = store.table.versions, store.table.containers
    with ws.transaction() as conn:  # as schema 7 left them: 'x' archived whole (every version's flag
        # rewritten), version 1 of 'y' archived on its own
        conn.execute(f"UPDATE {containers} SET archived = 1 WHERE name = 'x'")
        conn.execute(f"UPDATE {table} SET archived = 1 WHERE name = 'x'")
        conn.execute(f"UPDATE {table} SET archived = 1 WHERE name = 'y' AND version = '1'")
    with ws.reading() as conn:
        conn.execute("PRAGMA user_version=7")
    reopened = _store(Workspace(tmp_path / "ws"), kind)
    with reopened.workspace.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # migrated
    assert [a.name for a in reopened.list()] == ["y"]  # 'x' still archived
    reopened.restore("x")  # as the older runner did: its per-version choices were not kept
    assert _flags(reopened) == {"2": False, "1": False}
    reopened.archive("y")
    reopened.restore("y")
    assert _flags(reopened, "y") == {"2": False, "1": True}  # archived on its own before: kept
