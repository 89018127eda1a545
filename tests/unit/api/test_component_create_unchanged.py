"""``ml_client.components.create_or_update`` without a version returns the newest version when the
component is unchanged (the same spec and code), as ``runner component create`` does; a change (or an
archived newest version) takes the next number."""

from __future__ import annotations

from pathlib import Path

from runner import MLClient, load_component

COMPONENT = "name: up\ncommand: python run.py\ncode: ./src\nenvironment: {image: runner/python:3.11}\n"


def test_an_unchanged_component_is_not_registered_again(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "run.py").write_text("print(1)\n")
    (tmp_path / "up.yml").write_text(COMPONENT)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    first = ml_client.components.create_or_update(load_component(source=tmp_path / "up.yml"))
    again = ml_client.components.create_or_update(load_component(source=tmp_path / "up.yml"))
    assert (first.id, again.id) == ("azureml:up:1", "azureml:up:1")
    (tmp_path / "src" / "run.py").write_text("print(2)\n")  # other code: a new version
    changed = ml_client.components.create_or_update(load_component(source=tmp_path / "up.yml"))
    assert changed.id == "azureml:up:2"
    assert [c.id for c in ml_client.components.list("up")] == ["azureml:up:2", "azureml:up:1"]
    given = ml_client.components.create_or_update(load_component(source=tmp_path / "up.yml"), version="7")
    assert given.id == "azureml:up:7"  # a version given is that version, as before
