"""Data assets: the same registry rules as models (one asset store for both), their own types and checks,
references from job inputs, the one-query location lookup, and the v2 -> v3 schema migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from repo_paths import EXAMPLES

from runner.client import MLClient
from runner.errors import RegistryError, ResolveError, SpecError
from runner.modes import PathKind
from runner.spec.data import Data, load_data
from runner.spec.model import Model
from runner.workspace.assets import assets_at
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.registry import DataRegistry, ModelRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def data(ws: Workspace) -> DataRegistry:
    return DataRegistry(ws)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "src" / "example-data"
    root.mkdir(parents=True)
    (root / "iris.csv").write_text("a,b\n1,2\n")
    return root


def test_local_folder_and_file_are_copied_to_their_own_versioned_place(
        ws: Workspace, data: DataRegistry, folder: Path) -> None:
    created = data.create(Data(name="iris", path=str(folder)))
    assert (created.version, created.type) == ("1", "uri_folder")
    assert created.path == "azureml://datastores/workspaceblobstore/paths/DataUpload/iris/1/example-data"
    assert created.datastore_uri == created.path
    stored = ws.default_datastore_root / "DataUpload/iris/1/example-data/iris.csv"
    assert stored.read_text() == "a,b\n1,2\n"
    (folder / "iris.csv").write_text("changed")  # the version does not change with its source
    assert stored.read_text() == "a,b\n1,2\n"
    one = data.create(Data(name="iris", type="uri_file", path=str(folder / "iris.csv")))
    assert one.version == "2" and one.path.endswith("DataUpload/iris/2/iris.csv")
    # a model of the same name and version never shares files with the data asset
    model = ModelRegistry(ws).create(Model(name="iris", path=str(folder / "iris.csv")))
    assert model.path.endswith("LocalUpload/iris/1/iris.csv") and stored.read_text() == "a,b\n1,2\n"


def test_types_are_checked_against_local_paths(data: DataRegistry, folder: Path) -> None:
    with pytest.raises(RegistryError, match="uri_file data asset must be a file"):
        data.create(Data(name="d", type="uri_file", path=str(folder)))
    with pytest.raises(RegistryError, match="uri_folder data asset must be a folder"):
        data.create(Data(name="d", path=str(folder / "iris.csv")))
    with pytest.raises(RegistryError, match="no MLTable file"):
        data.create(Data(name="d", type="mltable", path=str(folder)))
    (folder / "MLTable").write_text("paths:\n  - file: ./iris.csv\n")
    assert data.create(Data(name="d", type="mltable", path=str(folder))).type == "mltable"
    with pytest.raises(SpecError, match="unknown data asset type 'custom_model'"):
        data.create(Data(name="d", type="custom_model", path=str(folder)))
    with pytest.raises(SpecError, match="a data asset needs a path"):
        data.create(Data(name="d"))


def test_versions_archive_update_and_labels_follow_the_model_rules(data: DataRegistry, folder: Path) -> None:
    for _ in range(2):
        data.create(Data(name="d", path=str(folder), tags={"a": "1"}))
    with pytest.raises(RegistryError, match="data asset 'd' version 2 exists already"):
        data.create(Data(name="d", version="2", path=str(folder)))
    assert data.get("d", label="latest").version == "2"
    data.archive("d", "2")
    assert [d.version for d in data.list("d")] == ["1"] and data.get("d", label="latest").version == "1"
    assert data.resolver.resolve("azureml:d:2", asset_type="uri_folder").data == ("d", "2")  # still usable
    data.archive("d")
    assert data.list() == [] and [d.name for d in data.list(archived_only=True)] == ["d"]
    with pytest.raises(RegistryError) as info:
        data.restore("d", "1")
    assert "data asset 'd' itself is archived" in info.value.message
    assert "runner data restore --name d" in (info.value.hint or "")
    assert data.create(Data(name="d", path=str(folder))).archived  # made under an archived asset
    data.restore("d")
    updated = data.update("d", "1", set_values={"description": "new", "tags.b": "2"},
                          add_values={"tags.c": "3"}, remove=["tags.a"])
    assert updated.description == "new" and updated.tags == {"b": "2", "c": "3"}
    assert data.update("d", "1", remove=["tags"]).tags == {}
    with pytest.raises(RegistryError, match="Asset paths cannot be updated.*data asset version"):
        data.update("d", "1", set_values={"path": "x"})
    with pytest.raises(RegistryError, match="'description' cannot be added to"):
        data.update("d", "1", add_values={"description.x": "y"})
    with pytest.raises(ResolveError, match="unknown data asset 'nope'; data assets in this workspace: d"):
        data.get("nope")


def test_an_input_type_decides_model_or_data(ws: Workspace, data: DataRegistry, folder: Path) -> None:
    data.create(Data(name="same", path=str(folder)))
    ModelRegistry(ws).create(Model(name="same", path=str(folder / "iris.csv")))
    as_data = data.resolver.resolve("azureml:same@latest", asset_type="uri_folder")
    assert as_data.data == ("same", "1") and as_data.model is None and as_data.kind is PathKind.FOLDER
    assert "DataUpload/same/1" in as_data.uri
    as_model = data.resolver.resolve("azureml:same:1", asset_type="custom_model")
    assert as_model.model == ("same", "1") and as_model.kind is PathKind.FILE
    assert data.resolver.resolve("azureml:same:1").model == ("same", "1")  # no type: a model, as before
    with pytest.raises(ResolveError, match="unknown data asset 'other'"):
        data.resolver.resolve("azureml:other:1", asset_type="mltable")


def test_a_registry_data_version_is_not_the_workspace_one_of_the_same_name(ws: Workspace, data: DataRegistry,
                                                                          folder: Path) -> None:
    data.create(Data(name="d", path=str(folder)))
    DataRegistry(ws, registry_name="shared").create(Data(name="d", path=str(folder)))
    in_registry = data.resolver.resolve("azureml://registries/shared/data/d/versions/1",
                                        asset_type="uri_folder")
    assert in_registry.data == ("shared/d", "1")  # its stored name, as a registry model's cache_key has
    assert data.resolver.resolve("azureml:d:1", asset_type="uri_folder").data == ("d", "1")


def test_azures_asset_id_forms_name_the_data_or_model_version(ws: Workspace, data: DataRegistry,
                                                              folder: Path) -> None:
    """``azureml://registries/<r>/data/...`` is the registry's data version; an ARM ID or an
    ``azureml://locations/...`` ID is this workspace's version (the input's type says data or model)."""
    data.create(Data(name="d", path=str(folder)))
    DataRegistry(ws, registry_name="shared").create(Data(name="d", path=str(folder)))
    ModelRegistry(ws).create(Model(name="m", path=str(folder)))
    resolve = data.resolver.resolve
    assert resolve("azureml://registries/shared/data/d/versions/1", asset_type="uri_folder").data == \
        ("shared/d", "1")
    arm = ("azureml:/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/"
           "workspaces/w")
    assert resolve(f"{arm}/data/d/versions/1", asset_type="uri_folder").data == ("d", "1")
    assert resolve(f"{arm}/models/m/versions/1", asset_type="custom_model").model == ("m", "1")
    located = "azureml://locations/westeurope/workspaces/0a1b/data/d/versions/1"
    assert resolve(located, asset_type="uri_folder").data == ("d", "1")


