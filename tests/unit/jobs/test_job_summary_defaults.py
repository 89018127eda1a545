"""A job's ``display_name`` defaults to its name and its ``experiment_name`` to the folder it is submitted
from, as azure.ai.ml does (``generate_defaults``), for a YAML job, a job built in Python and a pipeline;
records an older runner stored keep what they have. A returned job's repr is a short summary (name, type,
status, display name, experiment), its details attributes."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, command
from runner.jobs.job import as_job
from runner.jobs.submit import submit_job
from runner.pipelines.submit import submit_pipeline
from runner.spec.load import load_job_spec
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

ENV = "busybox:latest"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "fraud-model"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_a_yaml_job_gets_azures_defaults(tmp_path: Path, project: Path) -> None:
    (project / "job.yml").write_text(f"command: echo hi\nenvironment: {ENV}\n")
    ws = Workspace(tmp_path / "ws")
    record = submit_job(ws, load_job_spec(project / "job.yml"), name="y1", backend="process")
    stored = ws.get_job("y1")
    assert (record.display_name, record.experiment_name) == ("y1", "fraud-model")
    assert (stored.display_name, stored.experiment_name) == ("y1", "fraud-model")


def test_given_names_are_kept(tmp_path: Path, project: Path) -> None:
    (project / "job.yml").write_text(f"command: echo hi\nenvironment: {ENV}\ndisplay_name: Shown\n"
                                     "experiment_name: exp-1\n")
    ws = Workspace(tmp_path / "ws")
    record = submit_job(ws, load_job_spec(project / "job.yml"), name="y2", backend="process")
    assert (record.display_name, record.experiment_name) == ("Shown", "exp-1")


def test_a_job_built_in_python_gets_azures_defaults(tmp_path: Path, project: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    job = command(command="echo hi", environment=ENV)
    record = ml_client.jobs.submit(job.spec, backend="process")  # queued, not run
    returned = ml_client.jobs.get(record.name)
    assert returned.display_name == record.name and returned.experiment_name == "fraud-model"
    assert job.display_name is None  # the built job is unchanged, as in azure.ai.ml


def test_the_experiment_is_azures_name_of_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """azure.ai.ml: ``Path("./").resolve().stem`` without spaces."""
    folder = tmp_path / "my project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "job.yml").write_text(f"command: echo hi\nenvironment: {ENV}\n")
    record = submit_job(Workspace(tmp_path / "ws"), load_job_spec(folder / "job.yml"), name="y3",
                        backend="process")
    assert record.experiment_name == "myproject"


def test_a_pipeline_gets_azures_defaults_and_its_steps_its_experiment(tmp_path: Path, project: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    spec = pipeline_from_data({"type": "pipeline", "settings": {"default_compute": "local-process"},
                               "jobs": {"w": {"command": "echo w", "environment": {"image": ENV}}}},
                              base_dir=project)
    record = submit_pipeline(ws, spec, name="p1")
    assert (record.display_name, record.experiment_name) == ("p1", "fraud-model")
    step = record.extra["pipeline"]["steps"]["w"]["spec"]
    assert step["experiment_name"] == "fraud-model" and step["display_name"] == "w"


def test_an_old_record_keeps_what_it_stored(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="old1", status=JobStatus.COMPLETED, spec={"command": "ls"}))
    returned = MLClient(workspace_dir=tmp_path / "ws").jobs.get("old1")
    assert returned.display_name is None and returned.experiment_name is None
    assert ws.get_job("old1").display_name is None


def test_a_returned_jobs_repr_is_a_summary(tmp_path: Path, project: Path) -> None:
    (project / "job.yml").write_text(f"command: echo hi\nenvironment: {ENV}\n")
    ws = Workspace(tmp_path / "ws")
    submit_job(ws, load_job_spec(project / "job.yml"), name="r1", backend="process")
    job = as_job(ws.get_job("r1"))
    text = repr(job)
    assert text == ("Job(name='r1', type='command', status='Queued', display_name='r1', "
                    "experiment_name='fraud-model')")
    assert str(job) == text
    assert "plan" not in text and job.extra["plan"]  # the details are attributes
    assert job.command == "echo hi" and job.spec["environment"] == ENV
