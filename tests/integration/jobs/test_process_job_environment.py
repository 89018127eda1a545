"""A real ``process`` job (a host process) and the runner's environment: an ``AZUREML_*`` variable the job
emptied in ``environment_variables`` is absent though the runner's shell exports it; the runner's storage
credentials and its own settings (``RUNNER_WORKSPACE``, ``RUNNER_UI_TOKEN``) are not handed to the job,
while the user's own variables, and what the job's spec and its direct bindings set, reach it. The job
prints variable names and whether a planted fake secret appears, never a credential's value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, job_log, write_job

# a fake secret planted in the runner's environment, to be found in none of the job's values
PLANTED = "planted-S3CRET-4b1d"

PRINT_ENV = """python3 -c "
import json, os
shown = ('AZUREML_ROOT_RUN_ID', 'MY_TOOL_HOME', 'GIVEN_CRED', 'RUNNER_TEMP')
print('ENV', json.dumps({'names': sorted(os.environ),
                         'planted': [k for k, v in os.environ.items() if 'PLANTED' in v],
                         'values': {k: os.environ[k] for k in shown if k in os.environ}}))
" """.replace("PLANTED", PLANTED)

RUNNERS_SECRETS = {
    "AZURE_STORAGE_CONNECTION_STRING": f"AccountName=elsewhere;AccountKey={PLANTED}",
    "AZURE_STORAGE_KEY": PLANTED, "AZURE_STORAGE_SAS_TOKEN": PLANTED, "AZURE_CLIENT_SECRET": PLANTED,
    "AWS_SECRET_ACCESS_KEY": PLANTED, "FSSPEC_S3_SECRET": PLANTED, "RUNNER_UI_TOKEN": PLANTED,
    "AZUREML_RUN_TOKEN": PLANTED, "AZUREML_RUN_ID": f"outer-{PLANTED}",
}


def _seen(stdout: str) -> dict[str, Any]:
    line = next(line for line in job_log(stdout).splitlines() if line.startswith("ENV "))
    seen: dict[str, Any] = json.loads(line.removeprefix("ENV "))
    return seen


def test_a_process_job_gets_none_of_the_runners_credentials_and_its_emptied_run_id_stays_out(
        workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**RUNNERS_SECRETS, "MY_TOOL_HOME": "/opt/tool", "RUNNER_TEMP": "/tmp/gh"}.items():
        monkeypatch.setenv(key, value)
    job = write_job(tmp_path, f"""
        command: {json.dumps(PRINT_ENV)}
        environment_variables:
          AZUREML_RUN_ID: ""
          GIVEN_CRED: mine
        compute: local-process
        environment:
          image: runner/python:3.11
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "penv1")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = _seen(result.stdout)
    assert "AZUREML_RUN_ID" not in seen["names"]  # emptied: absent, though the runner's shell has it
    assert seen["planted"] == [], seen["planted"]
    assert not set(RUNNERS_SECRETS) & set(seen["names"])
    assert "RUNNER_WORKSPACE" not in seen["names"]  # the fixture exports it for the runner
    assert {"PATH", "HOME"} <= set(seen["names"])
    assert seen["values"] == {"AZUREML_ROOT_RUN_ID": "penv1", "MY_TOOL_HOME": "/opt/tool",
                              "GIVEN_CRED": "mine", "RUNNER_TEMP": "/tmp/gh"}


@pytest.mark.azure
def test_a_direct_input_gets_its_own_credentials_and_not_the_runners(
        workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                           azure_container.name).upload_blob("data/a.txt", b"a")
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    monkeypatch.setenv("AZURE_STORAGE_KEY", PLANTED)  # the az CLI's name: runner does not read it itself
    monkeypatch.setenv("AZURE_CLIENT_SECRET", PLANTED)
    job = write_job(tmp_path, f"""
        command: {json.dumps(PRINT_ENV)}
        inputs:
          d: {{type: uri_folder, path: 'azureml://datastores/az/paths/data', mode: direct}}
        compute: local-process
        environment:
          image: runner/python:3.11
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "penv2")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = _seen(result.stdout)
    assert seen["planted"] == [] and "AZURE_CLIENT_SECRET" not in seen["names"]
    storage = {name for name in seen["names"] if name.startswith("AZURE_STORAGE_")}
    assert "AZURE_STORAGE_KEY" not in storage and "AZURE_STORAGE_SAS_TOKEN" in storage, storage
    assert "AZURE_ML_INPUT_d_STORAGE_OPTIONS" in seen["names"]
