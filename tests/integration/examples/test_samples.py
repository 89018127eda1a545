"""Every sample in samples/ run for real (Docker, mounts, the registry), and its result checked: the job
Completed, what it read or wrote (SHA-256 against the source), the registered model version and its
lineage. Also the Python twins in samples/python/ and the README's first command (scripts/demo.sh).

The samples that store models on the default datastore also run with that datastore on Azure Blob
(Azurite, ``wss`` with ``azurite``): their rw_mount outputs and their registered-model inputs then go
through real FUSE mounts, whole jobs end to end."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, sha256_tree, write_job
from repo_paths import REPO

SAMPLES = REPO / "samples"
JOBS = SAMPLES / "jobs"
MODELS = SAMPLES / "models"

pytestmark = pytest.mark.docker


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    """A fresh workspace with Azure's sklearn-1.5 environment mapped to the local Python image."""
    cli(workspace_dir, "environment", "create", "--name", "sklearn-1.5", "--image", "runner/python:3.11",
        check=True)
    return workspace_dir


@dataclass
class Stored:
    """The workspace's default datastore (``workspaceblobstore``): its folder, or its Azurite container."""

    ws: Path
    container: Any = None  # azure.storage.blob.ContainerClient when the datastore is on Azurite

    def tree(self, rel: str) -> dict[str, str]:
        """relative path -> SHA-256 of every file under ``rel``."""
        if self.container is None:
            return sha256_tree(datastore_file(self.ws, rel))
        prefix = rel.rstrip("/") + "/"
        return {blob.name[len(prefix):]: hashlib.sha256(self.read(blob.name)).hexdigest()
                for blob in self.container.list_blobs(prefix)}

    def read(self, rel: str) -> bytes:
        if self.container is None:
            return datastore_file(self.ws, rel).read_bytes()
        return bytes(self.container.download_blob(rel).readall())


# the store parameter of ``wss``: the local default datastore, or Azurite (FUSE where the test mounts)
LOCAL = "local"
AZURITE_MOUNTS = [pytest.mark.azure, pytest.mark.fuse]
AZURITE_MOUNTED = pytest.param("azurite", marks=AZURITE_MOUNTS)


@pytest.fixture
def wss(request: pytest.FixtureRequest, ws: Path, tmp_path: Path) -> tuple[Path, Stored]:
    """The workspace, with its default datastore left local or moved to a fresh Azurite container."""
    if request.param == "local":
        return ws, Stored(ws)
    from azure.storage.blob import ContainerClient

    if request.node.get_closest_marker("fuse") is not None:  # the job mounts the datastore
        request.getfixturevalue("fuse_available")
    container = request.getfixturevalue("azure_container")
    azurite = container.azurite
    datastore = write_job(tmp_path, f"""
        name: workspaceblobstore
        type: azure_blob
        account_name: {azurite.account}
        container_name: {container.name}
        account_url: {azurite.blob_endpoint}
        credentials:
          account_key: {azurite.key}
        """, name="default-datastore.yml")
    cli(ws, "datastore", "create", "--file", str(datastore), check=True)
    return ws, Stored(ws, ContainerClient.from_connection_string(azurite.connection_string, container.name))


def run_sample(ws: Path, yaml_name: str, job: str, *sets: str) -> str:
    """``runner job create --file samples/jobs/<yaml> --name <job> --stream``; its log, once Completed."""
    args = ["job", "create", "--file", str(JOBS / yaml_name), "--name", job, "--stream"]
    for value in sets:
        args += ["--set", value]
    result = cli(ws, *args, timeout=280)
    assert result.returncode == 0, f"{yaml_name} failed:\n{result.stdout}\n{result.stderr}"
    assert "Status: Completed" in result.stdout
    assert show_json(ws, "job", job)["status"] == "Completed"
    return result.stdout


def show_json(ws: Path, group: str, name: str, version: str | None = None) -> dict[str, Any]:
    args = [group, "show", "--name", name, *(["--version", version] if version else []), "-o", "json"]
    data = json.loads(cli(ws, *args, check=True).stdout)
    assert isinstance(data, dict)
    return data


def create_model(ws: Path, *args: str) -> dict[str, Any]:
    data = json.loads(cli(ws, "model", "create", *args, "-o", "json", check=True).stdout)
    assert isinstance(data, dict)
    return data


def fingerprints(log: str) -> dict[str, str]:
    """The ``sha256 <hex> <relative path>`` lines the sample scripts print."""
    return {m[2]: m[1] for m in re.finditer(r"^sha256 ([0-9a-f]{64}) (\S+)$", log, flags=re.M)}


