"""The workspace records the oldest schema a runner must know to write it (its minimum reader, the ``meta``
table's ``min_reader_version``). A runner whose schema is older refuses the workspace with one error (what,
where, how to fix) before it writes anything; a workspace of a newer schema whose minimum reader this runner
meets opens as usual (a forward-compatible addition). Databases built by hand in tmp_path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import StorageError
from runner.spec.model import Model
from runner.workspace.db import Workspace
from runner.workspace.registry import ModelRegistry
from runner.workspace.schema import MIN_READER_VERSION, SCHEMA_VERSION


def _read(db: Path) -> tuple[int, int | None, list[str]]:
    """The database's user_version, recorded minimum reader (None: none) and table names."""
    with sqlite3.connect(db) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        floor = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'min_reader_version'").fetchone()
            floor = None if row is None else int(row[0])
    conn.close()
    return version, floor, tables


def _newer_by_hand(root: Path, *, version: int, floor: int) -> Path:
    """A workspace folder whose database only a newer runner wrote: its version and minimum reader."""
    root.mkdir()
    db = root / "runner.db"
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                       "CREATE TABLE things_of_the_future (x TEXT);")
    conn.execute("INSERT INTO meta (key, value) VALUES ('min_reader_version', ?)", (floor,))
    conn.execute(f"PRAGMA user_version={version}")
    conn.commit()
    conn.close()
    return db


def test_a_new_workspace_records_its_minimum_reader(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    assert MIN_READER_VERSION == 8  # an older runner rewrites every version's flag on a whole-asset archive
    assert _read(ws.db_path)[:2] == (SCHEMA_VERSION, MIN_READER_VERSION)


@pytest.mark.parametrize("older", [7, SCHEMA_VERSION])
def test_a_workspace_migrated_to_8_records_it(tmp_path: Path, older: int) -> None:
    """An older schema (7), and a schema-8 database written before the record existed, gain it."""
    ws = Workspace(tmp_path / "ws")
    with ws.reading() as conn:
        conn.execute("DROP TABLE meta")
        conn.execute(f"PRAGMA user_version={older}")
    ws._forget_connection()
    assert _read(ws.db_path)[:2] == (older, None)
    Workspace(tmp_path / "ws")
    assert _read(ws.db_path)[:2] == (SCHEMA_VERSION, MIN_READER_VERSION)


def test_a_workspace_needing_a_newer_runner_is_refused_untouched(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    db = _newer_by_hand(root, version=SCHEMA_VERSION + 2, floor=SCHEMA_VERSION + 1)
    with pytest.raises(StorageError) as caught:
        Workspace(root)
    err = caught.value
    cli = err.render()
    assert str(root) in err.message
    assert "newer runner" in err.message
    assert f"schema {SCHEMA_VERSION + 2}" in err.message
    assert f"knows schema {SCHEMA_VERSION + 1}" in err.message
    assert f"this runner knows schema {SCHEMA_VERSION}" in err.message
    assert "pip install -U runner" in cli and "--workspace" in cli
    python = str(err)
    assert "pip install -U runner" in python and "MLClient(workspace_dir=" in python
    assert "--workspace" not in python
    assert err.exit_code == 1  # as the other workspace errors ("cannot use workspace directory ...")
    # nothing written: no table of this runner's made, the version and the minimum reader kept
    assert _read(db) == (SCHEMA_VERSION + 2, SCHEMA_VERSION + 1, ["meta", "things_of_the_future"])


def test_the_python_api_says_it_in_python_words(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _newer_by_hand(root, version=SCHEMA_VERSION + 1, floor=SCHEMA_VERSION + 1)
    with pytest.raises(StorageError, match="newer runner") as caught:
        MLClient(workspace_dir=root)
    assert "MLClient(workspace_dir=" in str(caught.value)


def test_a_newer_schema_this_runner_may_write_opens(tmp_path: Path) -> None:
    """A newer runner that added only what older ones may ignore keeps the minimum reader at ours."""
    ws = Workspace(tmp_path / "ws")
    with ws.reading() as conn:
        conn.execute("CREATE TABLE things_of_the_future (x TEXT)")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    ws._forget_connection()
    reopened = Workspace(tmp_path / "ws")
    source = tmp_path / "model.txt"
    source.write_text("weights\n")
    registry = ModelRegistry(reopened)
    registry.create(Model(name="m", path=str(source)))
    assert [m.name for m in registry.list()] == ["m"]
    version, floor, tables = _read(reopened.db_path)
    assert (version, floor) == (SCHEMA_VERSION + 1, MIN_READER_VERSION)  # not lowered, nor migrated
    assert "things_of_the_future" in tables
