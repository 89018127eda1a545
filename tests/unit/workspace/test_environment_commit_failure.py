"""``environment create`` is atomic from the user's view: when the database commit fails after the
version's side file (``<ws>/environments/<name>/<version>.json``: conda file text and tags) was written,
the side file is as it was before (gone for a new version, the earlier one back for a version registered
again), so no later read sees the conda file or tags of a version that was never created."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.errors import ResolveError, StorageError
from runner.workspace.db import Workspace
from runner.workspace.environments import EnvironmentStore

CONDA = "dependencies:\n  - python=3.11\n  - pip\n"


@pytest.fixture
def store(tmp_path: Path) -> EnvironmentStore:
    return EnvironmentStore(Workspace(tmp_path / "ws"))


def _fail_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write transaction's COMMIT fails (the body ran; sqlite rolls the transaction back)."""
    real = Workspace.transaction

    @contextmanager
    def failing(self: Workspace) -> Iterator[sqlite3.Connection]:
        with real(self) as conn:
            yield conn
            raise sqlite3.OperationalError("disk I/O error")  # where COMMIT would run

    monkeypatch.setattr(Workspace, "transaction", failing)


def _side_files(store: EnvironmentStore) -> list[str]:
    root = store.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def test_a_new_version_whose_commit_fails_leaves_no_side_file(store: EnvironmentStore,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_commits(monkeypatch)
    with pytest.raises(StorageError, match="disk I/O error"):
        store.create("condaenv", version="1", image="runner/python:3.11", conda_file=CONDA,
                     tags={"team": "vision"})
    monkeypatch.undo()
    with pytest.raises(ResolveError):
        store.get("condaenv", "1")
    assert _side_files(store) == []  # nor a staging file


def test_a_version_registered_again_keeps_its_side_file_when_the_commit_fails(
        store: EnvironmentStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.create("condaenv", version="1", image="runner/python:3.11", conda_file=CONDA, tags={"team": "a"})
    _fail_commits(monkeypatch)
    with pytest.raises(StorageError):
        store.create("condaenv", version="1", image="runner/python:3.11", conda_file=CONDA + "  - six\n",
                     tags={"team": "b"})
    with pytest.raises(StorageError):  # registered again without conda file or tags
        store.create("condaenv", version="1", image="runner/python:3.11")
    monkeypatch.undo()
    kept = store.get("condaenv", "1")
    assert (kept.conda_text, kept.tags) == (CONDA, {"team": "a"})
    assert _side_files(store) == ["condaenv/1.json"]


def test_a_create_after_a_failed_commit_is_whole(store: EnvironmentStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_commits(monkeypatch)
    with pytest.raises(StorageError):
        store.create("condaenv", image="runner/python:3.11", conda_file=CONDA, tags={"team": "a"})
    monkeypatch.undo()
    created = store.create("condaenv", image="runner/python:3.11", tags={"team": "b"})
    assert created.version == "1"
    got = store.get("condaenv")
    assert (got.version, got.conda_text, got.tags) == ("1", None, {"team": "b"})
