"""azure.ai.ml's ``default`` output (DEFAULT_ARTIFACT_STORE_OUTPUT_NAME) is the job's artifact store:
``returned_job.outputs["default"]`` and ``ml_client.jobs.download(name, output_name="default")`` read
``artifacts`` (downloaded to ``artifacts/``, as Azure puts it); so does ``runner job download
--output-name default``. The outputs' keys (and the record) stay as they were; a job with an output of its
own named ``default`` keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import MLClient
from runner.cli.main import app
from runner.workspace.db import JobRecord
from runner.workspace.job_records import JobStatus


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.setenv("RUNNER_WORKSPACE", str(tmp_path / "ws"))
    client = MLClient(workspace_dir=tmp_path / "ws")
    client.workspace.create_job(JobRecord(name="train1", status=JobStatus.COMPLETED))
    logged = tmp_path / "ws" / "datastores" / "workspaceblobstore" / "ExperimentRun" / "dcid.train1" / "model"
    logged.mkdir(parents=True)
    (logged / "MLmodel").write_text("flavors: {}\n")
    return client


def test_outputs_default_is_the_artifacts_output(ml_client: MLClient) -> None:
    returned_job = ml_client.jobs.get("train1")
    assert returned_job.outputs["default"] == returned_job.outputs["artifacts"]
    assert returned_job.outputs.default.path.endswith("/ExperimentRun/dcid.train1/")
    assert "default" in returned_job.outputs
    assert returned_job.outputs.get("default") == returned_job.outputs.artifacts
    assert list(returned_job.outputs) == ["artifacts"]  # the keys are the record's
    dumped = returned_job.model_dump(mode="json")["outputs"]
    assert dumped == {"artifacts": returned_job.outputs.artifacts.path}


def test_download_of_output_name_default(ml_client: MLClient, tmp_path: Path) -> None:
    written = ml_client.jobs.download("train1", download_path=tmp_path / "dl", output_name="default")
    assert written == [tmp_path / "dl" / "artifacts"]
    assert (tmp_path / "dl" / "artifacts" / "model" / "MLmodel").is_file()


def test_cli_download_output_name_default(ml_client: MLClient, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["job", "download", "--name", "train1", "--output-name", "default",
                                      "--download-path", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "artifacts" / "model" / "MLmodel").is_file()


def test_an_output_of_its_own_named_default_is_that_output(ml_client: MLClient) -> None:
    own = "azureml://datastores/workspaceblobstore/paths/azureml/own1/default/"
    ml_client.workspace.create_job(JobRecord(name="own1", status=JobStatus.COMPLETED,
                                             outputs={"default": own}))
    job = ml_client.jobs.get("own1")
    assert job.outputs["default"].path == own and job.outputs.default.path == own
    assert job.outputs["artifacts"].path != own
