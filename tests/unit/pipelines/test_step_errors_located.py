"""Pipeline errors a user meets name the pipeline file's line: a step output (or an asset pipeline input)
bound through ``value:`` to a literal input is one type error at that ``value:`` line (Azure ML has no
primitive outputs: a step output is always a path), not "inside other text"; and a step that cannot be
submitted once its upstream ran says ``jobs.<step>.inputs.<name>`` at its line, as the prechecks do."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.pipelines.orchestrate import Orchestrator
from runner.pipelines.submit import submit_pipeline
from runner.spec.job_io import AssetInput
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace

PIPELINE = """\
type: pipeline
inputs:
  data: {type: uri_folder, path: ./data}
settings: {default_compute: local-process}
jobs:
  w:
    command: echo hi > ${{outputs.o}}/x
    environment: {image: 'unused:1'}
    outputs:
      o: {mode: upload}
  r:
    command: ls ${{inputs.i}}
    environment: {image: 'unused:1'}
    inputs:
      i: {path: '${{parent.jobs.w.outputs.o}}', mode: download}
"""


def _pipeline(tmp_path: Path, text: str = PIPELINE) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    path = tmp_path / "p.yml"
    path.write_text(text)
    return path


def _line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize(("bound", "gives"), [
    ("${{parent.jobs.w.outputs.o}}", "a path (uri_folder)"),
    ("${{parent.inputs.data}}", "a path (uri_folder)"),
])
def test_a_path_bound_through_value_to_an_integer_is_one_type_error(tmp_path: Path, bound: str,
                                                                     gives: str) -> None:
    path = _pipeline(tmp_path, PIPELINE + f"      n: {{type: integer, value: '{bound}'}}\n")
    with pytest.raises(SpecError) as caught:
        build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    err = caught.value
    assert "inside other text" not in err.message
    assert err.message == f"step 'r' input 'n': {bound} gives {gives}, but the step declares 'n' as integer"
    assert err.field == "jobs.r.inputs.n.value"
    assert err.where is not None and err.where.file == path and err.where.line == _line(path, "      n:")
    assert err.hint is not None and "'n' takes an integer literal or pipeline input" in err.hint


def test_a_step_output_bound_through_value_without_a_type_reads_it_as_a_path(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, PIPELINE + "      j: {value: '${{parent.jobs.w.outputs.o}}'}\n")
    graph = build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    j = graph.steps["r"].spec.inputs["j"]
    assert isinstance(j, AssetInput) and j.path == "azureml://jobs/p-w/outputs/o"
    assert [(e.source, e.target, e.input) for e in graph.edges] == [("w", "r", "i"), ("w", "r", "j")]


def test_a_step_refused_when_submitted_names_its_input_in_the_pipeline_file(tmp_path: Path) -> None:
    path = _pipeline(tmp_path)
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, load_pipeline_spec(path), name="p")
    orch = Orchestrator(ws, "p")
    gone = tmp_path / "gone"  # the upstream job's output, removed since it ran
    ws.create_job(JobRecord(name="p-w", status=JobStatus.COMPLETED, spec={"parent_job_name": "p"},
                            outputs={"o": str(gone)}))
    orch.steps["w"].status = JobStatus.COMPLETED.value
    orch._launch(orch.steps["r"])
    step = orch.steps["r"]
    assert step.status == JobStatus.FAILED.value and step.error is not None
    first = step.error.splitlines()[0]
    assert "<python>" not in first
    assert first.startswith(f"{path}:{_line(path, '      i:')}:")
    assert ": jobs.r.inputs.i.path: " in first and f"'{gone}' does not exist" in first
    record = orch._finish()
    assert record.error is not None and f"step r failed: {path}:{_line(path, '      i:')}:" in record.error
