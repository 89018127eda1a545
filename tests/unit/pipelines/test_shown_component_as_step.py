"""The YAML ``runner component show`` prints is a component file wherever one is read: ``component
create``, a pipeline step's ``component: ./shown.yml`` and ``load_component`` all ignore its read-only
fields (``id``, ``creation_context``, ``source``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runner import load_component
from runner.cli.main import app
from runner.pipelines.submit import plan_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

COMPONENT = """\
name: upper
version: 1
command: tr a-z A-Z < ${{inputs.text}} > ${{outputs.out}}/t.txt
environment: {image: runner/busybox:latest}
inputs:
  text: {type: uri_file}
outputs:
  out: {type: uri_folder}
"""
PIPELINE = """\
type: pipeline
jobs:
  up:
    component: ./shown.yml
    inputs:
      text: ./t.txt
"""


def _cli(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_a_step_takes_the_yaml_component_show_prints(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "upper.yml").write_text(COMPONENT)
    (tmp_path / "t.txt").write_text("hi\n")
    _cli(ws, "component", "create", "--file", str(tmp_path / "upper.yml"))
    shown = _cli(ws, "component", "show", "--name", "upper", "--version", "1", "-o", "yaml")
    assert "id: azureml:upper:1" in shown and "creation_context:" in shown and "source:" in shown
    (tmp_path / "shown.yml").write_text(shown)
    (tmp_path / "pipeline.yml").write_text(PIPELINE)
    graph, _ = plan_pipeline(Workspace(ws), load_pipeline_spec(tmp_path / "pipeline.yml"), name="p1")
    step = graph.steps["up"]
    assert step.component is not None and (step.component.name, step.component.version) == ("upper", "1")
    assert step.spec.command.startswith("tr a-z A-Z")
    loaded = load_component(source=tmp_path / "shown.yml")
    assert (loaded.name, loaded.version) == ("upper", "1")
