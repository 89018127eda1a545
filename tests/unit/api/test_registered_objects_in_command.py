"""A registered environment, model or data asset fetched with ``ml_client.<ops>.get`` is passed to
``command(...)`` as azure.ai.ml takes it: the environment by its id (``azureml:<name>:<version>``), a
model or data asset given as an input by its id with its type (azure.ai.ml's ``_data_to_input``), and
``Input(path=model)`` by the asset's id. None of them is inlined field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Input, MLClient, command
from runner.entities import Data, Model
from runner.errors import SpecError


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    client = MLClient(workspace_dir=tmp_path / "ws")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_text("m")
    (tmp_path / "iris").mkdir()
    (tmp_path / "iris" / "iris.csv").write_text("a,b\n1,2\n")
    client.environments.create_or_update(name="sklearn-local-env", version="1", image="runner/python:3.11")
    client.models.create_or_update(Model(name="clf", version="2", path=str(tmp_path / "model")))
    client.data.create_or_update(Data(name="iris", version="1", path=str(tmp_path / "iris"),
                                      type="uri_folder"))
    return client


def test_a_registered_environment_object_is_its_reference(ml_client: MLClient) -> None:
    env = ml_client.environments.get(name="sklearn-local-env", version="1")
    job = command(command="echo env-object", environment=env)
    assert job.environment == "azureml:sklearn-local-env:1"
    result = ml_client.jobs.validate(job)
    assert result.passed, result.error_messages
    assert result.plan.image == "runner/python:3.11"
    other = command(command="echo", environment="python:3.11")
    other.environment = env  # set on the built job, as azure.ai.ml's
    assert other.environment == "azureml:sklearn-local-env:1"


def test_the_newest_environment_and_a_built_in_one_as_objects(ml_client: MLClient) -> None:
    ml_client.environments.create_or_update(name="sklearn-local-env", version="2",
                                            image="runner/busybox:latest")
    latest = ml_client.environments.get("sklearn-local-env", label="latest")
    assert command(command="echo", environment=latest).environment == "azureml:sklearn-local-env:2"
    curated = ml_client.environments.get("AzureML-sklearn-1.5", label="latest")
    job = command(command="echo", environment=curated)
    result = ml_client.jobs.validate(job)
    assert result.passed, result.error_messages
    assert result.plan.image == "runner/python:3.11"


def test_registered_model_and_data_objects_as_inputs(ml_client: MLClient) -> None:
    model = ml_client.models.get("clf", version="2")
    data_asset = ml_client.data.get("iris", version="1")
    job = command(command="ls ${{inputs.m}} ${{inputs.d}} ${{inputs.p}}", environment="python:3.11",
                  inputs={"m": model, "d": data_asset, "p": Input(type="custom_model", path=model)})
    assert (job.inputs["m"].type, job.inputs["m"].path) == ("custom_model", "azureml:clf:2")
    assert (job.inputs["d"].type, job.inputs["d"].path) == ("uri_folder", "azureml:iris:1")
    assert job.inputs["p"].path == "azureml:clf:2"
    result = ml_client.jobs.validate(job)
    assert result.passed, result.error_messages
    job.inputs.d = ml_client.data.get("iris", label="latest")  # set on the built job, as azure.ai.ml's
    assert job.spec.inputs["d"].path == "azureml:iris:1"  # type: ignore[union-attr]


def test_an_asset_object_without_a_version_is_one_clear_error(tmp_path: Path) -> None:
    unregistered = Data(name="iris", path=str(tmp_path), type="uri_folder")
    with pytest.raises(SpecError) as info:
        command(command="echo", environment="python:3.11", inputs={"d": unregistered})
    err = info.value
    assert err.field == "inputs.d" and "no version" in err.message
    assert "ml_client.data.create_or_update" in str(err) and "Traceback" not in str(err)
