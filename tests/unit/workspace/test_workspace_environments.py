"""`runner environment create/list/show` and the environment table."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import RunnerError


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    return result.exit_code, result.output


def test_environment_commands(workspace_dir: Path, tmp_path: Path) -> None:
    code, out = cli("environment", "create", "--name", "sklearn-1.5", "--image", "runner/python:3.11")
    assert code == 0 and json.loads(out)["version"] == "1"
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM runner/python:3.11\n")
    code, out = cli("environment", "create", "-n", "sklearn-1.5", "--build-context", str(tmp_path / "ctx"))
    assert code == 0 and json.loads(out)["version"] == "2"
    code, out = cli("environment", "list", "-o", "json")
    listed = [(e["name"], e["version"]) for e in json.loads(out) if not e["builtin"]]
    assert listed == [("sklearn-1.5", "2"), ("sklearn-1.5", "1")]
    builtin = [e["name"] for e in json.loads(out) if e["builtin"]]
    assert "sklearn-1.5" not in builtin and "AzureML-sklearn-1.5" in builtin  # the mapping overrides it
    code, out = cli("environment", "show", "-n", "sklearn-1.5", "-v", "1", "-o", "json")
    assert json.loads(out)["image"] == "runner/python:3.11"
    code, out = cli("environment", "list")
    assert code == 0 and "sklearn-1.5" in out


def test_environment_errors(workspace_dir: Path, tmp_path: Path) -> None:
    code, out = cli("environment", "create", "--name", "e")
    assert code != 0 and "exactly one of --image or --build-context" in out
    (tmp_path / "empty").mkdir()
    code, out = cli("environment", "create", "--name", "e", "--build-context", str(tmp_path / "empty"))
    assert code != 0 and "no Dockerfile" in out
    code, out = cli("environment", "show", "--name", "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu", "-v", "9")
    assert code != 0 and "runner environment create --name AzureML-sklearn-0.24-ubuntu18.04-py37-cpu " \
                        "--version 9 --image" in out


def test_curated_environments_are_built_in_and_overridable(workspace_dir: Path) -> None:
    code, out = cli("environment", "list", "-o", "json")
    rows = {e["name"]: e for e in json.loads(out)}
    assert rows["sklearn-1.5"]["builtin"] and rows["sklearn-1.5"]["image"] == "runner/python:3.11"
    assert "built in" in rows["sklearn-1.5"]["description"] and "sklearn-1.0" in rows
    assert "the curated one has scikit-learn 1.0" in rows["sklearn-1.0"]["description"]
    code, out = cli("environment", "show", "-n", "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu", "-v", "3",
                    "-o", "json")
    assert code == 0 and json.loads(out)["image"] == "runner/python:3.11" and json.loads(out)["builtin"]
    code, out = cli("environment", "list")
    assert code == 0 and "True" in out  # the table's built-in column
    cli("environment", "create", "--name", "sklearn-1.5", "--image", "my/sklearn:1")
    code, out = cli("environment", "show", "-n", "sklearn-1.5", "-o", "json")
    assert json.loads(out)["image"] == "my/sklearn:1" and not json.loads(out)["builtin"]
