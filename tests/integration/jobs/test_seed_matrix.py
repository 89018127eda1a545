"""Every cell of the seed's supported-modes matrix, in a real container, on the local datastore and on an
Azure Blob datastore (Azurite, FUSE for the mounts):

| Type          | Input/Output | upload | download | ro_mount | rw_mount | direct |
| custom file   | Input        |        |          |          |          |        |
| custom folder | Input        |        |    ✓     |    ✓     |          |   ✓    |
| mlflow        | Input        |        |    ✓     |    ✓     |          |        |
| custom file   | Output       |   ✓    |          |          |    ✓     |   ✓    |
| custom folder | Output       |   ✓    |          |          |    ✓     |   ✓    |
| mlflow        | Output       |   ✓    |          |          |    ✓     |   ✓    |

One job reads every allowed input cell and writes every allowed output cell; a custom file output gets
a file path and the datastore then holds exactly that file. Every empty cell is refused before anything
runs (``job validate``), with the modes the matrix allows."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, cli, create_azure_datastore, datastore_file, show, write_job

MLMODEL = b"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
MODEL_TREE = {"MLmodel": MLMODEL, "model.pkl": b"\x80\x04weights" * 1000, "sub/conda.yaml": b"name: m\n"}
FILE_BYTES = b"a single model file\n" * 100

SCRIPT = """\
import hashlib, json, os
import fsspec

def opened(variable):
    # a direct binding's own storage options (two datastores' credentials cannot share adlfs's variables)
    options = json.loads(os.environ.get(variable + "_STORAGE_OPTIONS", "{}"))
    return fsspec.core.url_to_fs(os.environ[variable], **options)

def tree(variable):
    fs, root = opened(variable)
    return {p[len(root.rstrip("/")) + 1:]: hashlib.sha256(fs.cat_file(p)).hexdigest()
            for p in fs.find(root)}

def write(variable, files):
    fs, root = opened(variable)
    for rel, data in files.items():
        path = root.rstrip("/") + "/" + rel if rel else root
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        with fs.open(path, "wb") as handle:
            handle.write(data)

inputs = {name: tree("AZURE_ML_INPUT_" + name) for name in INPUTS}
print("SEEN " + json.dumps(inputs, sort_keys=True))
model = {rel: bytes.fromhex(data) for rel, data in MODEL.items()}
for name in OUTPUTS:
    value = os.environ["AZURE_ML_OUTPUT_" + name]
    if name.startswith("file_"):
        print("FILE", name, os.path.basename(value.rstrip("/")))
        write("AZURE_ML_OUTPUT_" + name, {"": bytes.fromhex(FILE)})
    else:
        write("AZURE_ML_OUTPUT_" + name, model)
"""

# an input and an output may share a name (folder_direct, ...), as in Azure
INPUT_CELLS = {
    "folder_download": ("custom_model", "download"), "folder_ro_mount": ("custom_model", "ro_mount"),
    "folder_direct": ("custom_model", "direct"), "mlflow_download": ("mlflow_model", "download"),
    "mlflow_ro_mount": ("mlflow_model", "ro_mount")}
OUTPUT_CELLS = {f"{kind}_{mode}": (kind, mode) for kind in ("file", "folder", "mlflow")
                for mode in ("upload", "rw_mount", "direct")}


def _digests(files: dict[str, bytes]) -> dict[str, str]:
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def _job(tmp_path: Path, datastore: str) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    model_hex = json.dumps({rel: data.hex() for rel, data in MODEL_TREE.items()})
    (src / "matrix.py").write_text(f"INPUTS = {list(INPUT_CELLS)!r}\nOUTPUTS = {list(OUTPUT_CELLS)!r}\n"
                                   f"MODEL = {model_hex}\nFILE = {FILE_BYTES.hex()!r}\n" + SCRIPT)
    lines = ["command: python matrix.py", "code: src", "environment: azureml:AzureML-sklearn-1.5@latest",
             "inputs:"]
    for name, (kind, mode) in INPUT_CELLS.items():
        model = "custom" if kind == "custom_model" else "mlflow"
        lines.append(f"  {name}: {{type: {kind}, path: 'azureml:{model}-in@latest', mode: {mode}}}")
    lines.append("outputs:")
    for name, (kind, mode) in OUTPUT_CELLS.items():
        asset = {"file": "custom_model", "folder": "custom_model", "mlflow": "mlflow_model"}[kind]
        path = f"azureml://datastores/{datastore}/paths/matrix/{name}"
        path += "/model.pkl" if kind == "file" else ""
        lines.append(f"  {name}: {{type: {asset}, mode: {mode}, path: '{path}'}}")
    return write_job(tmp_path, "\n".join(lines) + "\n", name=f"matrix-{datastore}.yml")


def _register_inputs(ws: Path, tmp_path: Path, datastore: str, upload: Any) -> None:
    """custom-in (a folder) and mlflow-in (an MLflow folder), referenced on ``datastore`` (on Azure, not
    the container the job's direct outputs write to: that container may hold no registered version)."""
    for rel, data in MODEL_TREE.items():
        upload(f"models/custom/{rel}", data)
        upload(f"models/mlflow/{rel}", data)
    for name, kind, folder in (("custom-in", "custom_model", "custom"),
                               ("mlflow-in", "mlflow_model", "mlflow")):
        cli(ws, "model", "create", "--name", name, "--type", kind, "--path",
            f"azureml://datastores/{datastore}/paths/models/{folder}", check=True)


def _run_matrix(ws: Path, tmp_path: Path, datastore: str, job_name: str) -> list[str]:
    job = _job(tmp_path, datastore)
    plan = json.loads(cli(ws, "job", "validate", "--file", str(job), "-o", "json", check=True).stdout)
    assert {b["name"]: b["kind"] for b in plan["outputs"] if b["name"].startswith("file_")} == {
        "file_upload": "file", "file_rw_mount": "file", "file_direct": "file"}
    result = cli(ws, "job", "create", "--file", str(job), "--name", job_name, "--stream", timeout=280)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("SEEN "))[5:])
    assert seen == {name: _digests(MODEL_TREE) for name in INPUT_CELLS}
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("FILE ")) == [
        "FILE file_direct model.pkl", "FILE file_rw_mount model.pkl", "FILE file_upload model.pkl"]
    assert show(ws, job_name)["status"] == "Completed"
    return result.stdout.splitlines()