def assert_sums_match(folder: Path | tuple[Stored, str]) -> dict[str, str]:
    """The model folder a job wrote (a local folder, or (store, rel)) has a SHA256SUMS that matches every
    other file in it."""
    if isinstance(folder, Path):
        tree, sums = sha256_tree(folder), (folder / "SHA256SUMS").read_text()
    else:
        stored, rel = folder
        tree, sums = stored.tree(rel), stored.read(f"{rel}/SHA256SUMS").decode()
    lines = sums.splitlines()
    listed = {name: digest for digest, name in (line.split(maxsplit=1) for line in lines)}
    assert listed == {k: v for k, v in tree.items() if k != "SHA256SUMS"}
    return tree


# ---- a model as input, in each allowed mode ---------------------------------------------------------

def binding_modes(ws: Path, job: str) -> dict[str, str]:
    """name -> mode of every input and output the job's stored plan materialized."""
    plan = show_json(ws, "job", job)["extra"]["plan"]
    return {b["name"]: b["mode"] for b in plan["inputs"] + plan["outputs"]}


@pytest.mark.parametrize(("yaml_name", "mode"), [("model-input-download.yml", "download"),
                                                 ("model-input-ro-mount.yml", "ro_mount")])
def test_mlflow_model_input(ws: Path, yaml_name: str, mode: str) -> None:
    log = run_sample(ws, yaml_name, "input-job")
    assert fingerprints(log) == sha256_tree(MODELS / "mlflow-model")
    assert "MLmodel flavors: python_function, sklearn" in log
    assert binding_modes(ws, "input-job")["my_model"] == mode
    if mode == "ro_mount":  # the sample probes a write (--expect-readonly): refused with EROFS
        assert "read-only as expected (EROFS)" in log


def test_custom_model_input_direct(ws: Path) -> None:
    log = run_sample(ws, "model-input-direct.yml", "direct-job")
    assert fingerprints(log) == sha256_tree(MODELS / "custom-model")
    assert "SHA256SUMS verified" in log and "files read directly" in log


def test_mlflow_model_input_direct_is_refused(ws: Path) -> None:
    result = cli(ws, "job", "create", "--file", str(JOBS / "model-input-download.yml"),
                 "--set", "inputs.my_model.mode=direct", "--stream")
    assert result.returncode != 0
    assert ("mode 'direct' is not supported for a mlflow_model input; allowed: download, ro_mount"
            in result.stderr)
    assert "Traceback" not in result.stderr


# ---- a model as output, registered with lineage, chained ----------------------------------------------

@pytest.mark.parametrize("wss", [LOCAL, AZURITE_MOUNTED], indirect=True)
def test_output_rw_mount_registered_and_chained(wss: tuple[Path, Stored]) -> None:
    ws, stored = wss
    run_sample(ws, "model-output-rw-mount.yml", "train-rw")
    written = assert_sums_match((stored, "azureml/train-rw/trained_model"))
    assert set(written) == {"SHA256SUMS", "metadata.json", "model.pkl"}
    model = create_model(ws, "--name", "sample-trained-model", "--type", "custom_model",
                         "--path", "azureml://jobs/train-rw/outputs/trained_model")
    assert model["job_name"] == "train-rw"

    # the YAML's own path: azureml:sample-trained-model@latest
    by_model = run_sample(ws, "model-chain-score.yml", "score-registered")
    by_output = run_sample(ws, "model-chain-score.yml", "score-output",
                           "inputs.trained_model.path=azureml://jobs/train-rw/outputs/trained_model")
    for log in (by_model, by_output):
        assert fingerprints(log) == written
        assert "SHA256SUMS verified" in log and "loaded a custom model (LogisticRegression)" in log


def test_mlflow_logged_model_registered_from_run(ws: Path) -> None:
    log = run_sample(ws, "train-mlflow-log-model.yml", "mlflow-train")
    assert "MLFLOW_RUN_ID=mlflow-train" in log
    logged = sha256_tree(datastore_file(ws, "ExperimentRun/dcid.mlflow-train/model"))
    assert "MLmodel" in logged and "model.pkl" in logged

    model = create_model(ws, "--name", "run-model-example", "--version", "1", "--type", "mlflow_model",
                         "--path", "runs:/mlflow-train/model/")
    assert model["job_name"] == "mlflow-train"
    assert model["path"] == "azureml://jobs/mlflow-train/outputs/artifacts/paths/model"
    used = run_sample(ws, "model-input-download.yml", "use-run-model",
                      "inputs.my_model.path=azureml:run-model-example:1")
    assert fingerprints(used) == logged


