"""Keeping one of the job's ``AZUREML_*`` variables out of it: an empty value for it in
``environment_variables`` (``AZUREML_RUN_ID: ""``, or the key with no value) removes that variable from
the job's environment, in the container and for a host process, without a warning (it is the documented
way: scripts that test ``"AZUREML_RUN_ID" in os.environ`` to take an "on Azure" path). The other
variables stay; a non-empty other value is still replaced, with its warning."""

from __future__ import annotations

from pathlib import Path

from runner.plan.build import build_plan
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.load import load_job_spec, spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

IDENTITY = ("AZUREML_RUN_ID", "AZUREML_ROOT_RUN_ID", "AZUREML_EXPERIMENT_NAME", "AZUREML_ARM_PROJECT_NAME")


def _plan(spec: CommandJobSpec) -> RunPlan:
    return build_plan(spec, job_name="j1", job_dir=JobDir(Path("/ws/jobs/j1")), inputs={}, outputs={},
                      environment=ResolvedEnvironment("python:3.11"), experiment_name="exp")


def _spec(variables: dict[str, str]) -> CommandJobSpec:
    return spec_from_data({"command": "env", "environment": "python:3.11", "experiment_name": "exp",
                           "environment_variables": variables})


def test_an_empty_run_id_keeps_it_out_of_the_container_and_the_host_process() -> None:
    plan = _plan(_spec({"AZUREML_RUN_ID": ""}))
    for env in (plan.env, plan.host_env):
        assert "AZUREML_RUN_ID" not in env  # absent, not empty: `"AZUREML_RUN_ID" in os.environ` is False
        assert env["AZUREML_ROOT_RUN_ID"] == "j1" and env["AZUREML_EXPERIMENT_NAME"] == "exp"
    assert not any("AZUREML_" in w for w in plan.warnings)


def test_each_of_them_can_be_kept_out_and_a_key_without_value_is_empty(tmp_path: Path) -> None:
    yml = tmp_path / "job.yml"
    yml.write_text("command: env\nenvironment: python:3.11\nexperiment_name: exp\nenvironment_variables:\n"
                   "  AZUREML_RUN_ID:\n  AZUREML_ROOT_RUN_ID: ''\n  AZUREML_EXPERIMENT_NAME: \"\"\n"
                   "  AZUREML_ARM_PROJECT_NAME: ''\n  OTHER: ''\n")
    plan = _plan(load_job_spec(yml))
    for env in (plan.env, plan.host_env):
        assert not set(IDENTITY) & set(env)
        assert env["OTHER"] == ""  # any other variable: passed as written, empty too
    assert not any("AZUREML_" in w for w in plan.warnings)


def test_a_non_empty_other_value_is_still_replaced_with_its_warning() -> None:
    plan = _plan(_spec({"AZUREML_RUN_ID": "", "AZUREML_EXPERIMENT_NAME": "stale"}))
    assert "AZUREML_RUN_ID" not in plan.env and "AZUREML_RUN_ID" not in plan.host_env
    assert plan.env["AZUREML_EXPERIMENT_NAME"] == plan.host_env["AZUREML_EXPERIMENT_NAME"] == "exp"
    said = [w for w in plan.warnings if "AZUREML_" in w]
    assert len(said) == 1 and "environment_variables.AZUREML_EXPERIMENT_NAME" in said[0]
    assert "AZUREML_RUN_ID" not in said[0]


def test_an_empty_value_of_another_azureml_variable_is_passed_as_written() -> None:
    plan = _plan(_spec({"AZUREML_ARTIFACTS_DEFAULT_TIMEOUT": ""}))
    name = "AZUREML_ARTIFACTS_DEFAULT_TIMEOUT"
    assert plan.env[name] == plan.host_env[name] == ""
    assert plan.env["AZUREML_RUN_ID"] == "j1"