ARM = "azureml:/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"


@pytest.mark.parametrize("model_type", ["custom_model", "mlflow_model", "triton_model"])
@pytest.mark.parametrize("data_id", [f"{ARM}/data/d/versions/1", f"{ARM}/datasets/d/versions/1",
                                     "azureml://locations/westeurope/workspaces/0a1b/data/d/versions/1",
                                     "azureml://registries/shared/data/d/versions/1"])
def test_a_data_asset_id_on_a_model_input_says_the_kinds_differ(ws: Workspace, data: DataRegistry,
                                                                folder: Path, data_id: str,
                                                                model_type: str) -> None:
    """Not "unknown model 'd'" (looked up as a model): one error naming both kinds and the fix."""
    data.create(Data(name="d", path=str(folder)))
    DataRegistry(ws, registry_name="shared").create(Data(name="d", path=str(folder)))
    with pytest.raises(SpecError) as info:
        data.resolver.resolve(data_id, asset_type=model_type, field="inputs.m.path")
    err = info.value
    assert err.message.startswith("'d' version 1 is a data asset (its ID says /data/), but type "
                                  f"{model_type} takes a model") and "unknown" not in err.message
    assert "uri_folder, uri_file, mltable take data assets" in err.message and err.field == "inputs.m.path"
    assert "change the type to uri_folder, uri_file or mltable" in (err.hint or "")
    assert "give a model" in (err.hint or "")


