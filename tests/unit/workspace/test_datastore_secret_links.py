"""A datastore's secrets file (``secrets/datastore-<name>.json``) is written, read and removed only through
``runner.workspace.secret_files``: owner-only, never through a link. A link planted at the file's place or
as the secrets folder itself is refused with one clear error (``StorageError``; the CLI prints it, no
traceback), and nothing is written through it; a link at the name an older runner wrote through first
(``datastore-<name>.tmp``) is not used at all. The masking of rows an older runner left in plain text
(``mask_old_rows``) never writes through such a link either: the rows wait for a later open, one warning.

Hostile: everything is made in this test's ``tmp_path``; the test never follows a link it planted (the
targets are read by their own paths, links by ``os.lstat`` / ``os.readlink``)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import StorageError
from runner.workspace.datastore_secrets import mask_old_rows
from runner.workspace.datastores import DatastoreStore, load_datastore
from runner.workspace.db import Workspace

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
YAML = ("name: blob1\ntype: azure_blob\naccount_name: devstoreaccount1\ncontainer_name: models\n"
        "account_url: http://127.0.0.1:10000/devstoreaccount1\n"
        f"credentials:\n  account_key: {KEY}\n")
OLD = 1_000_000_000  # an mtime (s) no write of this test could give
TARGET = b"the victim's own text\n"


def _runner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=tmp_path)


def _victim(tmp_path: Path) -> tuple[Path, tuple[bytes, int, int]]:
    """A file of the test's own (0644, an old mtime) a link will name; its bytes, mode and mtime."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(TARGET)
    victim.chmod(0o644)
    os.utime(victim, ns=(OLD * 10**9, OLD * 10**9))
    return victim, _seen(victim)


def _seen(path: Path) -> tuple[bytes, int, int]:
    info = os.lstat(path)
    return path.read_bytes(), stat.S_IMODE(info.st_mode), info.st_mtime_ns


def _folder_state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Each file of ``folder`` (no link in it) by name, and the folder's own mode and mtime under ''."""
    info = os.lstat(folder)
    found = {"": (b"", stat.S_IMODE(info.st_mode), info.st_mtime_ns)}
    for entry in os.scandir(folder):
        found[entry.name] = _seen(Path(entry.path))
    return found


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    (tmp_path / "ds.yml").write_text(YAML)
    return ws


def _one_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "internal error" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and any(line.strip().startswith("hint: ") for line in lines)
    assert KEY not in result.stderr + result.stdout
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_a_link_at_the_old_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    victim, before = _victim(tmp_path)
    planted = ws.secrets_dir / "datastore-blob1.tmp"
    os.symlink(victim, planted)
    result = _runner(tmp_path, "datastore", "create", "--file", str(tmp_path / "ds.yml"))
    assert result.returncode == 0, result.stderr
    assert _seen(victim) == before  # not a byte of the key, nor its mode or mtime
    assert os.readlink(planted) == str(victim)  # not runner's name any more: left as it was
    kept = ws.secrets_dir / "datastore-blob1.json"
    info = os.lstat(kept)
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    assert json.loads(kept.read_bytes())["credentials"]["account_key"] == KEY


