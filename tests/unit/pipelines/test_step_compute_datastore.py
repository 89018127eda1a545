"""A pipeline step on a registered Ray compute writes its outputs without a ``path`` to the compute's own
datastore when it runs (``runner.jobs.ray_submit``): ``job validate`` and ``job create`` say (and check)
that same place, for a first step and for a step that reads another step's output, with the one rule the
run uses (``runner.jobs.compute``). A ``--backend`` the run refuses for a Ray step is refused before
anything runs, with the run's words, at the line that sends the step there. A step that runs here keeps
the workspace's default datastore. Nothing here reaches a cluster; everything lives in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs import ray_submit
from runner.jobs.compute import choose_compute
from runner.jobs.ray_submit import submit_ray_job
from runner.pipelines.record import PipelinePlan, step_spec
from runner.pipelines.submit import plan_pipeline, submit_pipeline, validate_pipeline
from runner.spec.job import CommandJobSpec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.datastores import AzureDatastore, DatastoreStore
from runner.workspace.db import Workspace

PIPELINE = """\
type: pipeline
settings:
  default_compute: azureml:cluster
jobs:
  w:
    command: echo hi > ${{outputs.o}}/x
    environment: {image: 'runner/busybox:latest'}
    outputs:
      o: {mode: upload}
  r:
    command: cat ${{inputs.i}}/x > ${{outputs.o2}}/y
    environment: {image: 'runner/busybox:latest'}
    inputs:
      i: ${{parent.jobs.w.outputs.o}}
    outputs:
      o2: {mode: upload}
"""
COMPUTE = RayCompute(name="cluster", address="http://127.0.0.2:9", datastore="az")
WHERE = {"w": ("o", "azureml://datastores/az/paths/azureml/p-w/o"),
         "r": ("o2", "azureml://datastores/az/paths/azureml/p-r/o2")}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    DatastoreStore(workspace).save(AzureDatastore(name="az", type="azure_blob", account_name="acct",
                                                  container_name="c"))
    ComputeStore(workspace).save(COMPUTE)
    return workspace


def _pipeline(tmp_path: Path, text: str = PIPELINE) -> Path:
    path = tmp_path / "spec" / "p.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_validate_puts_default_outputs_on_the_computes_datastore(ws: Workspace, tmp_path: Path) -> None:
    _, locations, _ = validate_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path)), name="p")
    assert locations == {step: {output: uri} for step, (output, uri) in WHERE.items()}


def test_validate_says_where_the_run_writes(ws: Workspace, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step submitted as the orchestrator submits it (a Ray step: ``submit_ray_job``, the cluster
    left out), upstream first: its recorded outputs are where validate said, and the pipeline's too."""
    _, locations = plan_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path)), name="p")
    monkeypatch.setattr(ray_submit, "check_cluster", lambda *args: None)  # the network: no cluster here
    monkeypatch.setattr(ray_submit, "_submit", lambda *args: None)
    record = submit_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path)), name="p")
    plan = PipelinePlan.from_extra(record.extra["pipeline"])
    for step in ("w", "r"):
        job = step_spec(plan.steps[step])
        compute = choose_compute(ws, job).compute
        assert compute is not None and compute.datastore == "az"
        ran = submit_ray_job(ws, job, compute=compute, name=plan.steps[step].job)
        output, _ = WHERE[step]
        assert ran.outputs[output] == locations[step][output]


def test_the_pipeline_records_its_outputs_where_the_step_writes(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("      o2: {mode: upload}", "      o2: ${{parent.outputs.final}}")
    record = submit_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path, text + "outputs:\n  final: {}\n")),
                             name="p")
    assert record.outputs["final"] == WHERE["r"][1]


def test_a_step_that_runs_here_keeps_the_workspace_default(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("azureml:cluster", "azureml:not-registered")
    _, locations = plan_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path, text)), name="p")
    assert locations == {"w": {"o": "azureml://datastores/workspaceblobstore/paths/azureml/p-w/o"},
                         "r": {"o2": "azureml://datastores/workspaceblobstore/paths/azureml/p-r/o2"}}


def _line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def _step_job(ws: Workspace, path: Path, step: str) -> CommandJobSpec:
    """Step ``step``'s job as the orchestrator hands it over (pipeline ``q``: nothing recorded)."""
    graph, _ = plan_pipeline(ws, load_pipeline_spec(path), name="q")
    return step_spec(PipelinePlan.from_graph(graph, backend=None, upload_on_failure=True).steps[step])


def test_a_backend_the_run_refuses_is_refused_at_validate(ws: Workspace, tmp_path: Path) -> None:
    path = _pipeline(tmp_path)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p", backend="process")
    err = refused.value
    with pytest.raises(SpecError) as at_run:  # what the step's submission says (before the cluster)
        submit_ray_job(ws, _step_job(ws, path, "w"), compute=COMPUTE, name="q-w", backend="process")
    assert err.message == f"step 'w': {at_run.value.message}" and err.hint == at_run.value.hint
    assert err.where is not None and err.where.line == _line(path, "  default_compute:")  # what sends it
    assert err.field == "settings.default_compute"
    assert not ws.job_exists("p") and not ws.job_exists("q-w")


def test_docker_is_the_backend_a_ray_step_runs_on(ws: Workspace, tmp_path: Path) -> None:
    _, locations = plan_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path)), name="p", backend="docker")
    assert locations["r"] == {"o2": WHERE["r"][1]}


def test_no_upload_on_failure_is_refused_before_the_pipeline_is_queued(ws: Workspace, tmp_path: Path) -> None:
    """``job create --no-upload-on-failure``: the Ray step's submission would refuse it, so the pipeline's
    does, with the same words, and nothing is recorded."""
    path = _pipeline(tmp_path)
    with pytest.raises(SpecError) as refused:
        submit_pipeline(ws, load_pipeline_spec(path), name="p", upload_on_failure=False)
    with pytest.raises(SpecError) as at_run:
        submit_ray_job(ws, _step_job(ws, path, "w"), compute=COMPUTE, name="q-w", upload_on_failure=False)
    assert refused.value.message == f"step 'w': {at_run.value.message}"
    assert "--no-upload-on-failure keeps outputs staged" in refused.value.message
    assert not ws.job_exists("p") and not ws.job_exists("p-w") and not ws.job_exists("q-w")
