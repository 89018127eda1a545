"""A registered component keeps the input types its YAML wrote, ``uri_folder`` (the default) too: an
untyped step input takes the type of the output it is bound to, so a written ``uri_folder`` dropped at
registration would let a file through where the component declared a folder."""

from __future__ import annotations

from pathlib import Path

from runner.spec.component import load_component_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace

COMPONENT = """\
name: reader
version: "1"
type: command
command: ls ${{inputs.folder}} ${{inputs.untyped}}
environment: {image: runner/busybox:latest}
inputs:
  folder: {type: uri_folder}
  untyped: {mode: ro_mount}
"""


def test_a_written_uri_folder_type_survives_registration(tmp_path: Path) -> None:
    path = tmp_path / "component.yml"
    path.write_text(COMPONENT)
    store = ComponentStore(Workspace(tmp_path / "ws"))
    store.create(load_component_spec(path))
    loaded = store.load("reader", "1")
    assert "type" in loaded.inputs["folder"].model_fields_set
    assert loaded.inputs["folder"].type.value == "uri_folder"
    assert "type" not in loaded.inputs["untyped"].model_fields_set  # never written: still untyped