def test_a_link_at_the_secrets_files_place_is_refused_with_one_error(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    victim, before = _victim(tmp_path)
    planted = ws.secrets_dir / "datastore-blob1.json"
    os.symlink(victim, planted)
    result = _runner(tmp_path, "datastore", "create", "--file", str(tmp_path / "ds.yml"))
    _one_error(result, str(planted), "symbolic link")
    assert _seen(victim) == before
    assert os.readlink(planted) == str(victim)  # refused: left as it was, for its owner to look at
    assert "blob1" not in DatastoreStore(ws).names()  # nothing saved that could not be kept


def test_a_secrets_folder_that_is_a_link_is_refused_with_one_error(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "datastore-blob1.json").write_bytes(TARGET)
    for name in ("datastore-blob1.json", ""):
        os.utime(elsewhere / name, ns=(OLD * 10**9, OLD * 10**9))
    before = _folder_state(elsewhere)
    for entry in os.scandir(ws.secrets_dir):  # a new workspace's own key, if any: moved out of the way
        os.unlink(entry.path)
    ws.secrets_dir.rmdir()
    os.symlink(elsewhere, ws.secrets_dir)
    result = _runner(tmp_path, "datastore", "create", "--file", str(tmp_path / "ds.yml"))
    _one_error(result, str(ws.secrets_dir), "symbolic link")
    assert _folder_state(elsewhere) == before


def test_a_saved_datastore_is_never_read_or_removed_through_a_link(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    store = DatastoreStore(ws)
    store.save(load_datastore(tmp_path / "ds.yml"))
    victim = tmp_path / "victim.json"
    victim.write_text(json.dumps({"name": "blob1", "type": "azure_blob", "account_name": "planted",
                                  "container_name": "models"}))
    before = _seen(victim)
    kept = ws.secrets_dir / "datastore-blob1.json"
    kept.unlink()
    os.symlink(victim, kept)
    with pytest.raises(StorageError) as caught:
        DatastoreStore(ws).get("blob1")
    message = caught.value.render()
    assert str(kept) in message and "symbolic link" in message and "hint: " in message
    result = _runner(tmp_path, "datastore", "show", "--name", "blob1")
    _one_error(result, str(kept), "symbolic link")
    DatastoreStore(ws).delete("blob1")
    assert not os.path.lexists(kept)  # the link itself removed
    assert _seen(victim) == before


def test_a_saved_datastore_behind_a_linked_secrets_folder_is_refused(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    DatastoreStore(ws).save(load_datastore(tmp_path / "ds.yml"))
    elsewhere = tmp_path / "elsewhere"
    ws.secrets_dir.rename(elsewhere)
    os.symlink(elsewhere, ws.secrets_dir)
    before = _folder_state(elsewhere)
    with pytest.raises(StorageError) as caught:
        DatastoreStore(ws).get("blob1")
    assert f"secrets folder {ws.secrets_dir} is a symbolic link" in caught.value.render()
    DatastoreStore(ws).delete("blob1")  # the row goes; nothing removed through the link
    assert _folder_state(elsewhere) == before


def _old_row(root: Path) -> None:
    """A datastore row an older runner wrote with a secret in plain text, and no secrets file."""
    row = {"name": "old", "type": "fsspec", "url": "https://127.0.0.1:9/data",
           "storage_options": {"passwd": "oldplaintextpasswd0453"}}
    with sqlite3.connect(root / "runner.db") as conn:
        conn.execute("INSERT INTO datastores (name, type, config, created_at) VALUES ('old', 'fsspec', ?, "
                     "'2026-01-01T00:00:00+00:00')", (json.dumps(row),))


def _mask(root: Path) -> list[str]:
    conn = sqlite3.connect(root / "runner.db", isolation_level=None)
    try:
        return mask_old_rows(conn, root / "secrets")
    finally:
        conn.close()


@pytest.mark.parametrize("place", ["file", "folder"])
def test_old_rows_are_never_moved_through_a_link(tmp_path: Path, place: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "ws"
    Workspace(root)._forget_connection()
    _old_row(root)
    secrets = root / "secrets"
    if place == "file":
        victim, before = _victim(tmp_path)
        os.symlink(victim, secrets / "datastore-old.json")
    else:
        victim = tmp_path / "elsewhere"
        secrets.rename(victim)
        os.symlink(victim, secrets)
    state = _folder_state(victim) if place == "folder" else before
    with caplog.at_level(logging.WARNING):
        assert _mask(root) == []
    assert (_folder_state(victim) if place == "folder" else _seen(victim)) == state
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "symbolic link" in warned[0], warned
    if place == "file":
        os.unlink(secrets / "datastore-old.json")
    else:
        os.unlink(secrets)
        victim.rename(secrets)
    assert _mask(root) == ["old"]  # the next open moves them, once the link is gone
    kept = secrets / "datastore-old.json"
    assert stat.S_IMODE(os.lstat(kept).st_mode) == 0o600
    assert json.loads(kept.read_bytes())["storage_options"]["passwd"] == "oldplaintextpasswd0453"
