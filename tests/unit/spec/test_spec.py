"""The command job spec: Azure's fields, inputs/outputs, literals, defaults, overrides, ignored fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.modes import AssetType, Mode
from runner.spec.job import InlineEnvironment
from runner.spec.job_io import AssetInput, LiteralInput, OutputSpec
from runner.spec.load import load_job_spec, parse_override, spec_from_data

FULL = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
name: my_job-1
display_name: My job
experiment_name: exp
description: a job
tags: {team: ml, n: 3}
properties: {p: x}
code: src
command: python train.py --m ${{inputs.m}} --n ${{inputs.n}} --o ${{outputs.o}}
environment:
  build:
    path: docker
    dockerfile_path: Dockerfile.gpu
environment_variables:
  A: "1"
  B: 2
inputs:
  m:
    type: custom_model
    path: azureml:my-model:3
    mode: download
  n: 3
outputs:
  o:
    type: mlflow_model
    mode: upload
    name: trained
    version: 2
resources:
  instance_count: 1
  shm_size: 2g
  docker_args: --ipc=host --ulimit memlock=-1
  gpu_count: all
  instance_type: Standard_NC6
limits:
  timeout: 3600
distribution:
  type: pytorch
  process_count_per_instance: 2
compute: azureml:gpu-cluster
identity:
  type: managed
services:
  my_jupyter:
    type: jupyter_lab
queue_settings:
  job_tier: standard
"""


