"""`runner job validate` end to end through a real (temporary) workspace and resolver: nothing runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from repo_paths import EXAMPLES

from runner.cli.main import app
from runner.client import MLClient
from runner.errors import ModeError, ResolveError
from runner.jobs.submit import plan_job
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace

pytestmark = pytest.mark.examples

BASICS = EXAMPLES / "cli" / "jobs" / "basics"


def _map_sklearn(ws: Path) -> None:
    MLClient(workspace_dir=ws).environments.create_or_update(name="sklearn-1.5", image="runner/python:3.11")


def _basics_with_code(tmp_path: Path) -> Path:
    """A copy of the examples with hello-model-as-output.yml's ``code: src`` folder, which the read-only
    examples lack (as tests/integration/examples/test_azureml_examples.py does); returns basics/."""
    copy = tmp_path / "azureml-examples"
    shutil.copytree(EXAMPLES, copy)
    (copy / "cli" / "jobs" / "basics" / "src").mkdir()
    return copy / "cli" / "jobs" / "basics"


def test_validate_prints_the_plan(workspace_dir: Path, tmp_path: Path) -> None:
    _map_sklearn(workspace_dir)
    result = CliRunner().invoke(app, ["--workspace", str(workspace_dir), "job", "validate", "-f",
                                      str(_basics_with_code(tmp_path) / "hello-model-as-output.yml"),
                                      "-n", "demo"])
    assert result.exit_code == 0, result.output
    assert "image        runner/python:3.11" in result.output
    assert "input_model  mlflow_model  ro_mount  folder" in result.output
    assert "azureml://datastores/workspaceblobstore/paths/azureml/demo/output_folder" in result.output
    assert "--custom_model_output /mnt/runner/outputs/output_folder" in result.output
    assert not (workspace_dir / "jobs" / "demo").exists()  # validate creates no job


def test_validate_refuses_a_missing_code_folder_as_create_would(workspace_dir: Path) -> None:
    _map_sklearn(workspace_dir)
    result = CliRunner().invoke(app, ["--workspace", str(workspace_dir), "job", "validate", "-f",
                                      str(BASICS / "hello-model-as-output.yml"), "-n", "demo"])
    # named but not there: exit 1 (docs/guides/ci.md); the CLI's main prints it as one message
    assert isinstance(result.exception, ResolveError) and result.exception.exit_code == 1
    assert "code folder" in result.exception.message and "does not exist" in result.exception.message
    assert result.exception.field == "code" and result.exception.where is not None


def test_validate_json_with_set(workspace_dir: Path) -> None:
    _map_sklearn(workspace_dir)
    result = CliRunner().invoke(app, ["--workspace", str(workspace_dir), "job", "validate", "-f",
                                      str(BASICS / "hello-model-as-input.yml"), "--set",
                                      "inputs.my_model.mode=download", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["inputs"][0]["mode"] == "download"
    assert data["inputs"][0]["uri"] == str((EXAMPLES / "cli/assets/model/mlflow-model").resolve())
    assert data["command"].strip() == "ls /mnt/runner/inputs/my_model"


def test_plan_job_custom_model_file_refused_at_plan_time(workspace_dir: Path, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "cli/assets/model/mlflow-model/model.pkl", tmp_path / "model.pkl")
    yml = tmp_path / "job.yml"
    yml.write_text("command: ls ${{inputs.m}}\nenvironment: {image: img}\ninputs:\n  m:\n"
                   "    type: custom_model\n    path: model.pkl\n")
    spec = load_job_spec(yml)
    with pytest.raises(ModeError, match="custom_model file input has no supported mode"):
        plan_job(spec, workspace=Workspace(workspace_dir), job_name="j")