@pytest.mark.parametrize("model_id", [f"{ARM}/models/m/versions/1",
                                      "azureml://locations/westeurope/workspaces/0a1b/models/m/versions/1",
                                      "azureml://registries/shared/models/m/versions/1"])
def test_a_model_id_on_a_data_input_says_the_kinds_differ(ws: Workspace, data: DataRegistry, folder: Path,
                                                          model_id: str) -> None:
    """Not a data asset of the same name read silently, nor "unknown data asset 'm'"."""
    data.create(Data(name="m", path=str(folder)))  # a data asset of the model's name: never picked
    ModelRegistry(ws).create(Model(name="m", path=str(folder)))
    ModelRegistry(ws, registry_name="shared").create(Model(name="m", path=str(folder)))
    with pytest.raises(SpecError) as info:
        data.resolver.resolve(model_id, asset_type="uri_folder", field="inputs.d.path")
    assert info.value.message.startswith("'m' version 1 is a model (its ID says /models/), but type "
                                         "uri_folder takes a data asset")
    assert "change the type to custom_model, mlflow_model or triton_model" in (info.value.hint or "")
    assert data.resolver.resolve(model_id, asset_type="custom_model").model == ("m", "1")  # same ID: fine


def test_an_id_names_its_kind_when_no_type_is_given(ws: Workspace, data: DataRegistry, folder: Path) -> None:
    data.create(Data(name="same", path=str(folder)))
    ModelRegistry(ws).create(Model(name="same", path=str(folder / "iris.csv")))
    assert data.resolver.resolve(f"{ARM}/data/same/versions/1").data == ("same", "1")
    assert data.resolver.resolve(f"{ARM}/models/same/versions/1").model == ("same", "1")


def test_registering_a_model_from_a_data_id_says_the_kinds_differ(ws: Workspace, data: DataRegistry,
                                                                  folder: Path) -> None:
    data.create(Data(name="d", path=str(folder)))
    with pytest.raises(SpecError) as info:
        ModelRegistry(ws).create(Model(name="m", path=f"{ARM}/data/d/versions/1"))
    assert "is a data asset" in info.value.message and info.value.field == "path"
    assert "register a data asset with `runner data create`" in (info.value.hint or "")


def test_job_output_and_datastore_paths_are_referenced_with_lineage(ws: Workspace,
                                                                    data: DataRegistry) -> None:
    out = ws.default_datastore_root / "azureml/j1/feat/part.csv"
    out.parent.mkdir(parents=True)
    out.write_text("x")
    ws.create_job(JobRecord(name="j1", status=JobStatus.COMPLETED, outputs={  # ended: it writes no more
        "feat": "azureml://datastores/workspaceblobstore/paths/azureml/j1/feat/"}))
    created = data.create(Data(name="feat", path="azureml://jobs/j1/outputs/feat"))
    assert created.job_name == "j1" and created.path == "azureml://jobs/j1/outputs/feat"
    assert created.datastore_uri == "azureml://datastores/workspaceblobstore/paths/azureml/j1/feat"
    ref = data.create(Data(name="ref", type="uri_file",
                           path="azureml://datastores/workspaceblobstore/paths/azureml/j1/feat/part.csv"))
    assert ref.job_name is None and not (ws.default_datastore_root / "DataUpload").exists()


