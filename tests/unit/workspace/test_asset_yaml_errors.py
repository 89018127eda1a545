"""Model, data and environment YAML errors are as good as a job YAML's: file:line:col and the field, a
"did you mean" for a misspelled field or type (the job YAML's ``did_you_mean``), and an error about what
``path`` names (missing, a folder for a ``uri_file``) pointing at its ``path:`` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import RunnerError, SpecError
from runner.spec.data import load_data
from runner.spec.environment import environment_file
from runner.spec.model import load_model
from runner.workspace.datastores import load_datastore
from runner.workspace.db import Workspace
from runner.workspace.registry import DataRegistry, ModelRegistry


@pytest.mark.parametrize(("loader", "text", "expected"), [
    (load_model, "name: m2\nversion: 1\npath: x\ntyp: mlflow_model\n",
     ":4:1: typ: unknown field 'typ' in a model (did you mean 'type'?)"),
    (load_model, "name: m6\npath: x\ntype: mlflow\n",
     ":3:1: type: unknown model type 'mlflow' (did you mean 'mlflow_model'?)"),
    (load_data, "name: d4\ntyp: uri_folder\npath: x\n",
     ":2:1: typ: unknown field 'typ' in a data asset (did you mean 'type'?)"),
    (load_data, "name: d\npath: x\ntype: mltabel\n",
     ":3:1: type: unknown data asset type 'mltabel' (did you mean 'mltable'?)"),
])
def test_a_misspelled_field_or_type_says_what_was_meant(tmp_path: Path, loader: object, text: str,
                                                        expected: str) -> None:
    spec = tmp_path / "asset.yml"
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        loader(spec)  # type: ignore[operator]
    assert info.value.render().startswith(f"{spec}{expected}")


def test_a_misspelled_environment_field_says_what_was_meant(tmp_path: Path) -> None:
    spec = tmp_path / "env.yml"
    spec.write_text("name: e\nimgae: python:3.11\n")
    with pytest.raises(SpecError) as info:
        environment_file(str(spec), tmp_path)
    assert info.value.render().startswith(
        f"{spec}:2:1: imgae: unknown field 'imgae' in an environment (did you mean 'image'?)")


@pytest.mark.parametrize(("text", "expected"), [
    ("name: ds\ntype: azure_blob\naccount_name: x\ncontainer_nam: y\n",
     ":4:1: container_nam: unknown field 'container_nam' (did you mean 'container_name'?) "
     "(datastore type azure_blob)"),
    ("name: ds\ntype: azure_blobb\naccount_name: x\ncontainer_name: y\n",
     ":2:1: type: unknown datastore type 'azure_blobb' (did you mean 'azure_blob'?)"),
])
def test_a_misspelled_datastore_field_or_type_says_what_was_meant(tmp_path: Path, text: str,
                                                                  expected: str) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        load_datastore(spec)
    assert info.value.render().startswith(f"{spec}{expected}")


def _registered(registry: ModelRegistry | DataRegistry, asset: object) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        registry.create_or_update(asset)  # type: ignore[arg-type]
    return info.value


def test_a_missing_model_path_points_at_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "m5.yml"
    spec.write_text("name: m5\npath: nope-folder\n")
    err = _registered(ModelRegistry(Workspace(tmp_path / "ws")), load_model(spec))
    assert err.render().startswith(f"{spec}:2:1: path: '{tmp_path / 'nope-folder'}' does not exist")


def test_a_folder_for_a_uri_file_points_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    spec = tmp_path / "d1.yml"
    spec.write_text("name: d2\ntype: uri_file\npath: folder\n")
    err = _registered(DataRegistry(Workspace(tmp_path / "ws")), load_data(spec))
    assert err.render().startswith(f"{spec}:3:1: path: a uri_file data asset must be a file")


def test_a_path_given_as_a_flag_is_not_placed_on_the_yaml_line(tmp_path: Path) -> None:
    spec = tmp_path / "m.yml"
    spec.write_text("name: m\npath: here\n")
    model = load_model(spec, overrides={"path": str(tmp_path / "elsewhere")})
    err = _registered(ModelRegistry(Workspace(tmp_path / "ws")), model)
    assert err.where is None and err.render().startswith("path: ")
