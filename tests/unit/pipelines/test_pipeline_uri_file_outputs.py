"""A pipeline step's named ``uri_file`` output without a ``path`` goes to its default file, as in Azure ML
(``.../paths/azureml/<step job>/<output>/<output>``), whether the step reads another step's output (the
precheck) or not (its whole plan); its step's plan registers that file as a uri_file data asset. (This
reverses the refusal this file asserted before, deliberately: Azure's jobs must run unchanged.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.submit import plan_job
from runner.modes import PathKind
from runner.pipelines.submit import plan_pipeline
from runner.plan.types import AssetRef
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace

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
      src: {type: uri_file, path: '${{parent.jobs.make.outputs.out}}'}
    outputs:
      kept: {type: uri_file, mode: upload, KEEP}
"""
FILE = "path: azureml://datastores/workspaceblobstore/paths/p/x.csv"


@pytest.mark.parametrize(("step", "output"), [("keep", "kept"), ("make", "out")])
def test_a_steps_named_uri_file_output_without_a_path_gets_its_default_file(tmp_path: Path, step: str,
                                                                            output: str) -> None:
    text = PIPELINE.replace("MAKE", "name: d" if step == "make" else FILE)
    text = text.replace("KEEP", "name: d" if step == "keep" else FILE)
    path = tmp_path / "pipeline.yml"
    path.write_text(text)
    ws = Workspace(tmp_path / "ws")
    graph, locations = plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    default = f"azureml://datastores/workspaceblobstore/paths/azureml/p1-{step}/{output}/{output}"
    assert locations[step] == {output: default}
    made = locations["make"]["out"].split("/paths/", 1)[1]
    (ws.default_datastore_root / made).parent.mkdir(parents=True)
    (ws.default_datastore_root / made).write_text("made\n")  # as if upstream ran
    ws.create_job(JobRecord(name="p1-make", status=JobStatus.COMPLETED, outputs=locations["make"]))
    b = plan_job(graph.steps[step].spec, workspace=ws, job_name=f"p1-{step}").outputs[0]
    assert (b.uri, b.kind, b.registered_as) == (default, PathKind.FILE, AssetRef("data", "d"))