@pytest.mark.docker
@pytest.mark.fuse
def test_every_cell_on_the_local_datastore(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                                          fuse_available: bool) -> None:
    ws = workspace_dir

    def upload(rel: str, data: bytes) -> None:
        target = datastore_file(ws, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    _register_inputs(ws, tmp_path, "workspaceblobstore", upload)
    _run_matrix(ws, tmp_path, "workspaceblobstore", "matrix-local")
    for name, (kind, _mode) in OUTPUT_CELLS.items():
        root = datastore_file(ws, f"matrix/{name}")
        held = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        assert held == ({"model.pkl": FILE_BYTES} if kind == "file" else MODEL_TREE), name
    assert_no_leftovers(docker_client, ws, "matrix-local")


@pytest.mark.docker
@pytest.mark.fuse
@pytest.mark.azure
def test_every_cell_on_azurite(workspace_dir: Path, tmp_path: Path, docker_client: Any, fuse_available: bool,
                               azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    models = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                    f"{azure_container.name}m")
    models.create_container()
    try:
        create_azure_datastore(ws, tmp_path, azure_container)
        create_azure_datastore(ws, tmp_path, dataclasses.replace(azure_container, name=models.container_name),
                               name="azmodels")
        _register_inputs(ws, tmp_path, "azmodels", lambda rel, data: models.upload_blob(rel, data))
        _run_matrix(ws, tmp_path, "az", "matrix-az")
    finally:
        models.delete_container()
    for name, (kind, _mode) in OUTPUT_CELLS.items():
        prefix = f"matrix/{name}/"
        held = {b.name[len(prefix):]: container.download_blob(b.name).readall()
                for b in container.list_blobs(prefix)}
        assert held == ({"model.pkl": FILE_BYTES} if kind == "file" else MODEL_TREE), name
    assert azure_container.azurite.key not in json.dumps(show(ws, "matrix-az"))
    assert_no_leftovers(docker_client, ws, "matrix-az")


@pytest.mark.parametrize(("kind", "where", "mode", "expected"), [
    ("custom_model", "file-input", "download", "a custom_model file input has no supported mode"),
    ("custom_model", "file-input", "ro_mount", "a custom_model file input has no supported mode"),
    ("custom_model", "file-input", "direct", "a custom_model file input has no supported mode"),
    ("custom_model", "input", "upload", "mode 'upload' is not supported for a custom_model input"),
    ("custom_model", "input", "rw_mount", "mode 'rw_mount' is not supported for a custom_model input"),
    ("mlflow_model", "input", "direct", "mode 'direct' is not supported for a mlflow_model input"),
    ("mlflow_model", "input", "upload", "mode 'upload' is not supported for a mlflow_model input"),
    ("mlflow_model", "input", "rw_mount", "mode 'rw_mount' is not supported for a mlflow_model input"),
    ("custom_model", "output", "download", "mode 'download' is not supported for a custom_model output"),
    ("custom_model", "output", "ro_mount", "mode 'ro_mount' is not supported for a custom_model output"),
    ("custom_model", "file-output", "download", "mode 'download' is not supported for a custom_model"),
    ("mlflow_model", "output", "download", "mode 'download' is not supported for a mlflow_model output"),
    ("mlflow_model", "output", "ro_mount", "mode 'ro_mount' is not supported for a mlflow_model output"),
])
def test_every_empty_cell_is_refused_before_the_run(workspace_dir: Path, tmp_path: Path, kind: str,
                                                    where: str, mode: str, expected: str) -> None:
    (tmp_path / "model.pkl").write_bytes(b"m")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "MLmodel").write_bytes(MLMODEL)
    if where.endswith("input"):
        path = "model.pkl" if where == "file-input" else "folder"
        io = f"inputs:\n  m: {{type: {kind}, path: {path}, mode: {mode}}}\n"
    else:
        path = ", path: azureml://datastores/workspaceblobstore/paths/o/model.pkl" if where == "file-output" \
            else ""
        io = f"outputs:\n  m: {{type: {kind}, mode: {mode}{path}}}\n"
    job = write_job(tmp_path, f"command: ls\nenvironment: python:3.11\n{io}")
    result = cli(workspace_dir, "job", "validate", "--file", str(job))
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
