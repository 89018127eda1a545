"""Registering a model never fails half-way (issue 20): a version too large for the registry is
refused before anything is copied, and a version whose row cannot be written leaves no copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runner.errors import SpecError, StorageError
from runner.spec.model import Model
from runner.spec.names import MAX_NUMERIC_VERSION
from runner.workspace.db import Workspace
from runner.workspace.registry import ModelRegistry


def _local_upload(ws: Workspace) -> list[Path]:
    return sorted(p for p in ws.root.rglob("*") if "LocalUpload" in p.parts and p.is_file())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "model.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    return path


@pytest.mark.parametrize("version", [str(10**30), str(MAX_NUMERIC_VERSION + 1)])
def test_a_version_too_large_is_refused_before_anything_is_copied(tmp_path: Path, source: Path,
                                                                  version: str) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(SpecError) as err:
        ModelRegistry(ws).create(Model(name="big", version=version, path=str(source)))
    assert "too large" in err.value.message and err.value.field == "version"
    assert _local_upload(ws) == []


def test_the_largest_version_registers_and_the_next_is_numbered(tmp_path: Path, source: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    registry = ModelRegistry(ws)
    created = registry.create(Model(name="big", version=str(MAX_NUMERIC_VERSION), path=str(source)))
    assert created.version == str(MAX_NUMERIC_VERSION)
    assert registry.next_version("big") == str(MAX_NUMERIC_VERSION + 1)


def test_a_row_that_cannot_be_written_leaves_no_copy(tmp_path: Path, source: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    registry = ModelRegistry(ws)

    def failing_insert(*_args: object, **_kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(registry, "insert_version", failing_insert)
    with pytest.raises(StorageError):  # (the workspace says its database failed)
        registry.create(Model(name="m", version="1", path=str(source)))
    assert _local_upload(ws) == []
    monkeypatch.undo()
    assert registry.create(Model(name="m", version="1", path=str(source))).version == "1"  # and it can
