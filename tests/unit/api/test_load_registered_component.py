"""``load_component(client=ml_client, name=..., version=...)`` is the registered component, as azure.ai.ml's
(``client.components.get(name, version)``; azureml-examples' registered-components pipelines use it);
without a source nor those, one ``SpecError`` names both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, load_component
from runner.errors import SpecError

COMPONENT = """\
name: shout
version: "3"
type: command
inputs:
  text: {type: string}
command: echo ${{inputs.text}}
environment: runner/python:3.11
"""


def test_the_registered_component_by_client_name_and_version(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    (tmp_path / "shout.yml").write_text(COMPONENT)
    ml_client.components.create_or_update(load_component(source=tmp_path / "shout.yml"))
    loaded = load_component(client=ml_client, name="shout", version="3")
    assert loaded.id == "azureml:shout:3" and loaded.spec.command == "echo ${{inputs.text}}"


def test_neither_source_nor_client_name_version(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError, match="needs a source, or client, name and version") as refused:
        load_component(client=ml_client, name="shout")  # no version: Azure refuses it too
    assert "load_component(client=ml_client, name='train', version='1')" in str(refused.value)
