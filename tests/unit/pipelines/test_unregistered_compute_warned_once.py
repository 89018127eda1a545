"""A pipeline whose steps name a compute that is not registered says so once, in the runner's warning
style, naming the steps (the command job's wording: not registered, so it runs on this machine, and how
to register one); a step's submission logs nothing more (no ``WARNING runner.jobs.operations:`` line per
step). A registered Ray compute is not said to be ignored."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from runner.jobs.compute import choose_compute
from runner.pipelines.graph import build_graph
from runner.pipelines.record import PipelinePlan, step_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.db import Workspace

PIPELINE = """\
type: pipeline
settings:
  default_compute: azureml:cpu-cluster
jobs:
  make:
    command: echo 1 > ${{outputs.out}}/w.txt
    environment: {image: runner/busybox:latest}
    outputs:
      out: {mode: upload}
  copy:
    command: cp ${{inputs.text}}/w.txt ${{outputs.out}}/w.txt
    environment: {image: runner/busybox:latest}
    inputs:
      text: ${{parent.jobs.make.outputs.out}}
    outputs:
      out: {mode: upload}
"""
NOTE = ("compute 'cpu-cluster' is not registered in this workspace, so the job runs on this machine "
        "(`runner compute create --name cpu-cluster --type ray --address http://<head>:8265` registers a "
        "Ray cluster)")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "p.yml"
    path.write_text(textwrap.dedent(PIPELINE))
    return path


def test_one_warning_naming_the_steps(tmp_path: Path, path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    graph = build_graph(load_pipeline_spec(path), ws, pipeline_name="p1")
    about = [w for w in graph.warnings if "compute" in w]
    assert about == [f"{path}:3:3: {NOTE} (steps make, copy)"], graph.warnings
    plan = PipelinePlan.from_extra(PipelinePlan.from_graph(graph, backend=None, upload_on_failure=True)
                                   .to_extra())
    with caplog.at_level(logging.WARNING):
        for step in ("make", "copy"):  # as the orchestrator hands each step to JobOperations
            spec = step_spec(plan.steps[step])
            assert [w for w in spec.warnings if "compute" in w] == [f"{path}:3:3: {NOTE}"]
            assert choose_compute(ws, spec).note is None  # what create_or_update would log
    assert caplog.records == []


def test_a_registered_ray_compute_is_not_said_to_be_ignored(tmp_path: Path, path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ComputeStore(ws).save(RayCompute(name="cpu-cluster", address="http://127.0.0.1:8265"))
    graph = build_graph(load_pipeline_spec(path), ws, pipeline_name="p1")
    assert [w for w in graph.warnings if "compute" in w] == []
    for node in graph.steps.values():
        assert [w for w in node.spec.warnings if "compute" in w] == []
