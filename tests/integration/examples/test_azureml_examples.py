"""The Azure ML examples in ../shared/azureml-examples run unchanged in a new workspace, with no set-up
step: Azure's curated sklearn-1.5 is built in (runner/python:3.11); `library/python:latest` is the
provisioned python:latest.

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
from jobs_support import cli, datastore_file, job_log, sha256_tree
from repo_paths import EXAMPLES, REPO

from runner.spec.yamlio import load_yaml

OUR_SCRIPT = REPO / "samples" / "jobs" / "src" / "hello-model-as-output.py"
# examples whose code folder the copy in ../shared lacks (validate checks that it exists)
SHIPPED_WITHOUT_CODE = {"basics/hello-model-as-output.yml", "single-step/java/iris/job-template.yml"}

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
    """A new workspace: nothing mapped, nothing registered."""
    return workspace_dir


def run_example(ws: Path, yml: Path, job: str, *sets: str) -> str:
    args = ["job", "create", "--file", str(yml), "--name", job, "--stream"]
    for value in sets:
        args += ["--set", value]
    result = cli(ws, *args, timeout=280)
    assert result.returncode == 0, f"{yml.name} failed:\n{result.stdout}\n{result.stderr}"
    record = json.loads(cli(ws, "job", "show", "--name", job, "-o", "json", check=True).stdout)
    assert record["status"] == "Completed" and record["exit_code"] == 0
    return job_log(result.stdout)


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


# ---- data assets: hello-dataset and hello-data-uri-folder's shapes ----------------------------------
# (Those two YAMLs are not in the examples copy beside the checkout; these jobs have their shape: an
# `azureml:<data>@latest` uri_folder input read through ro_mount, listed with `ls`, in Azure's curated
# scikit-learn environments, after `runner data create` of the examples' data asset YAML.)

DATA_JOBS = {
    "dataset": ("sampledata", "azureml://registries/azureml/environments/sklearn-1.0/labels/latest"),
    "data-uri-folder": ("local-folder-example", "azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest"),
}


@pytest.mark.fuse
@pytest.mark.parametrize("shape", sorted(DATA_JOBS))
def test_data_asset_jobs_run_after_data_create(ws: Path, basics: Path, fuse_available: bool,
                                               shape: str) -> None:
    asset, environment = DATA_JOBS[shape]
    data_yml = basics.parent.parent / "assets" / "data" / "local-folder-sampledata.yml"
    created = json.loads(cli(ws, "data", "create", "--file", str(data_yml), "--name", asset, "-o", "json",
                             check=True).stdout)
    assert created["version"] == "1" and created["type"] == "uri_folder"
    job = basics / f"hello-{shape}-shape.yml"
    job.write_text(f"command: ls ${{{{inputs.sampledata}}}}\ninputs:\n  sampledata:\n    type: uri_folder\n"
                   f"    path: azureml:{asset}@latest\n    mode: ro_mount\nenvironment: {environment}\n")
    assert run_example(ws, job, f"hello-{shape}").split() == ["iris.csv"]
    record = json.loads(cli(ws, "job", "show", "--name", f"hello-{shape}", "-o", "json", check=True).stdout)
    assert record["extra"]["input_assets"] == {"sampledata": f"data asset azureml:{asset}:1"}


# ---- every command job validates offline in a new workspace -----------------------------------------

# curated environments runner/python:3.11 does not hold (lightgbm, acpt-pytorch, tensorflow)
NOT_HELD = ("lightgbm/iris/job.yml", "pytorch/cifar-distributed/job.yml",
            "pytorch/word-language-model/job.yml", "tensorflow/mnist/job.yml",
            "tensorflow/mnist-distributed/job.yml")


def test_every_command_job_validates_in_a_new_workspace(workspace_dir: Path, tmp_path: Path) -> None:
    """Forms, the matrix, local paths and registry references are checked, nothing remote is read; the
    only refusals are the curated environments the provisioned image does not hold."""
    (tmp_path / "cifar").mkdir()
    (tmp_path / "cifar" / "data_batch_1").write_bytes(b"x")
    cli(workspace_dir, "data", "create", "--name", "cifar-10-example", "--path", str(tmp_path / "cifar"),
        check=True)
    # a writable copy with the code folders the examples ship without (validate checks that they exist)
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "cli", examples / "cli")
    jobs = [p for p in sorted((examples / "cli" / "jobs").rglob("*.y*ml"))
            if "pipelines-with-components" not in str(p) and "command:" in p.read_text()
            and "type: sweep" not in p.read_text()]
    assert len(jobs) >= 20
    missing = set()
    for job in jobs:
        code = load_yaml(job).data.get("code")
        if isinstance(code, str) and not (job.parent / code).exists():
            missing.add(str(job.relative_to(examples / "cli" / "jobs")))
            (job.parent / code).mkdir(parents=True)
    assert missing <= SHIPPED_WITHOUT_CODE, missing - SHIPPED_WITHOUT_CODE
    for job in jobs:
        result = cli(workspace_dir, "job", "validate", "--file", str(job), "-o", "json")
        single = examples / "cli" / "jobs" / "single-step"
        relative = str(job.relative_to(single)) if single in job.parents else job.name
        if relative in NOT_HELD:
            assert result.returncode != 0 and "is not mapped to a local image" in result.stderr, relative
            assert "runner environment create --name" in result.stderr
            continue
        assert result.returncode == 0, f"{relative}: {result.stderr}"
        plan = json.loads(result.stdout)
        for binding in plan["inputs"]:
            assert binding["kind"] in ("file", "folder"), (relative, binding)  # known without reading it