def test_one_query_finds_the_registered_versions_at_a_location(ws: Workspace, data: DataRegistry,
                                                               folder: Path) -> None:
    data.create(Data(name="d", path=str(folder)))
    ModelRegistry(ws).create(Model(name="m", path=str(folder / "iris.csv")))
    root = "azureml://datastores/workspaceblobstore/paths"
    found = assets_at(ws, f"{root}/DataUpload/d/1/example-data/")
    assert [(a.kind, a.name, a.version) for a in found] == [("data", "d", "1")]
    assert [(a.kind, a.name) for a in assets_at(ws, f"{root}/DataUpload/d/1/example-data/iris.csv")] == [
        ("data", "d")]  # inside a registered folder
    assert {(a.kind, a.name) for a in assets_at(ws, root)} == {("data", "d"), ("model", "m")}  # around
    assert assets_at(ws, f"{root}/DataUpload/d/10") == [] and assets_at(ws, f"{root}/Data") == []


def test_create_or_update_sets_the_registered_path_as_azure_does(ws: Workspace, folder: Path) -> None:
    """The seed's snippets: ``Model(path=file_model.path, ...)`` after ``create_or_update(file_model)``."""
    ml_client = MLClient(workspace_dir=ws.root)
    file_model = Model(path=str(folder / "iris.csv"), name="local-file-example")
    returned = ml_client.models.create_or_update(file_model)
    assert file_model.path == returned.path == \
        "azureml://datastores/workspaceblobstore/paths/LocalUpload/local-file-example/1/iris.csv"
    cloud = ml_client.models.create_or_update(Model(path=file_model.path, name="cloud-path-example"))
    assert cloud.path == file_model.path and cloud.datastore_uri == file_model.path  # referenced
    sample = Data(path=str(folder), type="uri_folder", name="sample")
    assert ml_client.create_or_update(sample).version == "1"
    assert sample.path == "azureml://datastores/workspaceblobstore/paths/DataUpload/sample/1/example-data"
    assert [d.name for d in ml_client.data.list()] == ["sample"]
    assert ml_client.data.get("sample", label="latest").path == sample.path


@pytest.mark.examples
def test_the_examples_data_yaml_with_overrides() -> None:
    spec = EXAMPLES / "cli" / "assets" / "data" / "local-folder-sampledata.yml"
    loaded = load_data(spec, overrides={"name": "sampledata", "version": "2"})
    assert (loaded.name, loaded.version, loaded.type, loaded.path) == ("sampledata", "2", "uri_folder",
                                                                       "example-data/")
    assert loaded.base_path == str(spec.parent.resolve())


@pytest.mark.parametrize(("text", "line", "words"), [
    ("name: d\npath: x\nformat: csv\n", 3, "unknown field 'format' in a data asset"),
    ("name: d\npath: x\ntype: custom_model\n", 3, "unknown data asset type 'custom_model'"),
    ("name: d\n", 1, "a data asset needs a path"),
])
def test_data_yaml_errors_point_at_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    spec = tmp_path / "d.yml"
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        load_data(spec)
    assert f"{spec}:{line}:" in info.value.render() and words in info.value.render() and info.value.hint


def test_a_version_2_workspace_gains_the_data_tables(tmp_path: Path, folder: Path) -> None:
    ws = Workspace(tmp_path / "old")
    with sqlite3.connect(ws.db_path) as conn:  # as a workspace made before data assets existed
        conn.executescript("DROP VIEW registered_assets; DROP TABLE data_assets; DROP TABLE data_containers;"
                           "PRAGMA user_version=2;")
    again = Workspace(tmp_path / "old")
    assert DataRegistry(again).create(Data(name="d", path=str(folder))).version == "1"
    assert [a.kind for a in assets_at(again, "azureml://datastores/workspaceblobstore/paths")] == ["data"]
