"""`runner model ...` end to end: the azureml-examples model YAMLs unchanged, every verb, the messages a
new user meets, and concurrent creates from many processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from repo_paths import EXAMPLES

from runner.cli.main import app
from runner.errors import RunnerError

pytestmark = pytest.mark.examples

MODEL_EXAMPLES = EXAMPLES / "cli" / "assets" / "model"


def cli(*args: str) -> tuple[int, str]:
    """Run the CLI in-process; a RunnerError is rendered the way `runner` prints it."""
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def cli_json(*args: str) -> object:
    code, out = cli(*args, "-o", "json")
    assert code == 0, out
    return json.loads(out)


def runner_process(*args: str, ws: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_WORKSPACE": str(ws)}
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True, env=env,
                          timeout=240)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of azureml-examples' cli/assets/model (the YAMLs are used unchanged)."""
    target = tmp_path / "model"
    shutil.copytree(MODEL_EXAMPLES, target)
    return target


def test_examples_register_unchanged(workspace_dir: Path, examples: Path) -> None:
    file_model = cli_json("model", "create", "--file", str(examples / "local-file.yml"))
    assert isinstance(file_model, dict)
    assert file_model["name"] == "local-file-example" and file_model["version"] == "1"
    assert file_model["type"] == "custom_model"
    stored = workspace_dir / "datastores/workspaceblobstore/LocalUpload/local-file-example/1/model.pkl"
    assert stored.read_bytes() == (examples / "mlflow-model" / "model.pkl").read_bytes()
    mlflow_model = cli_json("model", "create", "-f", str(examples / "local-mlflow.yml"))
    assert isinstance(mlflow_model, dict)
    assert mlflow_model["type"] == "mlflow_model" and mlflow_model["version"] == "1"
    folder = workspace_dir / "datastores/workspaceblobstore/LocalUpload/local-mlflow-example/1/mlflow-model"
    assert (folder / "MLmodel").is_file()
    listed = cli_json("model", "list")
    assert isinstance(listed, list)
    assert [m["name"] for m in listed] == ["local-file-example", "local-mlflow-example"]


def test_every_verb(workspace_dir: Path, examples: Path, tmp_path: Path) -> None:
    model_path = str(examples / "mlflow-model" / "model.pkl")
    code, out = cli("model", "create", "--name", "m", "--path", model_path, "--description", "first",
                    "--tags", "team=ml", "--tags", "stage=dev", "--stage", "Development", "-o", "table")
    assert code == 0 and "LocalUpload/m/1/model.pkl" in out
    cli("model", "create", "--name", "m", "--path", model_path)
    versions = cli_json("model", "list", "--name", "m")
    assert isinstance(versions, list) and [v["version"] for v in versions] == ["2", "1"]
    shown = cli_json("model", "show", "--name", "m", "--version", "1")
    assert isinstance(shown, dict)
    assert shown["tags"] == {"team": "ml", "stage": "dev"} and shown["stage"] == "Development"
    latest = cli_json("model", "show", "--name", "m", "--label", "latest")
    assert isinstance(latest, dict) and latest["version"] == "2"
    code, out = cli("model", "update", "--name", "m", "--version", "1", "--set",
                    "description=This is an updated description.", "--set", "tags.stage=Prod",
                    "--remove", "tags.team")
    assert code == 0 and json.loads(out)["tags"] == {"stage": "Prod"}
    code, out = cli("model", "list")
    assert code == 0 and "m" in out and "custom_model" in out  # readable table
    cli("model", "archive", "--name", "m", "--version", "2")
    assert [v["version"] for v in cli_json("model", "list", "--name", "m")] == ["1"]  # type: ignore[union-attr]
    cli("model", "archive", "--name", "m")
    assert cli_json("model", "list") == []
    archived = cli_json("model", "list", "--archived-only")
    assert isinstance(archived, list) and [m["name"] for m in archived] == ["m"]
    assert cli_json("model", "list", "--include-archived", "--max-results", "1") != []
    cli("model", "restore", "--name", "m")
    code, out = cli("model", "download", "--name", "m", "--version", "1",
                    "--download-path", str(tmp_path / "dl"))
    assert code == 0 and (tmp_path / "dl" / "m" / "model.pkl").exists()


@pytest.mark.parametrize(("args", "expected"), [
    (("model", "create", "--name", "m", "--path", "azureml://datastores/myblobstore/paths/models/cifar.pt"),
     "unknown datastore 'myblobstore'; datastores in this workspace: workspaceblobstore"),
    (("model", "create", "--name", "m", "--path", "azureml://datastores/workspaceblobstore/paths/../../etc"),
     "escapes the root of datastore 'workspaceblobstore'"),
    (("model", "create", "--name", "m", "--type", "mlflow_model", "--path", "MODEL_FILE"),
     "an mlflow_model must be a folder with an MLmodel file"),
    (("model", "create", "--name", "m", "--path", "runs:/no_such_run/model/"),
     "unknown job 'no_such_run'"),
    (("model", "show", "--name", "nothing", "--version", "1"), "unknown model 'nothing'"),
])
def test_new_user_errors_are_one_clear_message(workspace_dir: Path, examples: Path, args: tuple[str, ...],
                                               expected: str) -> None:
    args = tuple(str(examples / "mlflow-model" / "model.pkl") if a == "MODEL_FILE" else a for a in args)
    code, out = cli(*args)
    assert code != 0 and expected in out and "hint:" in out and "Traceback" not in out


def test_immutable_update_and_restore_under_archived_model(workspace_dir: Path, examples: Path) -> None:
    cli("model", "create", "-f", str(examples / "local-file.yml"))
    code, out = cli("model", "update", "--name", "local-file-example", "--version", "1", "--set", "path=x")
    assert code != 0 and "Asset paths cannot be updated" in out
    cli("model", "archive", "--name", "local-file-example")
    code, out = cli("model", "restore", "--name", "local-file-example", "--version", "1")
    assert code != 0 and "the model 'local-file-example' itself is archived" in out
    assert "runner model restore --name local-file-example" in out


def test_real_process_prints_message_without_traceback(workspace_dir: Path) -> None:
    proc = runner_process("model", "create", "--name", "m", "--path",
                          "azureml://datastores/workspaceblobstore/paths/../secret", ws=workspace_dir)
    assert proc.returncode != 0
    assert "error: path '../secret' escapes the root of datastore 'workspaceblobstore'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_concurrent_creates_get_distinct_consecutive_versions(workspace_dir: Path, examples: Path) -> None:
    count = 6
    env = {**os.environ, "RUNNER_WORKSPACE": str(workspace_dir)}
    procs = [subprocess.Popen([sys.executable, "-m", "runner", "model", "create", "--name", "c", "--path",
                               str(examples / "mlflow-model"), "-o", "json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(count)]
    versions = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        versions.append(int(json.loads(out)["version"]))
    assert sorted(versions) == list(range(1, count + 1))
    root = workspace_dir / "datastores/workspaceblobstore/LocalUpload/c"
    assert sorted(int(p.name) for p in root.iterdir()) == list(range(1, count + 1))
    for version in range(1, count + 1):
        assert (root / str(version) / "mlflow-model" / "MLmodel").is_file()
