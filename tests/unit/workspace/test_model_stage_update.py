"""A model version's ``stage`` can change, as in Azure ML (free text, like description and tags):
``update --set stage=...`` / ``--remove stage``, and ``create_or_update`` of a fetched version; listing
by stage sees the change. A data asset has no stage, and every other field stays immutable."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import Workspace
from runner.workspace.registry import DataRegistry, ModelRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "model.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"w")
    return path


def test_update_sets_and_removes_the_stage(ws: Workspace, model_file: Path) -> None:
    registry = ModelRegistry(ws)
    registry.create(Model(name="m1", path=str(model_file), stage="Development"))
    assert registry.update("m1", "1", set_values={"stage": "Production"}).stage == "Production"
    assert registry.get("m1", "1").stage == "Production"
    assert registry.update("m1", "1", set_values={"stage": "Staging", "description": "d"}).description == "d"
    assert registry.update("m1", "1", remove=["stage"]).stage is None
    with pytest.raises(RegistryError) as info:
        registry.update("m1", "1", set_values={"type": "mlflow_model"})
    assert "'type' cannot be updated: only description, tags and stage of a model version can change" \
        in info.value.message


def test_create_or_update_of_a_fetched_version_changes_its_stage_and_list_sees_it(
        ws: Workspace, model_file: Path) -> None:
    ml_client = MLClient(workspace_dir=ws.root)
    ml_client.models.create_or_update(Model(name="m1", path=str(model_file)))
    ml_client.models.create_or_update(Model(name="m2", path=str(model_file), stage="Production"))
    m = ml_client.models.get("m1", "1")
    m.stage = "Production"
    assert ml_client.models.create_or_update(m).stage == "Production"
    assert ml_client.models.get("m1", "1").stage == "Production"
    assert sorted(x.name or "" for x in ml_client.models.list(stage="Production")) == ["m1", "m2"]
    m.stage = "Archived"  # free text, as Azure's ModelVersion.stage
    ml_client.models.create_or_update(m)
    assert [x.name for x in ml_client.models.list(stage="Production")] == ["m2"]


def test_a_data_asset_has_no_stage_to_set(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n")
    data = DataRegistry(ws)
    data.create(Data(name="d", path=str(folder)))
    with pytest.raises(RegistryError) as info:
        data.update("d", "1", set_values={"stage": "Production"})
    assert "'stage' cannot be updated: only description and tags of a data asset version can change" \
        in info.value.message


def test_registering_a_version_again_without_a_stage_keeps_the_stage_it_was_promoted_to(
        ws: Workspace, model_file: Path) -> None:
    """A CI job that registers version 3 on every run must not demote it after a later step promoted it:
    a stage not given is left as stored (``--remove stage`` clears it)."""
    ml_client = MLClient(workspace_dir=ws.root)
    ml_client.models.create_or_update(Model(name="m1", version="3", path=str(model_file)))
    ml_client.models.create_or_update(Model(name="m1", version="3", path=str(model_file), stage="Production"))
    again = ml_client.models.create_or_update(Model(name="m1", version="3", path=str(model_file),
                                                    description="rerun"))
    assert (again.stage, again.description) == ("Production", "rerun")
    assert ml_client.models.get("m1", "3").stage == "Production"
