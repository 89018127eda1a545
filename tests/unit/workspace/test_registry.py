"""Every registry verb and rule, through the Python API, against the local default datastore."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError, ResolveError, SpecError
from runner.spec.model import Model
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.registry import ModelRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def registry(ws: Workspace) -> ModelRegistry:
    return ModelRegistry(ws)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "model.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights-v1")
    return path


@pytest.fixture
def mlflow_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "mlflow-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "sub" / "model.pkl").write_bytes(b"m")
    return folder


def test_local_file_is_copied_to_an_immutable_versioned_location(
        ws: Workspace, registry: ModelRegistry, model_file: Path) -> None:
    created = registry.create(Model(name="m", path=str(model_file), description="d"))
    assert created.version == "1"
    assert created.path == "azureml://datastores/workspaceblobstore/paths/LocalUpload/m/1/model.pkl"
    stored = ws.default_datastore_root / "LocalUpload/m/1/model.pkl"
    assert stored.read_bytes() == b"weights-v1"
    model_file.write_bytes(b"changed")  # the registered version does not change with its source
    assert stored.read_bytes() == b"weights-v1"
    assert not [p for p in (ws.default_datastore_root / "LocalUpload").iterdir() if p.name.startswith(".")]


def test_relative_path_uses_base_path(registry: ModelRegistry, model_file: Path) -> None:
    created = registry.create(Model(name="m", path="model.pkl", base_path=str(model_file.parent)))
    assert created.path and created.path.endswith("LocalUpload/m/1/model.pkl")


def test_versions_auto_increment_and_existing_refused(registry: ModelRegistry, model_file: Path) -> None:
    versions = [registry.create(Model(name="m", path=str(model_file))).version for _ in range(3)]
    assert versions == ["1", "2", "3"]
    with pytest.raises(RegistryError) as info:
        registry.create(Model(name="m", version="2", path=str(model_file)))
    assert "version 2 exists already" in info.value.message and "4" in (info.value.hint or "")
    assert registry.create(Model(name="m", version=10, path=str(model_file))).version == "10"
    assert registry.create(Model(name="m", path=str(model_file))).version == "11"


def test_model_type_rules(registry: ModelRegistry, model_file: Path, mlflow_dir: Path) -> None:
    with pytest.raises(RegistryError) as info:
        registry.create(Model(name="f", type="mlflow_model", path=str(model_file)))
    assert "must be a folder with an MLmodel file" in info.value.message
    (mlflow_dir / "MLmodel").unlink()
    with pytest.raises(RegistryError) as info:
        registry.create(Model(name="f", type="mlflow_model", path=str(mlflow_dir)))
    assert "no MLmodel file" in info.value.message
    with pytest.raises(RegistryError) as info:
        registry.create(Model(name="t", type="triton_model", path=str(model_file)))
    assert "triton_model must be a folder" in info.value.message
    assert registry.create(Model(name="t", type="triton_model", path=str(mlflow_dir))).version == "1"


def test_mlflow_folder_copied_whole(ws: Workspace, registry: ModelRegistry, mlflow_dir: Path) -> None:
    created = registry.create(Model(name="mf", type="mlflow_model", path=str(mlflow_dir)))
    stored = ws.default_datastore_root / "LocalUpload/mf/1/mlflow-model"
    assert (stored / "MLmodel").exists() and (stored / "sub/model.pkl").read_bytes() == b"m"
    assert created.type == "mlflow_model"


def test_datastore_and_job_paths_are_referenced_with_lineage(ws: Workspace, registry: ModelRegistry) -> None:
    target = ws.default_datastore_root / "models/cifar10/cifar.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"c")
    ds_model = registry.create(Model(name="ds", path="azureml://datastores/workspaceblobstore/paths/models/cifar10/cifar.pt"))
    assert ds_model.path == "azureml://datastores/workspaceblobstore/paths/models/cifar10/cifar.pt"
    assert ds_model.job_name is None
    assert not (ws.default_datastore_root / "LocalUpload").exists()  # referenced, not copied
    art = ws.default_datastore_root / "ExperimentRun/dcid.run1/model/MLmodel"
    art.parent.mkdir(parents=True)
    art.write_text("x")
    ws.create_job(JobRecord(name="run1"))
    run_model = registry.create(Model(name="r", type="mlflow_model", path="runs:/run1/model/"))
    assert run_model.job_name == "run1" and run_model.path == "azureml://jobs/run1/outputs/artifacts/paths/model"
    assert run_model.datastore_uri == "azureml://datastores/workspaceblobstore/paths/ExperimentRun/dcid.run1/model"
    job_model = registry.create(Model(name="j", path="azureml://jobs/run1/outputs/artifacts/paths/model/MLmodel"))
    assert job_model.job_name == "run1"


def test_list_show_and_labels(registry: ModelRegistry, model_file: Path) -> None:
    for name in ("b", "a", "a"):
        registry.create(Model(name=name, path=str(model_file)))
    assert [(m.name, m.version) for m in registry.list()] == [("a", "2"), ("b", "1")]
    assert [m.version for m in registry.list("a")] == ["2", "1"]
    assert len(registry.list(max_results=1)) == 1
    assert registry.get("a", label="latest").version == "2"
    assert registry.get("a", version="1").version == "1"
    with pytest.raises(SpecError, match="unknown label 'best' for model 'a'") as refused:
        registry.get("a", label="best")  # bad input, as for environments and components: exit 2
    assert refused.value.hint is not None and "the only label is 'latest'" in refused.value.hint
    assert refused.value.exit_code == 2


def test_update_only_description_and_tags(registry: ModelRegistry, model_file: Path) -> None:
    registry.create(Model(name="m", path=str(model_file), tags={"a": "1"}))
    updated = registry.update("m", "1", set_values={"description": "new", "tags.stage": "Prod"},
                              remove=["tags.a"])
    assert updated.description == "new" and updated.tags == {"stage": "Prod"}
    with pytest.raises(RegistryError) as info:
        registry.update("m", "1", set_values={"path": "elsewhere"})
    assert "Asset paths cannot be updated" in info.value.message
    with pytest.raises(RegistryError) as info:
        registry.update("m", "1", set_values={"type": "mlflow_model"})
    assert "'type' cannot be updated" in info.value.message


def test_python_update_flow_of_the_seed(ws: Workspace, model_file: Path) -> None:
    ml_client = MLClient(workspace_dir=ws.root)
    ml_client.models.create_or_update(Model(name="m", path=str(model_file)))
    model_example = ml_client.models.get(name="m", version="1")
    model_example.description = "This is an updated description."
    model_example.tags = {"stage": "Prod"}
    ml_client.models.create_or_update(model=model_example)
    again = ml_client.models.get(name="m", version="1")
    assert again.description == "This is an updated description." and again.tags == {"stage": "Prod"}
    model_example.path = str(model_file)  # the same content again is the same version (Azure: same upload)
    assert ml_client.models.create_or_update(model_example).version == "1"
    model_file.write_bytes(b"weights-v2")  # other content at that path is another version
    model_example.path = str(model_file)
    with pytest.raises(RegistryError) as info:
        ml_client.models.create_or_update(model_example)
    assert "Asset paths cannot be updated" in info.value.message


def test_archive_and_restore_rules(registry: ModelRegistry, model_file: Path) -> None:
    registry.create(Model(name="m", path=str(model_file)))
    registry.create(Model(name="m", path=str(model_file)))
    registry.archive("m", "2")
    assert [m.version for m in registry.list("m")] == ["1"]
    assert [(m.name, m.version) for m in registry.list()] == [("m", "1")]  # latest shown version
    assert registry.get("m", label="latest").version == "1"
    assert registry.resolver.resolve("azureml:m:2").model == ("m", "2")  # still usable by reference
    registry.restore("m", "2")
    registry.archive("m")
    assert registry.list() == [] and [m.name for m in registry.list(archived_only=True)] == ["m"]
    assert [m.name for m in registry.list(include_archived=True)] == ["m"]
    new = registry.create(Model(name="m", path=str(model_file)))
    assert new.archived and registry.get("m", version="3").archived
    with pytest.raises(RegistryError) as info:
        registry.restore("m", "1")
    assert "model 'm' itself is archived" in info.value.message
    assert "runner model restore --name m" in (info.value.hint or "")
    registry.restore("m")
    assert [m.version for m in registry.list("m")] == ["3", "2", "1"]


def test_download(tmp_path: Path, registry: ModelRegistry, model_file: Path, mlflow_dir: Path) -> None:
    registry.create(Model(name="m", path=str(model_file)))
    target = registry.download("m", "1", tmp_path / "dl")
    assert target == tmp_path / "dl" / "m" / "model.pkl" and target.read_bytes() == b"weights-v1"
    registry.create(Model(name="mf", type="mlflow_model", path=str(mlflow_dir)))
    folder = registry.download("mf", "1", tmp_path / "dl")
    assert (folder / "sub" / "model.pkl").read_bytes() == b"m" and (folder / "MLmodel").exists()


def test_orphan_data_from_a_dead_process_is_replaced(ws: Workspace, registry: ModelRegistry,
                                                      model_file: Path) -> None:
    orphan = ws.default_datastore_root / "LocalUpload/m/1/model.pkl"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half-written")  # data without a committed row
    created = registry.create(Model(name="m", path=str(model_file)))
    assert created.version == "1" and orphan.read_bytes() == b"weights-v1"


def test_unknown_model_errors_list_what_exists(registry: ModelRegistry, model_file: Path) -> None:
    with pytest.raises(ResolveError) as info:
        registry.get("unknown")
    assert info.value.message == "unknown model 'unknown'; no models are registered in this workspace"
    registry.create(Model(name="known", path=str(model_file)))
    registry.create(Model(name="also-known", path=str(model_file)))
    with pytest.raises(ResolveError) as info:
        registry.get("unknown")
    assert info.value.message == "unknown model 'unknown'; models in this workspace: also-known, known"
    with pytest.raises(ResolveError) as info:
        registry.archive("unknown")
    assert info.value.message.startswith("unknown model 'unknown'")


def test_registries_are_local_namespaces(ws: Workspace, registry: ModelRegistry, model_file: Path,
                                         tmp_path: Path) -> None:
    shared = ModelRegistry(ws, registry_name="myreg")
    created = shared.create(Model(name="m", path=str(model_file)))
    assert created.name == "m" and created.version == "1"
    assert created.path == "azureml://datastores/workspaceblobstore/paths/LocalUpload/myreg/m/1/model.pkl"
    assert registry.list() == [] and [m.name for m in shared.list()] == ["m"]  # separate namespaces
    registry.create(Model(name="m", path=str(model_file)))
    registry.create(Model(name="m", path=str(model_file)))
    assert [m.version for m in shared.list("m")] == ["1"]
    assert [m.version for m in registry.list("m")] == ["2", "1"]
    rp = registry.resolver.resolve("azureml://registries/myreg/models/m/versions/1")
    assert rp.model == ("m", "1") and "LocalUpload/myreg/m/1" in rp.uri
    # a registry reference the registry does not hold falls back to the workspace's model of that name
    assert "LocalUpload/m/2" in registry.resolver.resolve("azureml://registries/myreg/models/m/versions/2").uri
    with pytest.raises(ResolveError) as info:
        registry.resolver.resolve("azureml://registries/myreg/models/m/versions/7")
    assert "--registry-name myreg" in (info.value.hint or "")
    shared.archive("m")
    assert shared.list() == [] and [m.name for m in registry.list()] == ["m"]
    assert shared.download("m", "1", tmp_path / "dl").read_bytes() == b"weights-v1"
    with pytest.raises(SpecError):
        ModelRegistry(ws, registry_name="a/b")
