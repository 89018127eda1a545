"""A pipeline step's named ``uri_file`` output without a ``path`` is refused when the pipeline is planned,
whether the step reads another step's output (the precheck) or not (its whole plan): its default location
is a folder and a uri_file data asset is one file, so the step could only fail after it ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.submit import plan_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

PIPELINE = """\
type: pipeline
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}
    environment: {image: unused:1}
    outputs:
      out: {type: uri_file, mode: upload, MAKE}
  keep:
    type: command
    command: cp ${{inputs.src}} ${{outputs.kept}}
    environment: {image: unused:1}
    inputs:
      src: ${{parent.jobs.make.outputs.out}}
    outputs:
      kept: {type: uri_file, mode: upload, KEEP}
"""
FILE = "path: azureml://datastores/workspaceblobstore/paths/p/x.csv"


@pytest.mark.parametrize(("step", "output", "line"), [("keep", "kept", 18), ("make", "out", 10)])
def test_a_steps_named_uri_file_output_needs_a_path(tmp_path: Path, step: str, output: str,
                                                    line: int) -> None:
    text = PIPELINE.replace("MAKE", "name: d" if step == "make" else FILE)
    text = text.replace("KEEP", "name: d" if step == "keep" else FILE)
    path = tmp_path / "pipeline.yml"
    path.write_text(text)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(Workspace(tmp_path / "ws"), load_pipeline_spec(path), name="p1")
    err = refused.value
    assert err.field == f"jobs.{step}.outputs.{output}"
    assert err.where is not None and err.where.file == path and err.where.line == line
    assert err.message.startswith(f"step '{step}': uri_file output '{output}' has no path")
    assert err.hint is not None and "add path: naming the file" in err.hint
