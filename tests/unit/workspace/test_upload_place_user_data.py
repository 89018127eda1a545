"""A folder at a version's own upload place (``DataUpload/<name>/<version>/`` for a data asset,
``LocalUpload/`` for a model) with no row in the database looks like what a registration that died before
committing left behind, but it may be the user's data, the very source being registered, or a version
registered in place there. Registration never deletes it: it refuses, naming the place and how to
register the files where they are; nothing there is touched and nothing is registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.data import Data
from runner.spec.model import Model


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    return MLClient(workspace_dir=tmp_path / "ws")


def _store(ml: MLClient) -> Path:
    return Path(ml.workspace.root) / "datastores" / "workspaceblobstore"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("version", ["1", None])  # given, or the next one (1)
def test_a_data_folder_at_its_own_upload_place_is_refused_and_kept(client: MLClient,
                                                                   version: str | None) -> None:
    place = _store(client) / "DataUpload" / "d" / "1"
    place.mkdir(parents=True)
    (place / "train.csv").write_text("user data")
    (place / "sub").mkdir()
    (place / "sub" / "more.csv").write_text("more")
    before = _files(_store(client))
    with pytest.raises(RegistryError) as caught:
        client.data.create(Data(name="d", version=version, type="uri_folder", path=str(place)))
    err = caught.value
    assert "DataUpload/d/1" in err.message and err.field == "path", err.message
    assert err.hint and "azureml://datastores/workspaceblobstore/paths/DataUpload/d/1" in err.hint
    assert _files(_store(client)) == before  # nothing deleted, nothing left staged
    assert list(client.data.list()) == []


def test_a_file_inside_its_own_upload_place_is_refused_and_kept(client: MLClient) -> None:
    place = _store(client) / "DataUpload" / "d" / "3"
    place.mkdir(parents=True)
    (place / "a.csv").write_text("a")
    (place / "b.csv").write_text("b")  # a sibling the removal would take too
    before = _files(_store(client))
    with pytest.raises(RegistryError):
        client.data.create(Data(name="d", version="3", type="uri_file", path=str(place / "a.csv")))
    assert _files(_store(client)) == before


def test_a_model_folder_holding_its_own_upload_place_is_refused_and_kept(client: MLClient) -> None:
    holder = _store(client) / "LocalUpload" / "m"
    (holder / "1").mkdir(parents=True)
    (holder / "1" / "w.bin").write_bytes(b"w")
    before = _files(_store(client))
    with pytest.raises(RegistryError) as caught:
        client.models.create(Model(name="m", version="1", path=str(holder)))
    assert "LocalUpload/m/1" in caught.value.message
    assert _files(_store(client)) == before


def test_a_version_registered_in_place_there_is_not_deleted(client: MLClient, tmp_path: Path) -> None:
    place = _store(client) / "DataUpload" / "d" / "1"
    place.mkdir(parents=True)
    (place / "kept.csv").write_text("registered in place")
    client.data.create(Data(name="other", type="uri_folder",
                            path="azureml://datastores/workspaceblobstore/paths/DataUpload/d/1"))
    source = tmp_path / "src"
    source.mkdir()
    (source / "new.csv").write_text("new")
    with pytest.raises(RegistryError) as caught:
        client.data.create(Data(name="d", version="1", type="uri_folder", path=str(source)))
    assert "other" in caught.value.message
    assert (place / "kept.csv").read_text() == "registered in place"
    assert [f.path for f in client.data.files("other", "1")[0]] == ["kept.csv"]


def test_a_leftover_elsewhere_is_still_replaced(client: MLClient, tmp_path: Path) -> None:
    """What a registration that died before committing left (no row, not the source, no version there)
    is replaced, as before: the version number is not blocked forever."""
    place = _store(client) / "DataUpload" / "d" / "1"
    place.mkdir(parents=True)
    (place / "half.bin").write_bytes(b"half")
    source = tmp_path / "src"
    source.mkdir()
    (source / "new.csv").write_text("new")
    created = client.data.create(Data(name="d", type="uri_folder", path=str(source)))
    assert created.version == "1"
    assert [f.path for f in client.data.files("d", "1")[0]] == ["new.csv"]
