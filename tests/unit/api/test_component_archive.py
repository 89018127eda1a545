"""``ml_client.components.archive`` / ``restore``, as azure.ai.ml's (azureml-examples'
sdk/python/assets/component/component.ipynb ends with them): a version, or the whole component, is
archived; ``list`` leaves archived ones out unless ``list_view_type`` asks for them; ``get`` of an
archived version still gets it; an unknown component is ``ResourceNotFoundError``. Files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError

from runner import MLClient, load_component
from runner.client import ALL, ARCHIVED_ONLY

COMPONENT = """\
name: train_data_component_sdk
version: {version}
type: command
inputs:
  training_data: {{type: uri_folder}}
command: echo {version} ${{{{inputs.training_data}}}}
environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest
"""


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    client = MLClient(workspace_dir=tmp_path / "ws")
    for version in ("1", "2"):
        (tmp_path / f"train{version}.yml").write_text(COMPONENT.format(version=version))
        client.components.create_or_update(load_component(source=f"train{version}.yml"))
    return client


def _listed(ml_client: MLClient, name: str | None = None, **view: object) -> list[str]:
    return [f"{c.name}:{c.version}" for c in ml_client.components.list(name, **view)]


def test_the_notebooks_archive_and_restore_of_the_whole_component(ml_client: MLClient) -> None:
    name = "train_data_component_sdk"
    assert ml_client.components.archive(name=name) is None
    assert _listed(ml_client) == [] and _listed(ml_client, name) == []
    assert _listed(ml_client, list_view_type=ARCHIVED_ONLY) == [f"{name}:2"]
    assert ml_client.components.get(name, version="1").version == "1"  # still there by version
    assert ml_client.components.restore(name=name) is None
    assert _listed(ml_client) == [f"{name}:2"]
    assert _listed(ml_client, name) == [f"{name}:2", f"{name}:1"]


def test_one_version_is_archived_alone(ml_client: MLClient) -> None:
    name = "train_data_component_sdk"
    ml_client.components.archive(name, version="2")
    assert _listed(ml_client, name) == [f"{name}:1"]
    assert _listed(ml_client, name, list_view_type=ALL) == [f"{name}:2", f"{name}:1"]
    assert ml_client.components.get(name).version == "1"  # the newest not archived
    assert _listed(ml_client) == [f"{name}:2"]  # the component is not archived: its newest is listed


def test_an_unknown_component_or_version_is_not_found(ml_client: MLClient) -> None:
    with pytest.raises(ResourceNotFoundError, match="unknown component 'nope'"):
        ml_client.components.archive("nope")
    with pytest.raises(ResourceNotFoundError, match="has no version 9"):
        ml_client.components.restore("train_data_component_sdk", version=9)
