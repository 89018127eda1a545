"""Azure ML's ``AZUREML_*`` variables in a job's environment, as the plan holds them: the job's own name
(``AZUREML_RUN_ID``), its pipeline's for a step (``AZUREML_ROOT_RUN_ID``; a job on its own is its own
root), and its experiment (``AZUREML_EXPERIMENT_NAME``, and ``AZUREML_ARM_PROJECT_NAME``, the name the
v1 SDK reads). Nothing that names an Azure workspace, its service or a token, and no host path: the
same values in the container and for a host process. They are the job's identity, so a value given in
``environment_variables`` does not replace them: the plan warns, naming where it was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.submit import plan_job, queued_record
from runner.plan.build import build_plan
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.load import load_job_spec, spec_from_data
from runner.workspace.db import Workspace
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

JOB_DIR = JobDir(Path("/ws/jobs/j1"))


def _plan(spec: CommandJobSpec, name: str = "j1", experiment_name: str | None = None) -> RunPlan:
    return build_plan(spec, job_name=name, job_dir=JOB_DIR, inputs={}, outputs={},
                      environment=ResolvedEnvironment("python:3.11"), experiment_name=experiment_name)


def _azureml(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("AZUREML_")}


def test_a_job_gets_its_name_as_run_and_root_run_and_its_experiment() -> None:
    spec = spec_from_data({"command": "env", "environment": "python:3.11", "experiment_name": "exp-1"})
    plan = _plan(spec)
    expected = {"AZUREML_RUN_ID": "j1", "AZUREML_ROOT_RUN_ID": "j1", "AZUREML_EXPERIMENT_NAME": "exp-1",
                "AZUREML_ARM_PROJECT_NAME": "exp-1"}
    assert _azureml(plan.env) == expected
    assert _azureml(plan.host_env) == expected  # a host process: the same, no path in them


def test_the_experiment_the_job_is_recorded_under_wins_over_none() -> None:
    spec = spec_from_data({"command": "env", "environment": "python:3.11"})
    plan = _plan(spec, experiment_name="my-folder")  # the default submit gives: the folder's name
    assert plan.env["AZUREML_EXPERIMENT_NAME"] == plan.env["AZUREML_ARM_PROJECT_NAME"] == "my-folder"
    no_experiment = _plan(spec)
    assert "AZUREML_EXPERIMENT_NAME" not in no_experiment.env and no_experiment.env["AZUREML_RUN_ID"] == "j1"


def test_a_pipeline_step_gets_its_own_name_and_its_pipelines_as_root() -> None:
    spec = spec_from_data({"command": "env", "environment": "python:3.11", "experiment_name": "exp",
                           "parent_job_name": "p1"})
    env = _plan(spec, name="p1-train").env
    assert (env["AZUREML_RUN_ID"], env["AZUREML_ROOT_RUN_ID"]) == ("p1-train", "p1")


def test_no_workspace_service_or_token_variable_and_no_host_path() -> None:
    spec = spec_from_data({"command": "env", "environment": "python:3.11", "experiment_name": "e"})
    plan = _plan(spec)
    for env in (plan.env, plan.host_env):
        names = set(_azureml(env))
        assert not names & {"AZUREML_RUN_TOKEN", "AZUREML_SERVICE_ENDPOINT", "AZUREML_ARM_SUBSCRIPTION",
                            "AZUREML_ARM_RESOURCEGROUP", "AZUREML_ARM_WORKSPACE_NAME"}
        assert not any(name.startswith("AZUREML_CR_") for name in names)
        assert not any("/ws/" in value for value in _azureml(env).values())


def test_environment_variables_do_not_replace_them_and_say_so(tmp_path: Path) -> None:
    yml = tmp_path / "job.yml"
    yml.write_text("command: env\nenvironment: python:3.11\nexperiment_name: e\nenvironment_variables:\n"
                   "  AZUREML_RUN_ID: stale-id\n  AZUREML_ARTIFACTS_DEFAULT_TIMEOUT: '900'\n  OTHER: x\n")
    plan = _plan(load_job_spec(yml))
    assert plan.env["AZUREML_RUN_ID"] == plan.host_env["AZUREML_RUN_ID"] == "j1"
    assert plan.env["AZUREML_ARTIFACTS_DEFAULT_TIMEOUT"] == "900"  # not one runner sets: passed as written
    assert plan.env["OTHER"] == "x"
    said = [w for w in plan.warnings if "AZUREML_RUN_ID" in w]
    assert len(said) == 1 and said[0].startswith(f"{yml}:5:")
    assert "environment_variables.AZUREML_RUN_ID" in said[0] and "j1" in said[0]
    assert "stale-id" not in said[0]
    assert not any("AZUREML_ARTIFACTS_DEFAULT_TIMEOUT" in w for w in plan.warnings)


def test_the_same_value_given_is_no_warning() -> None:
    spec = spec_from_data({"command": "env", "environment": "python:3.11", "experiment_name": "e",
                           "environment_variables": {"AZUREML_EXPERIMENT_NAME": "e"}})
    assert not any("AZUREML_" in w for w in _plan(spec).warnings)


def test_a_job_without_experiment_gets_the_one_it_is_recorded_under(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my-project"
    folder.mkdir()
    monkeypatch.chdir(folder)  # azure.ai.ml's default experiment: the folder the job is submitted from
    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({"command": "env", "environment": "python:3.11"})
    plan = plan_job(spec, workspace=ws, job_name="j2")
    record = queued_record(ws, spec, plan, backend="docker")
    assert plan.env["AZUREML_EXPERIMENT_NAME"] == record.experiment_name == "my-project"
    assert plan.env["AZUREML_RUN_ID"] == plan.env["AZUREML_ROOT_RUN_ID"] == "j2"
