"""``compute="local"`` is Azure's target for a job run on the machine that submits it, which is what runner
does with every job: the job runs here with no note (no "not registered in this workspace", no advice to
register a Ray cluster named local), from YAML, from Python and as a pipeline's default compute. A Ray
compute the user did register under that name is used as any other (as ``serverless``'s). Workspaces in
tmp_path; nothing runs."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest
from jobs_support import cli

from runner import MLClient, command
from runner.jobs.compute import choose_compute
from runner.jobs.operations import JobOperations
from runner.pipelines.graph import build_graph
from runner.spec.load import load_job_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.db import Workspace


def _job(tmp_path: Path, compute: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"command: echo hi\nenvironment:\n  image: runner/busybox:latest\ncompute: {compute}\n")
    return job


@pytest.mark.parametrize("compute", ["local", "azureml:local"])
@pytest.mark.parametrize("python", [False, True])
def test_local_runs_here_without_a_note(tmp_path: Path, compute: str, python: bool) -> None:
    spec = load_job_spec(_job(tmp_path, compute))
    choice = choose_compute(Workspace(tmp_path / "ws"), spec, python=python)
    assert choice.compute is None and choice.note is None
    assert not [w for w in spec.warnings if "compute" in w], spec.warnings


def test_a_ray_compute_registered_as_local_is_used(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ComputeStore(ws).save(RayCompute(name="local", address="http://127.0.0.1:8265"))
    choice = choose_compute(ws, load_job_spec(_job(tmp_path, "local")))
    assert choice.compute is not None and choice.compute.name == "local" and choice.note is None


def test_job_validate_says_nothing_of_the_compute(tmp_path: Path) -> None:
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(_job(tmp_path, "local")))
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "compute" not in said, said


def test_python_submission_logs_no_compute_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(JobOperations, "start_worker", lambda self, name, **_: 0)  # queued, not run
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with caplog.at_level(logging.WARNING):
        job = ml_client.jobs.create_or_update(command(command="echo hi", environment="runner/busybox:latest",
                                                      compute="local"))
    assert job.status == "Queued"
    assert not [r.getMessage() for r in caplog.records if "compute" in r.getMessage()]


def test_a_pipelines_local_default_compute_says_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(textwrap.dedent("""\
        type: pipeline
        settings:
          default_compute: azureml:local
        jobs:
          make:
            command: echo 1
            environment: {image: runner/busybox:latest}
        """))
    graph = build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p1")
    assert not [w for w in graph.warnings if "compute" in w], graph.warnings
