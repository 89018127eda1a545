"""``runner job create --dry-run`` of a pipeline prints (and checks) what ``job create`` would run, as a
command job's dry run does: on the ``--backend`` given (an unknown one is create's error; the steps are
checked on that backend), with ``--set`` applied, and a step on a registered Ray compute writing its
outputs without a path to the compute's datastore (and refused on a backend the run refuses there). Each
run is the real CLI in a subprocess; nothing runs, nothing reaches a cluster, all in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli

from runner.pipelines.submit import plan_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.datastores import AzureDatastore, DatastoreStore
from runner.workspace.db import Workspace

PIPELINE = """\
type: pipeline
outputs:
  final: {}
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
      o2: ${{parent.outputs.final}}
"""
RAY = ("--backend process runs jobs on this machine; Ray compute 'cluster' runs each job in a container "
       "on its nodes")


def _file(tmp_path: Path, text: str, name: str = "p.yml") -> Path:
    path = tmp_path / "spec" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def _refused(result: object) -> str:
    """The one error a refused command prints (its first line), after checking it is one and only that."""
    assert result.returncode == 2, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr and result.stdout == ""  # type: ignore[attr-defined]
    first: str = result.stderr.splitlines()[0]  # type: ignore[attr-defined]
    assert first.startswith("error: "), result.stderr  # type: ignore[attr-defined]
    return first


def test_an_unknown_backend_is_the_error_create_gives(workspace_dir: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, PIPELINE)
    dry = _refused(cli(workspace_dir, "job", "create", "-f", str(path), "--dry-run", "--backend", "bogus"))
    assert "unknown backend 'bogus'" in dry
    assert dry == _refused(cli(workspace_dir, "job", "create", "-f", str(path), "--backend", "bogus"))
    assert cli(workspace_dir, "job", "list", "-o", "json", check=True).stdout.strip() == "[]"


def test_the_steps_are_checked_on_the_backend_given(workspace_dir: Path, tmp_path: Path) -> None:
    """docker_args the docker backend refuses (without the opt-in) are no refusal for host processes:
    ``job create --backend process`` takes the pipeline, so its dry run does."""
    privileged = "      o: {mode: upload}\n    resources: {docker_args: --privileged}\n"
    path = _file(tmp_path, PIPELINE.replace("      o: {mode: upload}\n", privileged))
    assert "--privileged" in _refused(cli(workspace_dir, "job", "create", "-f", str(path), "--dry-run"))
    plan_pipeline(Workspace(workspace_dir), load_pipeline_spec(path), name="p", backend="process")  # create's
    dry = cli(workspace_dir, "job", "create", "-f", str(path), "--dry-run", "--backend", "process", "-n", "p")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("pipeline     p  (2 steps)")


@pytest.fixture
def cluster(workspace_dir: Path) -> Path:
    ws = Workspace(workspace_dir)
    DatastoreStore(ws).save(AzureDatastore(name="az", type="azure_blob", account_name="acct",
                                           container_name="c"))
    ComputeStore(ws).save(RayCompute(name="cluster", address="http://127.0.0.2:9", datastore="az"))
    return workspace_dir


def _locations(stdout: str) -> dict[str, str]:
    shown = json.loads(stdout)
    found = {f"{s['name']}.{o['name']}": o["location"] for s in shown["steps"] for o in s["outputs"]}
    return {**found, "final": shown["outputs"]["final"]["location"]}


def test_set_sends_the_steps_to_a_ray_compute_and_its_datastore(cluster: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, PIPELINE)
    here = cli(cluster, "job", "create", "-f", str(path), "--dry-run", "-n", "p", "-o", "json", check=True)
    assert _locations(here.stdout) == {"w.o": "azureml://datastores/workspaceblobstore/paths/azureml/p-w/o",
                                       "r.o2": "azureml://datastores/workspaceblobstore/paths/azureml/p-r/o2",
                                       "final": "azureml://datastores/workspaceblobstore/paths/azureml/p-r/o2"}
    on_ray = cli(cluster, "job", "create", "-f", str(path), "--dry-run", "-n", "p", "-o", "json",
                 "--set", "settings.default_compute=azureml:cluster", check=True)
    assert _locations(on_ray.stdout) == {"w.o": "azureml://datastores/az/paths/azureml/p-w/o",
                                         "r.o2": "azureml://datastores/az/paths/azureml/p-r/o2",
                                         "final": "azureml://datastores/az/paths/azureml/p-r/o2"}
    validated = cli(cluster, "job", "validate", "-f", str(path), "-n", "p", "-o", "json",
                    "--set", "settings.default_compute=azureml:cluster", check=True)
    assert _locations(validated.stdout) == _locations(on_ray.stdout)


def test_a_backend_a_ray_compute_refuses_is_refused_as_create_refuses_it(cluster: Path,
                                                                        tmp_path: Path) -> None:
    """For a pipeline's step and for a command job alike: the dry run says what create says."""
    path = _file(tmp_path, PIPELINE)
    ray = ("--set", "settings.default_compute=azureml:cluster")
    dry = _refused(cli(cluster, "job", "create", "-f", str(path), "--dry-run", "--backend", "process", *ray))
    assert RAY in dry and "step 'w': " in dry
    assert dry == _refused(cli(cluster, "job", "create", "-f", str(path), "--backend", "process", *ray))
    job = _file(tmp_path, "command: echo hi\nenvironment: {image: 'runner/busybox:latest'}\n"
                          "compute: azureml:cluster\n", "job.yml")
    dry_job = _refused(cli(cluster, "job", "create", "-f", str(job), "--dry-run", "--backend", "process"))
    assert RAY in dry_job
    assert cli(cluster, "job", "list", "-o", "json", check=True).stdout.strip() == "[]"
