"""samples/jobs/pipeline-train-score-register.yml for real (Docker, FUSE, the registry), on the local
default datastore and with every step output on Azure Blob (Azurite): train writes an MLflow model
(upload), score reads it (ro_mount) and writes metrics, register reads both (download) and passes the
model on to be registered. Run again unchanged, train and score are reused; with a higher bar the
register step fails and nothing is registered."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, datastore_file, sha256_tree
from repo_paths import REPO

SAMPLE = REPO / "samples" / "jobs" / "pipeline-train-score-register.yml"
MODEL = "pipeline-iris-classifier"

pytestmark = [pytest.mark.docker, pytest.mark.fuse]


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, fuse_available: bool) -> Path:
    cli(workspace_dir, "environment", "create", "--name", "sklearn-1.5", "--image", "runner/python:3.11",
        check=True)
    return workspace_dir


def run(ws: Path, name: str, *sets: str, code: int = 0) -> tuple[str, dict[str, Any]]:
    args = ["job", "create", "--file", str(SAMPLE), "--name", name, "--stream"]
    for value in sets:
        args += ["--set", value]
    result = cli(ws, *args, timeout=290)
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout, json.loads(cli(ws, "job", "show", "--name", name, "-o", "json", check=True).stdout)


def model(ws: Path, version: str) -> dict[str, Any]:
    args = ["model", "show", "--name", MODEL, "--version", version, "-o", "json"]
    return json.loads(cli(ws, *args, check=True).stdout)  # type: ignore[no-any-return]


def local(uri: str, ws: Path) -> Path:
    return datastore_file(ws, uri.split("/paths/", 1)[1])


def test_sample_on_the_local_datastore(ws: Path) -> None:
    validated = cli(ws, "job", "validate", "--file", str(SAMPLE), "--name", "s0", check=True).stdout
    for edge in ("train.model -> score.model", "train.model -> register.model",
                 "score.metrics -> register.metrics"):
        assert edge in validated
    out, record = run(ws, "s1")
    assert "[score] accuracy on 45 held-out samples:" in out and "the model goes to the registry" in out
    assert record["registered_models"] == [f"azureml:{MODEL}:1"]
    trained = sha256_tree(local(record["outputs"]["trained_model"], ws))
    assert "MLmodel" in trained and "model.pkl" in trained
    registered = model(ws, "1")
    assert registered["job_name"] == "s1-register" and registered["type"] == "mlflow_model"
    assert sha256_tree(local(registered["datastore_uri"], ws)) == trained
    metrics = json.loads((datastore_file(ws, "azureml/s1-score/metrics") / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9
    score = json.loads(cli(ws, "job", "show", "--name", "s1-score", "-o", "json", check=True).stdout)
    assert score["spec"]["inputs"]["model"]["mode"] == "ro_mount" and score["spec"]["parent_job_name"] == "s1"

    # unchanged: train and score are reused, register runs (it registers a new version)
    out, record = run(ws, "s2")
    steps = record["extra"]["steps"]
    assert steps["train"]["reused_from"] == "s1-train" and steps["score"]["reused_from"] == "s1-score"
    assert "reused_from" not in steps["register"] and "[train]" not in out
    assert record["registered_models"] == [f"azureml:{MODEL}:2"]
    assert sha256_tree(local(model(ws, "2")["datastore_uri"], ws)) == trained

    # a higher bar: the last step fails, nothing is registered, what the others wrote stays
    out, record = run(ws, "s3", "inputs.min_accuracy=0.999", code=1)
    assert record["status"] == "Failed" and record["error"].startswith("step register failed")
    assert "is below 0.999: not registering the model" in out
    assert record["registered_models"] == []
    versions = json.loads(cli(ws, "model", "list", "--name", MODEL, "-o", "json", check=True).stdout)
    assert sorted(m["version"] for m in versions) == ["1", "2"]
    assert sha256_tree(local(record["outputs"]["trained_model"], ws)) == trained


@pytest.mark.azure
def test_sample_with_outputs_on_azure_blob(ws: Path, tmp_path: Path, azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    create_azure_datastore(ws, tmp_path, azure_container, name="az")
    out, record = run(ws, "a1", "settings.default_datastore=az")
    assert record["outputs"]["trained_model"] == "azureml://datastores/az/paths/azureml/a1-train/model"
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                      azure_container.name)
    blobs = {b.name for b in container.list_blobs()}
    for expected in ("azureml/a1-train/model/MLmodel", "azureml/a1-train/model/model.pkl",
                     "azureml/a1-score/metrics/metrics.json", "azureml/a1-register/registered_model/MLmodel"):
        assert expected in blobs
    registered = model(ws, "1")
    assert registered["datastore_uri"] == "azureml://datastores/az/paths/azureml/a1-register/registered_model"
    downloaded = cli(ws, "model", "download", "--name", MODEL, "--version", "1", "--download-path",
                     str(tmp_path / "dl"), check=True)
    assert downloaded.returncode == 0
    files = sha256_tree(tmp_path / "dl" / MODEL / "registered_model")
    trained = {name: hashlib.sha256(container.download_blob(f"azureml/a1-train/model/{name}").readall()
                                    ).hexdigest() for name in files}  # small files: a model's
    assert files == trained and "MLmodel" in files
    assert "[score] accuracy on 45 held-out samples:" in out
    assert not any("reuse not checked" in step.get("note", "") for step in record["extra"]["steps"].values())
    # unchanged, on Azure too: train and score are reused (their inputs compared by content on Azure)
    _, again = run(ws, "a2", "settings.default_datastore=az")
    steps = again["extra"]["steps"]
    assert steps["train"]["reused_from"] == "a1-train" and steps["score"]["reused_from"] == "a1-score"
    assert again["registered_models"] == [f"azureml:{MODEL}:2"]
