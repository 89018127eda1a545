"""No input may read the workspace's secrets or database, nor sqlite's journals beside the database
(``protect.private_read_refusal``): they hold the same records as the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.modes import PathKind
from runner.workspace.db import Workspace
from runner.workspace.read_refusals import private_read_refusal
from runner.workspace.resolved import ResolvedPath


def _input(path: Path) -> ResolvedPath:
    return ResolvedPath(uri=str(path), fs=None, path=str(path), kind=PathKind.ANY, url=f"file://{path}",
                        local_path=path)


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_the_database_and_its_journals_are_never_an_input(tmp_path: Path, suffix: str) -> None:
    ws = Workspace(tmp_path / "ws")
    why = private_read_refusal(ws, _input(ws.db_path.with_name(ws.db_path.name + suffix)))
    assert why is not None and "runner.db" in why


def test_a_file_named_like_the_database_elsewhere_is_read(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    (tmp_path / "data").mkdir()
    assert private_read_refusal(ws, _input(tmp_path / "data" / "runner.db-wal")) is None
    assert private_read_refusal(ws, _input(ws.db_path.with_name("runner.dbx"))) is None
