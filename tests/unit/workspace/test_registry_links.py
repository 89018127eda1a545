"""Registering a local file or folder copies it into the datastore's upload folder without following a
link below the datastore's root: a link on the way (a job's ``direct`` output may have left one) is
refused with one error naming it, nothing is written or removed through it, and the staged copy is
removed. Undoing a move and removing the staged copy never delete through a link either.

Every link here is made by the test in its own tmp folder and points at a decoy folder there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from runner.errors import StorageError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.datastores import DatastoreStore, FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.registry import DataRegistry, ModelRegistry

NOT_FOLLOWED = "is a symbolic link (a job may have made it): not followed"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    folder = tmp_path / "decoy"
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "keep.txt").write_text("keep\n")
    return folder


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "model"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    return folder


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root``, no link followed (a link shows as where it points)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            found[rel] = ("-> " + os.readlink(path) if path.is_symlink() else
                          path.read_text() if path.is_file() else "/")
    return found


def _leftovers(upload: Path) -> list[str]:
    return sorted(p.name for p in upload.iterdir() if p.name.startswith(".")) if upload.is_dir() else []


@pytest.mark.parametrize("where", ["LocalUpload/newname", "LocalUpload/newname/1", "LocalUpload"])
def test_a_link_on_the_way_is_refused_and_nothing_goes_through_it(ws: Workspace, decoy: Path, source: Path,
                                                                  where: str) -> None:
    link = ws.default_datastore_root / where
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(decoy, link)
    before = _tree(decoy)
    registry = ModelRegistry(ws)
    with pytest.raises(StorageError) as refused:
        registry.create(Model(name="newname", version="1", path=str(source)))
    assert f"{link} {NOT_FOLLOWED}" in refused.value.message
    assert "model 'newname'" in refused.value.message
    assert refused.value.hint is not None and "remove the link" in refused.value.hint
    assert _tree(decoy) == before  # nothing deleted, nothing written
    assert link.is_symlink()  # the link itself is left for the user to look at
    assert _leftovers(ws.default_datastore_root / "LocalUpload") == []  # the staged copy is removed
    assert not registry.exists("newname", "1")


def test_a_data_asset_on_a_file_fsspec_datastore_is_refused_the_same(ws: Workspace, tmp_path: Path,
                                                                     decoy: Path) -> None:
    store = tmp_path / "fsstore"
    (store / "DataUpload").mkdir(parents=True)
    DatastoreStore(ws).save(FsspecDatastore(name="fsfile", url=f"file://{store}"))
    os.symlink(decoy, store / "DataUpload" / "d")
    data = tmp_path / "src" / "d.csv"
    data.parent.mkdir(parents=True)
    data.write_text("a\n")
    before = _tree(decoy)
    with pytest.raises(StorageError, match=re.escape(NOT_FOLLOWED)):
        DataRegistry(ws).create(Data(name="d", version="1", path=str(data), type="uri_file",
                                     datastore="fsfile"))
    assert _tree(decoy) == before
    assert _leftovers(store / "DataUpload") == []


def test_a_stale_folder_left_at_the_version_is_still_replaced(ws: Workspace, source: Path) -> None:
    stale = ws.default_datastore_root / "LocalUpload" / "m" / "1"
    (stale / "old").mkdir(parents=True)
    (stale / "old" / "x").write_text("stale\n")
    created = ModelRegistry(ws).create(Model(name="m", version="1", path=str(source)))
    assert created.path is not None and created.path.endswith("LocalUpload/m/1/model")
    assert _tree(stale) == {"model": "/", "model/MLmodel": "flavors: {}\n"}


def test_a_registry_namespace_is_copied_without_links_too(ws: Workspace, source: Path, decoy: Path) -> None:
    upload = ws.default_datastore_root / "LocalUpload"
    upload.mkdir(parents=True)
    os.symlink(decoy, upload / "reg")
    before = _tree(decoy)
    with pytest.raises(StorageError, match=re.escape(NOT_FOLLOWED)):
        ModelRegistry(ws, registry_name="reg").create(Model(name="m", version="1", path=str(source)))
    assert _tree(decoy) == before


def test_undoing_a_move_never_deletes_through_a_link(ws: Workspace, source: Path, decoy: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The row cannot be written after the copy was moved into place, and meanwhile the name's folder
    was swapped for a link: the undo removes nothing through it."""
    registry = ModelRegistry(ws)
    upload = ws.default_datastore_root / "LocalUpload"
    real = ws.default_datastore_root / "elsewhere"

    def swapped_then_failing(*args: object, **kwargs: object) -> None:
        (upload / "m").rename(real)
        os.symlink(decoy, upload / "m")
        raise OSError("the database is gone")

    monkeypatch.setattr(registry, "insert_version", swapped_then_failing)
    before = _tree(decoy)
    with pytest.raises(OSError, match="the database is gone"):
        registry.create(Model(name="m", version="1", path=str(source)))
    assert _tree(decoy) == before
    assert (upload / "m").is_symlink()


def test_removing_the_staged_copy_never_deletes_through_a_link(ws: Workspace, source: Path, decoy: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy fails, and meanwhile the upload folder was swapped for a link to a folder holding a
    folder of the staged copy's name: it stays."""
    registry = ModelRegistry(ws)
    upload = ws.default_datastore_root / "LocalUpload"
    planted: list[Path] = []

    def failing_insert(*args: object, **kwargs: object) -> None:
        staged = next(p for p in upload.iterdir() if p.name.startswith(".incoming-"))
        (decoy / staged.name).mkdir()
        (decoy / staged.name / "keep.txt").write_text("keep\n")
        planted.append(decoy / staged.name / "keep.txt")
        upload.rename(ws.default_datastore_root / "moved-away")
        os.symlink(decoy, upload)
        raise OSError("interrupted")

    monkeypatch.setattr(registry, "_insert", failing_insert)
    with pytest.raises(OSError, match="interrupted"):
        registry.create(Model(name="m", version="1", path=str(source)))
    assert planted and planted[0].read_text() == "keep\n"
    assert (decoy / "1" / "keep.txt").read_text() == "keep\n"
