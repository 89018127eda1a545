"""Azure ML's ``AZUREML_*`` variables in a real container: a command job sees its name as
``AZUREML_RUN_ID`` and ``AZUREML_ROOT_RUN_ID`` and its experiment as ``AZUREML_EXPERIMENT_NAME`` /
``AZUREML_ARM_PROJECT_NAME`` (a stale value in ``environment_variables`` is not used, with a warning);
a pipeline step sees its own job's name and its pipeline's as the root. No workspace, service, token or
common-runtime variable, and no value naming a host path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, job_log, write_job

pytestmark = pytest.mark.docker


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    return workspace_dir


def _azureml(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line.startswith("AZUREML_"))


def test_a_job_and_a_pipeline_step_see_their_azureml_variables(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: env | sort
        experiment_name: migrated
        environment_variables:
          AZUREML_RUN_ID: stale-id
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "azenv1")
    assert result.returncode == 0, result.stderr
    seen = _azureml(job_log(result.stdout))
    assert seen == {"AZUREML_ARM_PROJECT_NAME": "migrated", "AZUREML_EXPERIMENT_NAME": "migrated",
                    "AZUREML_ROOT_RUN_ID": "azenv1", "AZUREML_RUN_ID": "azenv1"}
    assert not any(str(ws) in value or str(tmp_path) in value for value in seen.values())
    assert "environment_variables.AZUREML_RUN_ID is the job's own" in result.stderr

    pipeline = write_job(tmp_path, """
        type: pipeline
        experiment_name: migrated-pipeline
        jobs:
          show:
            type: command
            command: env | sort > ${{outputs.o}}/env.txt
            outputs:
              o:
                type: uri_folder
            environment:
              image: runner/busybox:latest
        """, name="pipeline.yml")
    result = cli(ws, "job", "create", "--file", str(pipeline), "--stream", "--name", "azp1")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    step = _azureml(datastore_file(ws, "azureml/azp1-show/o/env.txt").read_text())
    experiment = "migrated-pipeline"
    assert step == {"AZUREML_ARM_PROJECT_NAME": experiment, "AZUREML_EXPERIMENT_NAME": experiment,
                    "AZUREML_ROOT_RUN_ID": "azp1", "AZUREML_RUN_ID": "azp1-show"}