def _write(tmp_path: Path, text: str, name: str = "job.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_azure_field_is_accepted(tmp_path: Path) -> None:
    spec = load_job_spec(_write(tmp_path, FULL))
    assert spec.name == "my_job-1" and spec.display_name == "My job" and spec.experiment_name == "exp"
    assert spec.tags == {"team": "ml", "n": "3"}
    assert spec.environment_variables == {"A": "1", "B": "2"}
    assert isinstance(spec.environment, InlineEnvironment) and spec.environment.build is not None
    assert spec.environment.build.dockerfile_path == "Dockerfile.gpu"
    model = spec.inputs["m"]
    assert isinstance(model, AssetInput)
    assert (model.type, model.path) == (AssetType.CUSTOM_MODEL, "azureml:my-model:3")
    assert model.mode is Mode.DOWNLOAD
    out = spec.outputs["o"]
    assert (out.type, out.mode) == (AssetType.MLFLOW_MODEL, Mode.UPLOAD)
    assert (out.name, out.version) == ("trained", "2")
    assert spec.resources.docker_args == ["--ipc=host", "--ulimit", "memlock=-1"]
    assert spec.resources.gpu_count == "all" and spec.resources.shm_size == "2g"
    assert spec.limits.timeout == 3600
    assert spec.base_dir == tmp_path and spec.source == tmp_path / "job.yml"


def test_fields_meaningless_locally_are_reported_not_dropped(tmp_path: Path) -> None:
    spec = load_job_spec(_write(tmp_path, FULL))
    # distribution is used: the job gets its variables (runner.plan.distribution_env)
    assert set(spec.ignored_fields) == {"compute", "identity", "services", "queue_settings",
                                        "resources.instance_type"}
    compute = next(w for w in spec.warnings if "compute is ignored" in w)
    line = FULL.splitlines().index("compute: azureml:gpu-cluster") + 1
    assert compute.startswith(f"{tmp_path / 'job.yml'}:{line}:1:")
    assert spec.compute == "azureml:gpu-cluster"  # kept, not dropped


@pytest.mark.parametrize("compute", ["local-process", "azureml:local-process"])
def test_local_process_compute_is_not_reported_as_ignored(tmp_path: Path, compute: str) -> None:
    spec = load_job_spec(_write(tmp_path, f"command: echo hi\nenvironment: img\ncompute: {compute}\n"))
    assert "compute" not in spec.ignored_fields and not spec.warnings  # it picks the process backend


def test_type_defaults_to_uri_folder_and_modes_default_later(tmp_path: Path) -> None:
    spec = spec_from_data({"command": "ls ${{inputs.d}} ${{outputs.o}}", "environment": "img",
                           "inputs": {"d": {"path": "data"}}, "outputs": {"o": None}})
    assert isinstance(spec.inputs["d"], AssetInput) and spec.inputs["d"].type is AssetType.URI_FOLDER
    assert spec.inputs["d"].mode is None and spec.outputs["o"] == OutputSpec()


@pytest.mark.parametrize("written,rendered", [
    (3, "3"), (True, "True"), (False, "False"), (1.5, "1.5"), ("hello", "hello"), ({"value": 7}, "7"),
    ({"type": "integer", "default": 3}, "3"), ({"type": "boolean", "default": True}, "True"),
    ({"type": "string", "default": "a b"}, "a b"), ({"type": "number", "default": 2}, "2"),
])
def test_literal_inputs_render_as_python_str(written: object, rendered: str) -> None:
    spec = spec_from_data({"command": "echo ${{inputs.v}}", "environment": "img", "inputs": {"v": written}})
    literal = spec.inputs["v"]
    assert isinstance(literal, LiteralInput) and literal.rendered() == rendered


def test_literal_of_wrong_type_is_refused() -> None:
    with pytest.raises(SpecError, match="inputs.v: default 'three' is not an integer"):
        spec_from_data({"command": "echo", "environment": "img",
                        "inputs": {"v": {"type": "integer", "default": "three"}}})


def test_optional_input_without_value_is_allowed_in_a_fragment() -> None:
    spec = spec_from_data({"command": "t $[[--d ${{inputs.d}}]]", "environment": "img",
                           "inputs": {"d": {"type": "uri_folder", "optional": True}}})
    assert not spec.inputs["d"].has_value


def test_environment_reference_and_image(tmp_path: Path) -> None:
    ref = spec_from_data({"command": "ls", "environment": "azureml:sklearn@latest"})
    assert ref.environment == "azureml:sklearn@latest"
    image = spec_from_data({"command": "ls", "environment": {"image": "python:3.11", "conda_file": "c.yml"}})
    assert isinstance(image.environment, InlineEnvironment) and image.environment.image == "python:3.11"
    assert image.ignored_fields == [] and image.warnings == []  # the conda file is built into the image
    host = spec_from_data({"command": "ls", "compute": "local-process",
                           "environment": {"image": "python:3.11", "conda_file": "c.yml"}})
    assert [w for w in host.warnings if "conda_file is not installed for a job run as a host process" in w]


def test_mount_is_azure_generic_mount() -> None:
    spec = spec_from_data({"command": "ls ${{inputs.d}} ${{outputs.o}}", "environment": "img",
                           "inputs": {"d": {"path": "x", "mode": "mount"}},
                           "outputs": {"o": {"mode": "mount"}}})
    assert spec.inputs["d"].mode is Mode.RO_MOUNT  # type: ignore[union-attr]
    assert spec.outputs["o"].mode is Mode.RW_MOUNT


def test_overrides_like_az_ml_set(tmp_path: Path) -> None:
    job = _write(tmp_path, "command: ls ${{inputs.d}}\nenvironment: img\ninputs:\n  d:\n    path: a\n")
    spec = load_job_spec(job, ["inputs.d.path=b/c", "inputs.d.mode=download", "resources.instance_count=1",
                               "tags.k=v", "limits.timeout=60"])
    d = spec.inputs["d"]
    assert isinstance(d, AssetInput) and (d.path, d.mode) == ("b/c", Mode.DOWNLOAD)
    assert spec.tags == {"k": "v"} and spec.limits.timeout == 60


def test_parse_override_values() -> None:
    assert parse_override("a.b=3") == ("a.b", 3)
    assert parse_override("a=true") == ("a", True)
    assert parse_override("a=x=y") == ("a", "x=y")
    assert parse_override("a=") == ("a", "")


def test_relative_paths_are_relative_to_the_yaml_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    sub = tmp_path / "jobs"
    sub.mkdir()
    job = _write(sub, "command: ls\nenvironment: img\ncode: src\n")
    monkeypatch.chdir(tmp_path)
    assert load_job_spec(job).base_dir == sub


def test_equal_specs_compare_equal_regardless_of_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.chdir(tmp_path)
    job = _write(tmp_path, "command: ls ${{inputs.n}}\nenvironment: img\ninputs:\n  n: 3\n")
    assert load_job_spec(job) == spec_from_data({"command": "ls ${{inputs.n}}", "environment": "img",
                                                 "inputs": {"n": 3}})


def test_named_outputs_register_as_azure_does_without_a_warning(tmp_path: Path) -> None:
    """A named uri_folder output becomes a data asset and a model output a model (as in Azure ML): there
    is nothing to warn about (it used to be registered as a custom_model)."""
    text = ("command: echo hi > ${{outputs.data}}/x\nenvironment: img\noutputs:\n"
            "  data:\n    type: uri_folder\n    name: features\n"
            "  model:\n    type: mlflow_model\n    name: clf\n")
    spec = load_job_spec(_write(tmp_path, text))
    assert spec.warnings == []
