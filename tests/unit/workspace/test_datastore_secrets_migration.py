"""A workspace saved by a runner older than the masking of nested fsspec secrets (a datastore row whose
``storage_options`` keep ``client_kwargs.headers.Authorization`` or ``passwd`` in plain text) is cleaned
when it is opened: the row keeps only the masked copy (as a re-save would write it), the secrets file
keeps the real values (written from the row when it had none), and neither ``runner.db`` nor its WAL
holds the plaintext any more. The datastore still works: its secrets resolve."""

from __future__ import annotations

import json
import logging
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from runner.workspace import datastore_secrets
from runner.workspace.datastore_secrets import mask_old_rows
from runner.workspace.datastores import DatastoreStore, FsspecDatastore
from runner.workspace.db import Workspace

BEARER = "Bearer oldplaintextbearer0451"
PASSWD = "oldplaintextpasswd0452"
SECRETS = (b"oldplaintextbearer0451", b"oldplaintextpasswd0452")


def _options(top_level_password: str) -> dict[str, Any]:
    return {"client_kwargs": {"headers": {"Authorization": BEARER, "Accept": "application/json"}},
            "passwd": PASSWD, "password": top_level_password, "anon": False}


def _old_row() -> dict[str, Any]:
    """What ``public_dict`` wrote before nested masking: top-level secret-looking keys only."""
    return {"name": "old", "type": "fsspec", "url": "https://127.0.0.1:9/data",
            "storage_options": _options("***")}


def _bytes(ws_root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (ws_root / "runner.db", ws_root / "runner.db-wal") if p.exists())


@pytest.fixture
def old_workspace(tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    """A workspace whose datastore row was written (twice, as two saves would) with plaintext secrets;
    the writer stays open, so the WAL with the old frames is there when the workspace is opened."""
    root = tmp_path / "ws"
    Workspace(root)._forget_connection()
    writer = sqlite3.connect(root / "runner.db", isolation_level=None)
    first = {**_old_row(), "description": "first save"}
    writer.execute("INSERT INTO datastores (name, type, config, created_at) VALUES ('old', 'fsspec', ?, "
                   "'2026-01-01T00:00:00+00:00')", (json.dumps(first),))
    writer.execute("UPDATE datastores SET config = ? WHERE name = 'old'", (json.dumps(_old_row()),))
    assert all(secret in _bytes(root) for secret in SECRETS)  # the test starts where the defect is
    return root, writer


def _check_cleaned(root: Path) -> FsspecDatastore:
    ws = Workspace(root)
    for secret in SECRETS:
        assert secret not in _bytes(root), secret
    with ws.reading() as conn:
        row = json.loads(conn.execute("SELECT config FROM datastores WHERE name = 'old'").fetchone()[0])
    assert row["storage_options"]["client_kwargs"]["headers"] == {"Authorization": "***",
                                                                  "Accept": "application/json"}
    assert row["storage_options"]["passwd"] == "***" and row["storage_options"]["anon"] is False
    secret_file = ws.secrets_dir / "datastore-old.json"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    ds = DatastoreStore(ws).get("old")
    assert isinstance(ds, FsspecDatastore)
    assert ds.storage_options["client_kwargs"]["headers"]["Authorization"] == BEARER  # still resolves
    assert ds.storage_options["passwd"] == PASSWD
    assert json.loads(ds.env_for_direct()["FSSPEC_HTTPS"])["passwd"] == PASSWD
    return ds


def test_an_old_row_is_masked_and_its_secrets_file_kept(
        old_workspace: tuple[Path, sqlite3.Connection]) -> None:
    root, writer = old_workspace
    secret_file = root / "secrets" / "datastore-old.json"
    secret_file.write_text(json.dumps({**_old_row(), "storage_options": _options("realpassword")}))
    secret_file.chmod(0o600)
    ds = _check_cleaned(root)
    assert ds.storage_options["password"] == "realpassword"  # the secrets file was the truth, and is kept
    writer.close()
    _check_cleaned(root)  # opening again changes nothing


def test_an_old_row_without_a_secrets_file_moves_its_secrets_there(
        old_workspace: tuple[Path, sqlite3.Connection]) -> None:
    root, writer = old_workspace
    assert not (root / "secrets" / "datastore-old.json").exists()
    ds = _check_cleaned(root)
    assert ds.storage_options["password"] == "***"  # what the row had: it was all there was
    writer.close()


def test_where_freed_space_is_not_zeroed_the_database_is_vacuumed(tmp_path: Path) -> None:
    """An SQLite built without secure_delete left a deleted row's bytes in free space: they go too."""
    root = tmp_path / "ws"
    Workspace(root)._forget_connection()
    writer = sqlite3.connect(root / "runner.db", isolation_level=None)
    writer.execute("PRAGMA secure_delete=OFF")
    for name, padding in (("gone", "x" * 20_000), ("old", "")):  # gone's fills pages of its own
        row = {**_old_row(), "name": name, "description": padding}
        writer.execute("INSERT INTO datastores (name, type, config, created_at) VALUES (?, 'fsspec', ?, "
                       "'2026-01-01T00:00:00+00:00')", (name, json.dumps(row)))
    writer.execute("DELETE FROM datastores WHERE name = 'gone'")  # its pages are only put on the free list
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert all(secret in _bytes(root) for secret in SECRETS)
    assert mask_old_rows(writer, root / "secrets") == ["old"]
    writer.close()
    for secret in SECRETS:
        assert secret not in _bytes(root), secret
    with sqlite3.connect(root / "runner.db") as check:
        assert [r[0] for r in check.execute("SELECT name FROM datastores ORDER BY name")] == \
            ["old", "workspaceblobstore"]



def test_a_workspace_another_process_cleaned_meanwhile_is_left_alone(
        old_workspace: tuple[Path, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Two processes open the workspace together and both see the old row: the one that takes the lock
    second finds it masked and does nothing more (no vacuum, no WAL truncation, no log naming nothing)."""
    root, writer = old_workspace
    real_unmasked = datastore_secrets._unmasked
    seen: list[list[str]] = []
    scrubs: list[bool] = []

    def racing(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
        found = real_unmasked(conn)
        seen.append(list(found))
        if len(seen) == 1:  # the other process masks the row between this one's first look and its lock
            for name, (_row, public) in real_unmasked(writer).items():
                writer.execute("UPDATE datastores SET config = ? WHERE name = ?", (public, name))
        return found

    monkeypatch.setattr(datastore_secrets, "_unmasked", racing)
    monkeypatch.setattr(datastore_secrets, "_scrub", lambda conn, *, vacuum: scrubs.append(vacuum))
    reader = sqlite3.connect(root / "runner.db", isolation_level=None)
    with caplog.at_level(logging.INFO, logger=datastore_secrets.__name__):
        assert datastore_secrets.mask_old_rows(reader, root / "secrets") == []
    reader.close()
    writer.close()
    assert seen == [["old"], []]  # the race happened as described
    assert scrubs == []
    assert not [r for r in caplog.records if "moved out of the database" in r.getMessage()]
    assert not (root / "secrets" / "datastore-old.json").exists()  # nothing of this process was written
