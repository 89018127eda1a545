"""The names a ported script imports besides the jobs' ones: azure.ai.ml's ``load_model``, ``load_data``,
``load_environment``, ``load_datastore`` and ``runner.constants.ListViewType``."""

from __future__ import annotations

from pathlib import Path

import pytest
from needs import require_module

from runner import MLClient, load_data, load_datastore, load_environment, load_model
from runner.constants import ListViewType
from runner.entities import Environment


def test_loaders_read_azure_yaml(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text("name: m\npath: weights\ntype: mlflow_model\n")
    (tmp_path / "d.yml").write_text("name: d\npath: rows\n")
    (tmp_path / "e.yml").write_text("name: e\nversion: 2\nimage: runner/busybox:latest\n")
    (tmp_path / "s.yml").write_text("name: s\ntype: azure_blob\naccount_name: a\ncontainer_name: c\n")
    model = load_model(source=tmp_path / "m.yml", params_override=[{"version": "3"}])
    assert (model.name, model.version, model.type) == ("m", "3", "mlflow_model")
    assert load_data(str(tmp_path / "d.yml")).name == "d"
    env = load_environment(tmp_path / "e.yml")
    assert isinstance(env, Environment) and (env.name, env.version, env.image) == ("e", "2",
                                                                                    "runner/busybox:latest")
    assert load_datastore(tmp_path / "s.yml").container == "c"


def test_a_loaded_environment_registers(tmp_path: Path) -> None:
    (tmp_path / "e.yml").write_text("name: e\nversion: 2\nimage: runner/busybox:latest\n")
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    saved = ml_client.environments.create_or_update(load_environment(tmp_path / "e.yml"))
    assert (saved.name, saved.version, saved.image) == ("e", "2", "runner/busybox:latest")


def test_list_view_type_has_azures_values() -> None:
    azure = require_module("azure.ai.ml.constants", "the oracle the constants are compared with")
    assert {m.name: m.value for m in azure.ListViewType} == {
        k: v for k, v in vars(ListViewType).items() if not k.startswith("_")}


def test_list_view_type_selects_archived(tmp_path: Path) -> None:
    from runner import Model

    (tmp_path / "w.bin").write_bytes(b"w")
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    ml_client.models.create_or_update(Model(name="m", path=str(tmp_path / "w.bin")))
    ml_client.models.archive("m", "1")
    assert [m.name for m in ml_client.models.list(list_view_type=ListViewType.ARCHIVED_ONLY)] == ["m"]
    assert list(ml_client.models.list(list_view_type=ListViewType.ACTIVE_ONLY)) == []
    with pytest.raises(AttributeError):
        ListViewType.NOPE  # type: ignore[attr-defined]  # noqa: B018
