"""A CI script that registers an unchanged version again succeeds, as in Azure ML, where a local path is
uploaded to a place named by its content: the same name, version and content is the same version
(description, tags and stage are updated as given), other content is refused naming what differs.
Nothing is copied again, and no link is followed on either side."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def client(ws: Workspace) -> MLClient:
    return MLClient(workspace_dir=ws.root)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "mlflow-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"weights-v1")
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "sub" / "conda.yaml").write_text("name: x\n")
    return folder


def _refusal(call: object) -> RegistryError:
    with pytest.raises(RegistryError) as info:
        call()  # type: ignore[operator]
    assert "Asset paths cannot be updated" in info.value.message
    return info.value


def test_same_file_again_is_the_same_version_and_updates_description_and_tags(
        ws: Workspace, client: MLClient, model_dir: Path) -> None:
    first = client.models.create_or_update(Model(name="intv", version="3", path=str(model_dir / "model.pkl")))
    stored = ws.default_datastore_root / "LocalUpload/intv/3/model.pkl"
    before = os.stat(stored)
    again = client.models.create_or_update(Model(name="intv", version="3", path=str(model_dir / "model.pkl"),
                                                 description="rerun", tags={"ci": "2"}))
    assert again.path == first.path and again.version == "3"
    assert again.description == "rerun" and again.tags == {"ci": "2"}
    after = os.stat(stored)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not copied again
    assert [m.version for m in client.models.list(name="intv")] == ["3"]


def test_same_folder_again_relative_to_base_path(client: MLClient, model_dir: Path) -> None:
    model = Model(name="f", version="1", type="mlflow_model", path="mlflow-model",
                  base_path=str(model_dir.parent))
    client.models.create_or_update(model)
    again = Model(name="f", version="1", type="mlflow_model", path="mlflow-model",
                  base_path=str(model_dir.parent))
    assert client.models.create_or_update(again).version == "1"


def test_changed_bytes_are_refused_naming_the_first_differing_file(client: MLClient, model_dir: Path) -> None:
    client.models.create_or_update(Model(name="f", version="1", path=str(model_dir)))
    (model_dir / "sub" / "conda.yaml").write_text("name: y\n")  # same size, other bytes
    err = _refusal(lambda: client.models.create_or_update(Model(name="f", version="1", path=str(model_dir))))
    assert "sub/conda.yaml" in err.message and "version 1" in err.message
    assert "runner model create" in (err.hint or "")


@pytest.mark.parametrize("change, named", [
    (lambda d: (d / "extra.txt").write_text("x"), "extra.txt"),
    (lambda d: (d / "MLmodel").unlink(), "MLmodel"),
    (lambda d: (d / "model.pkl").write_bytes(b"weights-v22"), "model.pkl"),
])
def test_added_removed_or_resized_files_are_refused(client: MLClient, model_dir: Path, change: object,
                                                    named: str) -> None:
    client.models.create_or_update(Model(name="f", version="1", path=str(model_dir)))
    change(model_dir)  # type: ignore[operator]
    err = _refusal(lambda: client.models.create_or_update(Model(name="f", version="1", path=str(model_dir))))
    assert named in err.message


def test_a_file_of_another_name_is_other_content(client: MLClient, model_dir: Path) -> None:
    client.models.create_or_update(Model(name="m", version="1", path=str(model_dir / "model.pkl")))
    twin = model_dir / "twin.pkl"
    twin.write_bytes((model_dir / "model.pkl").read_bytes())
    err = _refusal(lambda: client.models.create_or_update(Model(name="m", version="1", path=str(twin))))
    assert "model.pkl" in err.message and "twin.pkl" in err.message


def test_data_folder_again_and_changed(ws: Workspace, client: MLClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("a,b\n1,2\n")
    client.data.create_or_update(Data(name="dd", version="1", path=str(data)))
    again = client.data.create_or_update(Data(name="dd", version="1", path=str(data), description="again"))
    assert again.description == "again"
    assert again.path == "azureml://datastores/workspaceblobstore/paths/DataUpload/dd/1/data"
    (data / "rows.csv").write_text("a,b\n1,3\n")
    err = _refusal(lambda: client.data.create_or_update(Data(name="dd", version="1", path=str(data))))
    assert "rows.csv" in err.message and "data asset" in err.message


def test_a_registry_namespace_compares_its_own_upload(tmp_path: Path, ws: Workspace, model_dir: Path) -> None:
    shared = MLClient(workspace_dir=ws.root, registry_name="shared")
    shared.models.create_or_update(Model(name="m", version="1", path=str(model_dir / "model.pkl")))
    assert shared.models.create_or_update(Model(name="m", version="1", path=str(model_dir / "model.pkl"),
                                                description="d")).description == "d"


def test_remote_path_equal_url_is_accepted(ws: Workspace, client: MLClient) -> None:
    target = ws.default_datastore_root / "models" / "cifar"
    target.mkdir(parents=True)
    (target / "w.pt").write_bytes(b"w")
    url = "azureml://datastores/workspaceblobstore/paths/models/cifar"
    client.models.create_or_update(Model(name="r", version="1", path=url))
    again = client.models.create_or_update(Model(name="r", version="1", path=url + "/", tags={"a": "1"}))
    assert again.tags == {"a": "1"}
    _refusal(lambda: client.models.create_or_update(Model(name="r", version="1", path=url + "/w.pt")))


def test_a_local_path_for_a_version_registered_elsewhere_is_refused(ws: Workspace, client: MLClient,
                                                                    model_dir: Path) -> None:
    target = ws.default_datastore_root / "models"
    target.mkdir(parents=True)
    (target / "model.pkl").write_bytes(b"weights-v1")
    client.models.create_or_update(Model(name="r", version="1",
                                         path="azureml://datastores/workspaceblobstore/paths/models/model.pkl"))
    err = _refusal(lambda: client.models.create_or_update(Model(name="r", version="1",
                                                                path=str(model_dir / "model.pkl"))))
    assert "azureml://datastores/workspaceblobstore/paths/models/model.pkl" in err.message


def test_a_link_to_a_folder_in_the_source_is_refused_not_followed(client: MLClient, model_dir: Path,
                                                                  tmp_path: Path) -> None:
    client.models.create_or_update(Model(name="f", version="1", path=str(model_dir)))
    outside = tmp_path / "outside"
    outside.mkdir()
    (model_dir / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RegistryError) as info:
        client.models.create_or_update(Model(name="f", version="1", path=str(model_dir)))
    assert "a link to a folder" in info.value.message


def test_a_link_planted_in_the_stored_version_is_not_followed(
        ws: Workspace, client: MLClient, model_dir: Path, tmp_path: Path) -> None:
    client.models.create_or_update(Model(name="f", version="1", path=str(model_dir)))
    stored = ws.default_datastore_root / "LocalUpload/f/1/mlflow-model/model.pkl"
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(b"weights-v1")  # the same bytes: only a followed link would make them equal
    stored.unlink()
    stored.symlink_to(outside)
    err = _refusal(lambda: client.models.create_or_update(Model(name="f", version="1", path=str(model_dir))))
    assert "model.pkl" in err.message


def test_create_still_refuses_an_existing_version(client: MLClient, model_dir: Path) -> None:
    """``create`` (the web UI's form) stays strict: only ``create_or_update`` is idempotent."""
    client.models.create(Model(name="m", version="1", path=str(model_dir / "model.pkl")))
    with pytest.raises(RegistryError, match="version 1 exists already"):
        client.models.create(Model(name="m", version="1", path=str(model_dir / "model.pkl")))