@pytest.mark.parametrize("wss", [LOCAL, AZURITE_MOUNTED], indirect=True)
def test_model_registered_from_datastore_path(wss: tuple[Path, Stored]) -> None:
    ws, stored = wss
    run_sample(ws, "model-output-to-datastore.yml", "to-datastore")
    written = assert_sums_match((stored, "models/sample-datastore-model"))
    model = create_model(ws, "--file", str(MODELS / "datastore-model.yml"))
    assert model["path"] == "azureml://datastores/workspaceblobstore/paths/models/sample-datastore-model"
    assert not model["job_name"]
    log = run_sample(ws, "model-input-ro-mount.yml", "use-datastore-model",
                     "inputs.my_model.path=azureml:sample-datastore-model:1")
    assert fingerprints(log) == written and "read-only as expected" in log


@pytest.mark.parametrize(("wss", "mode"), [(LOCAL, "ro_mount"),
                                           pytest.param("azurite", "ro_mount", marks=AZURITE_MOUNTS),
                                           pytest.param("azurite", "download", marks=pytest.mark.azure)],
                         indirect=["wss"])
def test_registered_mlflow_model_as_input(wss: tuple[Path, Stored], mode: str) -> None:
    """The sample MLflow model registered (copied to the default datastore), then read by the input
    samples: on Azurite, ro_mount is a FUSE mount the job cannot write (EROFS)."""
    ws, stored = wss
    create_model(ws, "--name", "sample-mlflow", "--version", "1", "--type", "mlflow_model",
                 "--path", str(MODELS / "mlflow-model"))
    source = sha256_tree(MODELS / "mlflow-model")
    assert stored.tree("LocalUpload/sample-mlflow/1/mlflow-model") == source
    yaml_name = "model-input-ro-mount.yml" if mode == "ro_mount" else "model-input-download.yml"
    log = run_sample(ws, yaml_name, "registered-in", "inputs.my_model.path=azureml:sample-mlflow:1")
    assert fingerprints(log) == source
    assert binding_modes(ws, "registered-in")["my_model"] == mode
    if mode == "ro_mount":
        assert "read-only as expected (EROFS)" in log
    assert stored.tree("LocalUpload/sample-mlflow/1/mlflow-model") == source  # untouched


# ---- the same samples against an Azure Blob datastore (Azurite): FUSE mounts, adlfs, direct URIs ------

@pytest.mark.azure
@pytest.mark.fuse
def test_samples_on_azure_blob_datastore(ws: Path, tmp_path: Path, azure_container: Any,
                                         fuse_available: bool) -> None:
    azurite = azure_container.azurite
    datastore = tmp_path / "azurite.yml"
    datastore.write_text(f"""\
name: azurite
type: azure_blob
account_name: {azurite.account}
container_name: {azure_container.name}
account_url: {azurite.blob_endpoint}
credentials:
  account_key: {azurite.key}
""")
    cli(ws, "datastore", "create", "--file", str(datastore), check=True)
    store = "azureml://datastores/azurite/paths/models"
    logs = [run_sample(ws, "model-output-rw-mount.yml", "az-rw", f"outputs.trained_model.path={store}/rw"),
            run_sample(ws, "model-output-upload.yml", "az-up", f"outputs.model_output.path={store}/up")]
    for name in ("rw", "up"):
        create_model(ws, "--name", f"az-{name}", "--type", "custom_model", "--path", f"{store}/{name}")
    written = fingerprints(logs[0].split("wrote a custom model")[1])
    assert set(written) == {"SHA256SUMS", "metadata.json", "model.pkl"}

    for mode in ("ro_mount", "download", "direct"):
        log = run_sample(ws, "model-input-direct.yml", f"az-in-{mode}",
                         "inputs.my_model.path=azureml:az-rw:1", f"inputs.my_model.mode={mode}")
        assert fingerprints(log) == written and "SHA256SUMS verified" in log
        assert ("AzureBlobFileSystem" if mode == "direct" else "LocalFileSystem") in log
        assert azurite.key not in log
    uploaded = run_sample(ws, "model-chain-score.yml", "az-score",
                          "inputs.trained_model.path=azureml:az-up:1")
    assert "SHA256SUMS verified" in uploaded and "loaded a mlflow model (LogisticRegression)" in uploaded


# ---- the Python twins ------------------------------------------------------------------------------

def run_python_sample(ws: Path, script: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(SAMPLES / "python" / script), "--workspace", str(ws), *args],
                            capture_output=True, text=True, timeout=280, cwd=REPO)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_python_manage_models(ws: Path) -> None:
    out = run_python_sample(ws, "manage_models.py")
    assert "registered local-mlflow-example:2" in out
    assert "versions of local-mlflow-example: ['2', '1']" in out
    assert "after archiving version 1: ['2']" in out
    assert "after archiving the model: ['local-file-example']" in out
    shown = show_json(ws, "model", "local-mlflow-example", "1")
    assert shown["description"] == "This is an updated description." and shown["tags"] == {"stage": "Prod"}
    assert not shown["archived"]


