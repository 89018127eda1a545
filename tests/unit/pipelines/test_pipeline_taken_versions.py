"""A pipeline step's output that would register a version that exists already is refused as the step's
other errors are: at the ``version:`` line, its field named as written in the pipeline file
(``jobs.<step>.outputs.<o>.version``), in the message's field and in the hint alike; whether the step
reads another step's output (the pipeline's precheck) or not (the step's whole plan)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import RegistryError
from runner.pipelines.submit import plan_pipeline
from runner.spec.data import Data
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace
from runner.workspace.registry import DataRegistry

PIPELINE = """\
type: pipeline
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}/made.txt
    environment: {image: unused:1}
    outputs:
      out: {mode: upload, name: d, version: "MAKE"}
  keep:
    type: command
    command: cp ${{inputs.src}}/made.txt ${{outputs.kept}}/
    environment: {image: unused:1}
    inputs:
      src: ${{parent.jobs.make.outputs.out}}
    outputs:
      kept:
        type: uri_folder
        mode: upload
        name: d
        version: "KEEP"
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    folder = tmp_path / "registered"
    folder.mkdir()
    (folder / "a.txt").write_text("a\n")
    DataRegistry(workspace).create(Data(name="d", version="1", path=str(folder), type="uri_folder"))
    return workspace


@pytest.mark.parametrize(("step", "output", "line"), [("keep", "kept", 22), ("make", "out", 10)])
def test_a_steps_taken_version_is_named_as_written(ws: Workspace, tmp_path: Path, step: str, output: str,
                                                   line: int) -> None:
    text = PIPELINE.replace('"MAKE"', '"1"' if step == "make" else '"2"')
    text = text.replace('"KEEP"', '"1"' if step == "keep" else '"3"')
    path = tmp_path / "pipeline.yml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(RegistryError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    err = refused.value
    field = f"jobs.{step}.outputs.{output}.version"
    assert err.field == field
    assert err.where is not None and err.where.file == path and err.where.line == line
    assert err.message.startswith(f"step '{step}': data asset 'd' version 1 exists already")
    assert err.hint is not None and err.hint.startswith(f"omit {field} to register the next version (2)")
    assert err.render().startswith(f"{path}:{line}:")


BOUND = """\
type: pipeline
outputs:
  m:
    name: d
    version: "1"
settings:
  default_compute: local-process
jobs:
  train:
    type: command
    command: echo made > ${{outputs.o}}/made.txt
    environment: {image: unused:1}
    outputs:
      o: ${{parent.outputs.m}}
"""


def test_a_taken_version_set_on_the_pipelines_output_is_named_there(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yml"
    path.write_text(BOUND)
    with pytest.raises(RegistryError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    err = refused.value
    assert err.field == "outputs.m.version"
    assert err.where is not None and err.where.file == path and err.where.line == 5
    assert err.message.startswith("step 'train': data asset 'd' version 1 exists already")
    assert err.hint is not None
    assert err.hint.startswith("omit outputs.m.version to register the next version (2)")
