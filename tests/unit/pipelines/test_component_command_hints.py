"""A component's command that names an input or output the component does not declare: the hint says to
declare it in the component (a file, or a step's inline ``component:``), not "in the job"."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.submit import plan_pipeline
from runner.spec.component import load_component_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

INLINE = """\
type: pipeline
jobs:
  a:
    type: command
    component:
      command: echo ${{inputs.x}} > ${{outputs.o}}/x
      environment: {image: runner/python:3.11}
      inputs:
        y: {type: string, default: "1"}
      outputs:
        o: {type: uri_folder}
"""


def test_an_inline_components_undeclared_input_is_to_be_declared_in_the_component(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yml"
    path.write_text(INLINE)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(Workspace(tmp_path / "ws"), load_pipeline_spec(path), name="p1")
    err = refused.value
    assert err.field == "jobs.a.component.command" and err.where is not None and err.where.line == 6
    assert "does not contain 'x'" in err.message
    assert err.hint is not None and "in the job" not in err.hint
    assert "under inputs: in the component" in err.hint and "(defined inputs: y)" in err.hint


@pytest.mark.parametrize(("command", "kind", "defined"), [
    ("echo ${{inputs.x}} > ${{outputs.o}}/x", "inputs", "y"),
    ("echo ${{inputs.y}} > ${{outputs.out}}/x", "outputs", "o")])
def test_a_component_files_undeclared_name_is_to_be_declared_in_the_component(
        tmp_path: Path, command: str, kind: str, defined: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(f"name: c\ncommand: {command}\nenvironment: {{image: runner/python:3.11}}\n"
                    "inputs:\n  y: {type: string, default: '1'}\noutputs:\n  o: {type: uri_folder}\n")
    with pytest.raises(SpecError) as refused:
        load_component_spec(path)
    hint = refused.value.hint or ""
    assert f"under {kind}: in the component" in hint and f"(defined {kind}: {defined})" in hint, hint
