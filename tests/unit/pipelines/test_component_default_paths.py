"""A component input's relative default path is relative to the component YAML's folder, as its ``code``
is: a step that gives no value reads that folder whether the component is a file next to another
pipeline or registered (registration records the path it resolves to; the data is not copied, only the
code is snapshot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.pipelines.submit import plan_pipeline
from runner.spec.component import load_component_spec
from runner.spec.job_io import AssetInput
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace

COMPONENT = """\
name: reader
command: cat ${{inputs.d}}/f.txt > ${{outputs.o}}/f.txt
environment: {image: runner/busybox:latest}
inputs:
  d: {type: uri_folder, default: ./data}
outputs:
  o: {type: uri_folder}
"""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    component, pipeline = tmp_path / "component", tmp_path / "pipeline"
    for folder in (component, pipeline):  # each has a data folder: the step must read the component's
        (folder / "data").mkdir(parents=True)
        (folder / "data" / "f.txt").write_text(folder.name)
    (component / "reader.yml").write_text(COMPONENT)
    return component, pipeline


def _step_input(ws: Workspace, pipeline: Path, reference: str) -> AssetInput:
    (pipeline / "p.yml").write_text(f"type: pipeline\njobs:\n  r:\n    component: {reference}\n")
    graph, _ = plan_pipeline(ws, load_pipeline_spec(pipeline / "p.yml"), name="p1")
    value = graph.steps["r"].spec.inputs["d"]
    assert isinstance(value, AssetInput)
    return value


def test_a_component_files_default_is_read_from_its_folder(folders: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    component, pipeline = folders
    value = _step_input(Workspace(tmp_path / "ws"), pipeline, "../component/reader.yml")
    assert value.path == str(component / "data")


def test_a_registered_components_default_is_where_it_was_registered_from(
        folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    component, pipeline = folders
    ws = Workspace(tmp_path / "ws")
    monkeypatch.chdir(tmp_path)
    record = ComponentStore(ws).create(load_component_spec(component / "reader.yml"))
    assert record.to_dict()["inputs"]["d"] == {"type": "uri_folder", "default": str(component / "data")}
    value = _step_input(ws, pipeline, "azureml:reader@latest")
    assert value.path == str(component / "data")
    again = ComponentStore(ws).create(load_component_spec(component / "reader.yml"), reuse_newest=True)
    assert again.unchanged and again.version == "1"