@pytest.mark.parametrize("mode", ["download", "ro_mount", "direct"])
def test_python_model_as_input(ws: Path, mode: str) -> None:
    out = run_python_sample(ws, "model_as_input.py", "--mode", mode)
    source = MODELS / ("custom-model" if mode == "direct" else "mlflow-model")
    assert fingerprints(out) == sha256_tree(source)
    assert re.search(r"^job \S+: Completed$", out, flags=re.M)


@pytest.mark.parametrize(("wss", "mode"), [(LOCAL, "upload"),
                                           pytest.param("azurite", "rw_mount", marks=AZURITE_MOUNTS)],
                         indirect=["wss"])
def test_python_model_as_output(wss: tuple[Path, Stored], mode: str) -> None:
    ws, stored = wss
    out = run_python_sample(ws, "model_as_output.py", "--mode", mode)
    job = re.search(r"^job (\S+): Completed$", out, flags=re.M)
    assert job
    model = show_json(ws, "model", "model-from-job-output", "1")
    assert model["job_name"] == job[1] and model["type"] == "custom_model"
    assert binding_modes(ws, job[1])["output_folder"] == mode
    assert_sums_match((stored, f"azureml/{job[1]}/output_folder"))


def test_python_register_from_run(ws: Path) -> None:
    out = run_python_sample(ws, "register_from_run.py")
    jobs = re.findall(r"^job (\S+): Completed$", out, flags=re.M)
    assert len(jobs) == 2
    model = show_json(ws, "model", "run-model-example", "1")
    assert model["job_name"] == jobs[0] and model["type"] == "mlflow_model"
    assert "loaded a mlflow model (LogisticRegression)" in out


@pytest.mark.parametrize("wss", [LOCAL, AZURITE_MOUNTED], indirect=True)
def test_python_chain_models(wss: tuple[Path, Stored]) -> None:
    ws, stored = wss
    out = run_python_sample(ws, "chain_models.py")
    jobs = re.findall(r"^job (\S+): Completed$", out, flags=re.M)
    assert len(jobs) == 3 and out.count("SHA256SUMS verified") == 2
    from_datastore = show_json(ws, "model", "chained-model", "1")
    from_output = show_json(ws, "model", "chained-model", "2")
    assert from_datastore["path"] == "azureml://datastores/workspaceblobstore/paths/models/chained-model"
    assert not from_datastore["job_name"] and from_output["job_name"] == jobs[0]
    assert_sums_match((stored, "models/chained-model"))


# ---- the README's first command ---------------------------------------------------------------------

def test_demo_script(ws: Path, tmp_path: Path) -> None:
    """scripts/demo.sh as the README runs it (provisioning skipped: the test session is provisioned, and
    two provisioning runs at once would fight over the image build folder). It is also the test of
    samples/jobs/model-output-upload.yml: model v1 in through ro_mount, v2 out through upload."""
    env = {**os.environ, "RUNNER_SKIP_PROVISION": "1", "TMPDIR": str(ws)}
    result = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], capture_output=True, text=True,
                            timeout=280, env=env, cwd=REPO)
    out = result.stdout
    assert result.returncode == 0, f"demo failed:\n{out}\n{result.stderr}"
    job = re.search(r"^job (demo-retrain-\S+): Completed$", out, flags=re.M)
    assert job, out
    assert (f"sample-mlflow-model:2 registered from azureml://jobs/{job[1]}/outputs/model_output "
            f"(lineage: job {job[1]})") in out
    assert re.search(rf"^job_name:\s+{re.escape(job[1])}$", out, flags=re.M)
    assert "read input input_model = azureml:sample-mlflow-model:1 (ro_mount)" in out

    demo_ws = Path(re.findall(r"^RUNNER_WORKSPACE=(\S+)$", out, flags=re.M)[0])
    assert demo_ws.parent == ws
    read = fingerprints(out.split("trained LogisticRegression")[0])
    assert read == sha256_tree(MODELS / "mlflow-model")  # what the job saw through ro_mount
    written = assert_sums_match(datastore_file(demo_ws, f"azureml/{job[1]}/model_output"))
    assert {"MLmodel", "model.pkl"} <= set(written)
    v2 = show_json(demo_ws, "model", "sample-mlflow-model", "2")
    assert v2["job_name"] == job[1] and v2["type"] == "mlflow_model"
    cli(demo_ws, "model", "download", "--name", "sample-mlflow-model", "--version", "2",
        "--download-path", str(tmp_path / "download"), check=True)
    downloaded = list((tmp_path / "download").rglob("MLmodel"))
    assert len(downloaded) == 1 and sha256_tree(downloaded[0].parent) == written
