"""``compute: azureml:serverless`` is Azure's keyword for "no cluster" (1b's pipeline-serverless.yml): here
the job simply runs on this machine, with one short note saying that serverless means this machine; no
advice to register a Ray compute named serverless. A Ray compute the user did register under that name
is used as any other. Workspaces in tmp_path; nothing runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from jobs_support import cli

from runner.jobs.compute import choose_compute
from runner.pipelines.graph import build_graph
from runner.spec.load import load_job_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.db import Workspace

NOTE = "compute 'serverless' is Azure's serverless compute, which is this machine here: the job runs on it"


def _job(tmp_path: Path, compute: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"command: echo hi\nenvironment:\n  image: runner/busybox:latest\ncompute: {compute}\n")
    return job


@pytest.mark.parametrize("compute", ["azureml:serverless", "serverless"])
@pytest.mark.parametrize("python", [False, True])
def test_serverless_runs_here_with_a_short_note(tmp_path: Path, compute: str, python: bool) -> None:
    job = _job(tmp_path, compute)
    spec = load_job_spec(job)
    choice = choose_compute(Workspace(tmp_path / "ws"), spec, python=python)
    assert choice.compute is None and choice.note == NOTE
    assert spec.warnings == [f"{job}:4:1: {NOTE}"], spec.warnings
    assert not any("compute create" in w or "create_or_update" in w for w in spec.warnings)


def test_a_ray_compute_registered_as_serverless_is_used(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ComputeStore(ws).save(RayCompute(name="serverless", address="http://127.0.0.1:8265"))
    choice = choose_compute(ws, load_job_spec(_job(tmp_path, "azureml:serverless")))
    assert choice.compute is not None and choice.compute.name == "serverless" and choice.note is None


def test_job_validate_says_the_note_alone(tmp_path: Path) -> None:
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(_job(tmp_path, "azureml:serverless")))
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert NOTE in said and "compute create" not in said and "not registered" not in said, said


def test_a_pipelines_serverless_default_compute_is_one_short_note(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(textwrap.dedent("""\
        type: pipeline
        settings:
          default_compute: azureml:serverless
        jobs:
          make:
            command: echo 1
            environment: {image: runner/busybox:latest}
        """))
    graph = build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p1")
    about = [w for w in graph.warnings if "compute" in w]
    assert about == [f"{path}:3:3: {NOTE} (step make)"], graph.warnings
