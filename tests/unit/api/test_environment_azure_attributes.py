"""A registered environment read through ``ml_client.environments`` has azure.ai.ml's ``Environment``
attributes: ``id`` (its reference), ``creation_context`` (the jobs' shape), ``build`` (None, or the build
context with ``path`` and ``dockerfile_path``), ``conda_file`` as the loaded mapping (Azure's is a dict),
and ``latest_version`` on the entries of ``list()``. What ``runner environment show`` prints is
unchanged (the conda file's text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import MLClient
from runner.cli.main import app
from runner.entities import Environment
from runner.jobs.job import CreationContext

CONDA = "# packages\nname: model-env\ndependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn\n"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNNER_WORKSPACE", str(tmp_path / "ws"))
    (tmp_path / "conda.yaml").write_text(CONDA)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM runner/python:3.11\n")
    return MLClient(workspace_dir=tmp_path / "ws")


def test_a_registered_environment_reads_as_azures(ml_client: MLClient) -> None:
    registered = ml_client.environments.create_or_update(Environment(
        name="aml-scikit-learn", version="0.2.0", image="runner/python:3.11", conda_file="conda.yaml"))
    env = ml_client.environments.get(name="aml-scikit-learn", version="0.2.0")
    assert env.id == registered.id == "azureml:aml-scikit-learn:0.2.0"
    assert env.conda_file == {"name": "model-env",
                              "dependencies": ["python=3.11", {"pip": ["scikit-learn"]}]}
    assert env.build is None
    context = env.creation_context
    assert isinstance(context, CreationContext)
    assert context.created_at == env.created_at and context.last_modified_at == env.created_at
    assert context.created_by is None


def test_a_build_context_environment_has_its_build(ml_client: MLClient, tmp_path: Path) -> None:
    ml_client.environments.create_or_update(name="built", image=None, build_context="ctx")
    env = ml_client.environments.get("built", label="latest")
    assert env.build is not None
    assert (env.build.path, env.build.dockerfile_path) == (str(tmp_path / "ctx"), "Dockerfile")
    assert env.conda_file is None and env.id == "azureml:built:1"


def test_list_entries_have_their_latest_version(ml_client: MLClient) -> None:
    for version in ("1", "2"):
        ml_client.environments.create_or_update(name="e", version=version, image="runner/python:3.11")
    listed = [env for env in ml_client.environments.list() if env.name == "e"]
    assert listed and {env.latest_version for env in listed} == {"2"}


def test_the_cli_shows_the_conda_files_text_as_before(ml_client: MLClient) -> None:
    ml_client.environments.create_or_update(name="c", version="1", image="runner/python:3.11",
                                            conda_file="conda.yaml")
    result = CliRunner().invoke(app, ["environment", "show", "--name", "c", "--version", "1", "-o", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["conda_file"] == CONDA
    assert "conda_text" not in shown
