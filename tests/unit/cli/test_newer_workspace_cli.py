"""``runner`` on a workspace a newer runner wrote, whose minimum reader this runner does not meet: every
command, the read-only ones too, is refused with one message (what, where, how to fix), no traceback, the
exit code of the other workspace errors, and the database is left as it was. Each run in its own
process, in tmp_path."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from runner.workspace.schema import SCHEMA_VERSION


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "HOME": str(cwd), "XDG_DATA_HOME": ""}
    env.pop("RUNNER_WORKSPACE", None)
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _newer_workspace(root: Path) -> Path:
    root.mkdir()
    db = root / "runner.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute("INSERT INTO meta (key, value) VALUES ('min_reader_version', ?)", (SCHEMA_VERSION + 1,))
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    return db


@pytest.mark.parametrize("command", [("model", "list"), ("job", "list"), ("model", "create", "--name", "m",
                                                                          "--path", "f.txt")])
def test_a_workspace_needing_a_newer_runner_is_one_error(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    db = _newer_workspace(tmp_path / "ws")
    result = _runner(tmp_path, "--workspace", str(tmp_path / "ws"), *command)
    missing = _runner(tmp_path, "--workspace", str(tmp_path / "nowhere"), "model", "list")
    assert result.returncode == missing.returncode == 1, result.stderr  # as the other workspace errors
    assert result.stdout == ""
    said = result.stderr
    assert "Traceback" not in said
    assert said.startswith(f"error: workspace {tmp_path / 'ws'} was written by a newer runner"), said
    assert f"needs a runner that knows schema {SCHEMA_VERSION + 1}" in said
    assert "hint: upgrade runner (`pip install -U runner`" in said and "--workspace" in said
    assert said.count("newer runner") == 1
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()
    assert tables == ["meta"]
