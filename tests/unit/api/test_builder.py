"""The Python builder mirrors azure.ai.ml: a job built in Python equals the same job loaded from YAML,
and ``job.dump`` writes YAML that loads back equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Input, Output, command, load_job
from runner.constants import AssetTypes, InputOutputModes
from runner.entities import BuildContext, Command, Environment
from runner.errors import ModeError, SpecError

SEED_YAML = """\
code: ./src
command: >-
  python load_write_model.py --input_model ${{inputs.input_model}}
  --output_folder ${{outputs.output_folder}}
inputs:
  input_model:
    type: mlflow_model
    path: mlflow-model
  input_data:
    type: uri_file
    path: ./mlflow-model/input_example.json
  epochs: 3
outputs:
  output_folder:
    type: custom_model
environment: AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:9
compute: cpu-cluster
"""


def _seed_job() -> Command:
    return command(
        code="./src",
        command="python load_write_model.py --input_model ${{inputs.input_model}} "
                "--output_folder ${{outputs.output_folder}}",
        inputs={"input_model": Input(type=AssetTypes.MLFLOW_MODEL, path="mlflow-model"),
                "input_data": Input(type=AssetTypes.URI_FILE, path="./mlflow-model/input_example.json"),
                "epochs": 3},
        outputs={"output_folder": Output(type=AssetTypes.CUSTOM_MODEL)},
        environment="AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:9",
        compute="cpu-cluster",
    )


def test_builder_equals_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "job.yml").write_text(SEED_YAML)
    built, loaded = _seed_job(), load_job(tmp_path / "job.yml")
    assert built == loaded
    assert built.base_dir == loaded.base_dir == tmp_path
    assert built.warnings and "compute" in built.warnings[0]


def test_different_jobs_are_not_equal() -> None:
    a = command(command="ls", environment="img")
    b = command(command="ls -l", environment="img")
    assert a != b


@pytest.mark.parametrize("folder", ["same", "other"])
def test_dump_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    monkeypatch.chdir(tmp_path)
    job = command(
        command="python t.py --d ${{inputs.d}} $[[--lr ${{inputs.lr}}]] --o ${{outputs.o}}",
        inputs={"d": Input(type="uri_folder", path="data", mode=InputOutputModes.DOWNLOAD),
                "lr": Input(type="number", optional=True), "flag": True,
                "n": Input(type="integer", default=2)},
        outputs={"o": Output(type=AssetTypes.MLFLOW_MODEL, mode="upload", name="m", version="1"),
                 "p": None},
        environment=Environment(build=BuildContext(path="docker")),
        environment_variables={"A": "1"}, tags={"t": "x"}, display_name="d", experiment_name="e",
        instance_count=1, shm_size="1g", docker_args="--ipc=host", timeout=60, name="n1",
    )
    target = tmp_path / folder
    target.mkdir()
    job.dump(target / "job.yml")
    again = load_job(target / "job.yml")
    assert again == job
    assert again.to_dict() == job.to_dict()
    assert "$schema" not in job.to_dict() or job.to_dict()["$schema"]


def test_entities_read_back_like_azure() -> None:
    job = _seed_job()
    assert job.inputs["input_model"] == Input(type="mlflow_model", path="mlflow-model")
    assert job.inputs["epochs"] == 3
    assert job.outputs["output_folder"] == Output(type="custom_model")
    assert job.environment == "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:9"
    assert job.command.startswith("python load_write_model.py")
    assert job.compute == "cpu-cluster"


def test_literal_input_entity_form_equals_yaml_form(tmp_path: Path) -> None:
    (tmp_path / "j.yml").write_text("command: echo ${{inputs.n}}\nenvironment: img\n"
                                    "inputs:\n  n:\n    type: integer\n    default: 3\n")
    built = command(command="echo ${{inputs.n}}", environment="img",
                    inputs={"n": Input(type="integer", default=3)})
    assert load_job(tmp_path / "j.yml").spec == built.spec


def test_builder_errors_are_spec_errors() -> None:
    with pytest.raises(ModeError, match="inputs.m.mode"):
        command(command="ls ${{inputs.m}}", environment="img",
                inputs={"m": Input(type=AssetTypes.MLFLOW_MODEL, path="p", mode="direct")})
    with pytest.raises(SpecError, match="unknown argument 'enviroment'.*did you mean 'environment'"):
        command(command="ls", enviroment="img")
    with pytest.raises(SpecError, match="Inputs to job does not contain 'x'"):
        command(command="ls ${{inputs.x}}", environment="img")


def test_name_can_be_set_and_is_checked() -> None:
    job = command(command="ls", environment="img")
    job.name = "my-job"
    assert job.name == "my-job" and job.services["Studio"].endpoint.endswith("my-job")
    with pytest.raises(SpecError, match="not a valid job name"):
        job.name = "bad name"


def test_load_job_params_override(tmp_path: Path) -> None:
    (tmp_path / "j.yml").write_text("command: ls ${{inputs.d}}\nenvironment: img\n"
                                    "inputs:\n  d:\n    path: a\n")
    job = load_job(tmp_path / "j.yml", params_override=[{"inputs.d.path": "b"}])
    assert job.inputs["d"].path == "b"


def test_str_is_yaml() -> None:
    text = str(command(command="ls", environment="img"))
    assert text == "command: ls\nenvironment: img\n"
