"""Environment references written without ``azureml:``, as Azure's tutorials do: ``<name>@latest`` is
always a reference (``@latest`` is never part of a Docker image name); ``<name>:<version>`` is a
reference when that environment is mapped or built in (or cannot be an image: capitals), else an image.
A component is checked as a job is when it is registered."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import Input, MLClient, Output, command
from runner.cli.main import app
from runner.errors import RunnerError, SpecError
from runner.spec.image_ref import check_image_reference, environment_reference
from runner.workspace.db import Workspace
from runner.workspace.environments import EnvironmentStore

CURATED = "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu"


def _validate(tmp_path: Path, environment: str) -> tuple[int, str]:
    job = tmp_path / "job.yml"
    job.write_text(f"command: echo hi\nenvironment: {environment}\n")
    result = CliRunner().invoke(app, ["job", "validate", "--file", str(job)])
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    return result.exit_code, result.output


@pytest.mark.parametrize(("written", "reference"), [
    (f"{CURATED}@latest", f"azureml:{CURATED}@latest"),
    ("  my-env@latest ", "azureml:my-env@latest"),
    (f"azureml:{CURATED}@latest", f"azureml:{CURATED}@latest"),
    ("python:3.11", "python:3.11"),
    ("runner/busybox:latest", "runner/busybox:latest"),
    ("python@sha256:" + "a" * 64, "python@sha256:" + "a" * 64),  # a digest is an image's
    ("file:env.yml", "file:env.yml"),
])
def test_a_bare_latest_label_is_an_environment_reference(written: str, reference: str) -> None:
    assert environment_reference(written) == reference


def test_the_sdk_and_yaml_read_name_at_latest_as_a_reference(workspace_dir: Path, tmp_path: Path) -> None:
    job = command(command="echo hi", environment=f"{CURATED}@latest")
    assert job.spec.environment == f"azureml:{CURATED}@latest"
    code, out = _validate(tmp_path, f"{CURATED}@latest")
    assert code == 0 and "runner/python:3.11" in out, out  # the curated one, built in


def test_an_unmapped_name_at_latest_says_how_to_map_it(workspace_dir: Path, tmp_path: Path) -> None:
    code, out = _validate(tmp_path, "tf-2.16@latest")
    assert code == 1, out
    assert "job.yml:2:1: environment: environment 'azureml:tf-2.16@latest' is not mapped" in out
    assert "runner environment create --name tf-2.16 --image" in out and "Docker image" not in out


def test_name_colon_version_is_an_environment_when_there_is_one(workspace_dir: Path, tmp_path: Path) -> None:
    store = EnvironmentStore(Workspace(workspace_dir))
    store.create("trainenv", version="3", image="runner/busybox:latest")
    assert store.image_for("trainenv:3") == "runner/busybox:latest"  # mapped: the environment
    assert store.image_for("trainenv:4") == "trainenv:4"  # no such version: an image name
    assert store.image_for("sklearn-1.5:2") == "runner/python:3.11"  # built in
    assert store.image_for("python:3.11") == "python:3.11"
    code, out = _validate(tmp_path, "AzureML-Tensorflow:3")  # capitals: never an image
    assert code == 1 and "environment 'AzureML-Tensorflow' version 3 is not mapped" in out, out


def test_an_invalid_image_that_looks_like_an_environment_hints_azureml(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        check_image_reference("AzureML-Tensorflow")
    assert "azureml:AzureML-Tensorflow@latest" in (caught.value.hint or "")


def _upper(environment: str) -> object:
    return command(name="upper", inputs={"text": Input(type="uri_folder")},
                   outputs={"out": Output(type="uri_folder")}, environment=environment,
                   command="cp -r ${{inputs.text}} ${{outputs.out}}")


@pytest.mark.parametrize(("environment", "message"), [
    ("Bad Image!!", "'Bad Image!!' is not a valid Docker image name"),
    ("tf-2.16@latest", "environment 'azureml:tf-2.16@latest' is not mapped"),
    ("azureml:tf-2.16:3", "environment 'azureml:tf-2.16:3' is not mapped"),
])
def test_registering_a_component_checks_its_environment(workspace_dir: Path, environment: str,
                                                        message: str) -> None:
    ml_client = MLClient()
    with pytest.raises(RunnerError) as caught:
        ml_client.create_or_update(_upper(environment).component)  # type: ignore[attr-defined]
    assert message in str(caught.value) and caught.value.field == "environment"
    assert list(ml_client.components.list()) == []


def test_a_component_with_a_good_environment_registers(workspace_dir: Path) -> None:
    ml_client = MLClient()
    created = ml_client.create_or_update(_upper(f"{CURATED}@latest").component)  # type: ignore[attr-defined]
    assert created.spec.environment == f"azureml:{CURATED}@latest"
    assert ml_client.create_or_update(_upper("unused:1").component).spec.version == "2"  # type: ignore[attr-defined]


def test_component_create_from_yaml_points_at_the_environment_line(workspace_dir: Path,
                                                                   tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text("name: c\ncommand: echo hi\nenvironment: Bad_Image\n")
    result = CliRunner().invoke(app, ["component", "create", "--file", str(tmp_path / "c.yml")])
    assert isinstance(result.exception, SpecError)
    assert "c.yml:3:1: environment: 'Bad_Image' is not a valid Docker image name" in \
        result.exception.render()
