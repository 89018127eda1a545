"""``ml_client.jobs.validate(job)``: azure.ai.ml's check of a job without submitting it. It makes the
checks ``runner job validate`` makes (the plan, then what ``job create`` refuses before queuing) and
returns a ``ValidationResult`` (``passed``, ``error_messages``, the ``plan``); with
``raise_on_failure=True`` it raises the error ``job validate`` prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, Output, command, load_job
from runner.errors import RunnerError


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    return MLClient(workspace_dir=tmp_path / "ws")


def _job(**output: str) -> object:
    return command(command="echo data > ${{outputs.o}}", environment="python:3.11", name="v1",
                   outputs={"o": Output(type="uri_file", mode="upload", **output)})


def test_a_valid_job_passes_with_its_plan_and_nothing_is_submitted(ml_client: MLClient) -> None:
    result = ml_client.jobs.validate(_job(path="azureml://datastores/workspaceblobstore/paths/v/r.csv"))
    assert result.passed and result.error_messages == {} and result.error is None
    assert result.plan is not None and result.plan.outputs[0].value == "/mnt/runner/outputs/o/r.csv"
    assert ml_client.jobs.list() == []


def test_a_named_uri_file_output_without_a_path_passes_with_its_default_file(ml_client: MLClient) -> None:
    """As in Azure ML (this test asserted its refusal before; reversed deliberately): the file named
    after the output in its default folder."""
    result = ml_client.jobs.validate(_job(name="h6-uf2"), name="v1")
    assert result.passed and result.plan is not None
    assert result.plan.outputs[0].uri == "azureml://datastores/workspaceblobstore/paths/azureml/v1/o/o"
    assert ml_client.jobs.list() == []


def test_a_refused_job_fails_validation_or_raises_the_clear_error(ml_client: MLClient) -> None:
    job = _job(name="h6-uf2", path="azureml://datastores/nowhere/paths/v/r.csv")
    result = ml_client.jobs.validate(job)
    assert not result.passed and result.plan is None
    assert isinstance(result.error, RunnerError)
    assert list(result.error_messages) == ["outputs.o.path"]
    assert "datastore 'nowhere'" in result.error_messages["outputs.o.path"]
    with pytest.raises(RunnerError, match="datastore 'nowhere'") as raised:
        ml_client.jobs.validate(job, raise_on_failure=True)
    assert "runner datastore" in (raised.value.hint or "")
    assert ml_client.jobs.list() == []


def test_a_pipeline_is_validated_whole(ml_client: MLClient, tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yml"
    spec.write_text("type: pipeline\njobs:\n  make:\n    type: command\n    command: echo > ${{outputs.o}}\n"
                    "    environment: {image: unused:1}\n    outputs:\n      o: {type: uri_file, name: d, "
                    "mode: download}\n")
    result = ml_client.jobs.validate(load_job(spec))
    assert not result.passed and list(result.error_messages) == ["jobs.make.outputs.o.mode"]
    assert "mode 'download' is not supported" in result.error_messages["jobs.make.outputs.o.mode"]
    assert ml_client.jobs.list() == []
