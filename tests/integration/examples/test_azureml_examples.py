"""The Azure ML examples in ../shared/azureml-examples run unchanged, with only an environment mapping
configured (sklearn-1.5 -> runner/python:3.11; `library/python:latest` is the provisioned python:latest).

The examples folder is read-only and hello-model-as-output.yml's `code: src` folder does not exist there,
so each test copies the tree to a temporary folder and adds our script (samples/jobs/src/
hello-model-as-output.py) as cli/jobs/basics/src/hello-model-as-output.py; the YAMLs are not touched.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, sha256_tree
from repo_paths import EXAMPLES, REPO

OUR_SCRIPT = REPO / "samples" / "jobs" / "src" / "hello-model-as-output.py"

pytestmark = [pytest.mark.docker, pytest.mark.examples]


@pytest.fixture
def basics(tmp_path: Path) -> Path:
    """A writable copy of azureml-examples with our script in cli/jobs/basics/src/; returns basics/."""
    copy = tmp_path / "azureml-examples"
    shutil.copytree(EXAMPLES, copy)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    folder = copy / "cli" / "jobs" / "basics"
    (folder / "src").mkdir()
    shutil.copyfile(OUR_SCRIPT, folder / "src" / "hello-model-as-output.py")
    for yml in folder.glob("*.yml"):  # unchanged
        assert yml.read_bytes() == (EXAMPLES / "cli" / "jobs" / "basics" / yml.name).read_bytes()
    return folder


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    cli(workspace_dir, "environment", "create", "--name", "sklearn-1.5", "--image", "runner/python:3.11",
        check=True)
    return workspace_dir


def run_example(ws: Path, yml: Path, job: str, *sets: str) -> str:
    args = ["job", "create", "--file", str(yml), "--name", job, "--stream"]
    for value in sets:
        args += ["--set", value]
    result = cli(ws, *args, timeout=280)
    assert result.returncode == 0, f"{yml.name} failed:\n{result.stdout}\n{result.stderr}"
    record = json.loads(cli(ws, "job", "show", "--name", job, "-o", "json", check=True).stdout)
    assert record["status"] == "Completed" and record["exit_code"] == 0
    return result.stdout


MODEL_FILES = ["MLmodel", "conda.yaml", "input_example.json", "model.pkl", "requirements.txt"]


def test_hello_model_as_input(ws: Path, basics: Path) -> None:
    """Default mode (ro_mount): `ls ${{inputs.my_model}}` lists the MLflow model's files (a local
    path: a read-only bind, no FUSE)."""
    out = run_example(ws, basics / "hello-model-as-input.yml", "model-in")
    assert out.split() == MODEL_FILES


def test_hello_model_as_input_download(ws: Path, basics: Path) -> None:
    out = run_example(ws, basics / "hello-model-as-input.yml", "model-in-dl", "inputs.my_model.mode=download")
    assert out.split() == MODEL_FILES
    record = json.loads(cli(ws, "job", "show", "--name", "model-in-dl", "-o", "json", check=True).stdout)
    assert record["spec"]["inputs"]["my_model"]["mode"] == "download"


def test_hello_model_as_input_direct_is_refused(ws: Path, basics: Path) -> None:
    result = cli(ws, "job", "create", "--file", str(basics / "hello-model-as-input.yml"),
                 "--set", "inputs.my_model.mode=direct", "--stream")
    assert result.returncode == 2
    assert "inputs.my_model.mode" in result.stderr
    assert ("mode 'direct' is not supported for a mlflow_model input; allowed: download, ro_mount"
            in result.stderr)
    assert "hint: set mode to one of: download, ro_mount" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(cli(ws, "job", "list", "-o", "json", check=True).stdout) == []


def test_hello_model_as_output_with_our_script(ws: Path, basics: Path) -> None:
    out = run_example(ws, basics / "hello-model-as-output.yml", "model-out")
    source = sha256_tree(EXAMPLES / "cli" / "assets" / "model" / "mlflow-model")
    written = sha256_tree(datastore_file(ws, "azureml/model-out/output_folder"))
    assert {k: v for k, v in written.items() if k in source} == source
    assert set(written) - set(source) == {"SHA256SUMS", "README.txt"}
    assert f"OK: wrote {len(source)} files" in out
    model = json.loads(cli(ws, "model", "create", "--name", "hello-output", "--type", "custom_model",
                           "--path", "azureml://jobs/model-out/outputs/output_folder", "-o", "json",
                           check=True).stdout)
    assert model["job_name"] == "model-out"


def test_hello_world(ws: Path, basics: Path) -> None:
    assert run_example(ws, basics / "hello-world.yml", "hello").strip() == "hello world"


def test_hello_world_env_var(ws: Path, basics: Path) -> None:
    assert run_example(ws, basics / "hello-world-env-var.yml", "hello-env").strip() == "hello world"


def test_hello_world_output(ws: Path, basics: Path) -> None:
    run_example(ws, basics / "hello-world-output.yml", "hello-out")
    written = datastore_file(ws, "ExperimentRun/dcid.hello-out/outputs/helloworld.txt")
    assert written.read_text() == "hello world\n"
