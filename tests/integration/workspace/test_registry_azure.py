"""Path resolution and the model registry against an Azure Blob datastore on Azurite (real adlfs)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from runner.client import MLClient
from runner.errors import ResolveError
from runner.modes import PathKind
from runner.spec.model import Model
from runner.workspace.db import JobRecord
from runner.workspace.job_records import JobStatus

pytestmark = pytest.mark.azure


def _blob_service(azure_container: Any) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)


def _upload(azure_container: Any, name: str, data: bytes) -> None:
    _blob_service(azure_container).get_blob_client(azure_container.name, name).upload_blob(data)


def _blobs(azure_container: Any) -> list[str]:
    client = _blob_service(azure_container).get_container_client(azure_container.name)
    return sorted(b.name for b in client.list_blobs())


def _key_datastore(azure_container: Any, name: str = "myblobstore") -> dict[str, Any]:
    """Azure ML datastore fields with an account key, plus a custom endpoint (Azurite)."""
    return {"name": name, "type": "azure_blob", "account_name": azure_container.azurite.account,
            "container_name": azure_container.name, "account_url": azure_container.azurite.blob_endpoint,
            "credentials": {"account_key": azure_container.azurite.key}}


def _conn_datastore(azure_container: Any, name: str) -> dict[str, Any]:
    return {"name": name, "type": "azure_blob", "account_name": azure_container.azurite.account,
            "container_name": azure_container.name,
            "connection_string": azure_container.azurite.connection_string}


def _sas_gen2_datastore(azure_container: Any, name: str) -> dict[str, Any]:
    """ADLS Gen2 field names (filesystem) with a SAS token; Azurite serves it through the Blob API."""
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(azure_container.azurite.account, azure_container.name,
                                 account_key=azure_container.azurite.key,
                                 permission=ContainerSasPermissions(read=True, write=True, list=True,
                                                                    delete=True),
                                 expiry=datetime.now(UTC) + timedelta(hours=1))
    return {"name": name, "type": "azure_data_lake_gen2", "account_name": azure_container.azurite.account,
            "filesystem": azure_container.name, "account_url": azure_container.azurite.blob_endpoint,
            "credentials": {"sas_token": sas}}


@pytest.fixture
def ml_client(workspace_dir: Path) -> MLClient:
    return MLClient(workspace_dir=workspace_dir)


@pytest.mark.parametrize("config", [_key_datastore, _conn_datastore, _sas_gen2_datastore])
def test_resolve_datastore_paths_on_azurite(ml_client: MLClient, azure_container: Any, config: Any) -> None:
    _upload(azure_container, "models/cifar10/cifar.pt", b"cifar")
    _upload(azure_container, "models/mlf/MLmodel", b"flavors: {}")
    ml_client.datastores.create_or_update(config(azure_container, "myblobstore"))
    resolver = ml_client.resolver
    file = resolver.resolve("azureml://datastores/myblobstore/paths/models/cifar10/cifar.pt")
    assert file.kind is PathKind.FILE and file.url == f"abfs://{azure_container.name}/models/cifar10/cifar.pt"
    store = f"myblobstore@{azure_container.azurite.blob_endpoint}/{azure_container.name}"  # its endpoint
    assert file.cache_key and file.cache_key.startswith(f"{store}:models/cifar10/cifar.pt:0x")
    with file.fs.open(file.path, "rb") as handle:
        assert handle.read() == b"cifar"
    assert "AZURE_STORAGE_CONNECTION_STRING" in file.env and "AZURE_STORAGE_ACCOUNT_NAME" in file.env
    folder = resolver.resolve("azureml://datastores/myblobstore/paths/models/mlf/")
    assert folder.kind is PathKind.FOLDER
    url = resolver.resolve(f"abfs://{azure_container.name}/models/cifar10/cifar.pt")  # datastore's creds
    assert url.kind is PathKind.FILE and url.env
    with pytest.raises(ResolveError):
        resolver.resolve("azureml://datastores/myblobstore/paths/models/missing.pt")
    with pytest.raises(ResolveError):
        resolver.resolve("azureml://datastores/myblobstore/paths/models/../../x")


def test_direct_env_lets_a_job_open_the_url(ml_client: MLClient, azure_container: Any) -> None:
    """What a job in direct mode does: adlfs configured only by the exported variables."""
    _upload(azure_container, "data/x.txt", b"direct-ok")
    ml_client.datastores.create_or_update(_key_datastore(azure_container))
    rp = ml_client.resolver.resolve("azureml://datastores/myblobstore/paths/data/x.txt")
    code = ("import fsspec,sys; f=fsspec.open(sys.argv[1],'rb'); h=f.open(); print(h.read().decode())")
    proc = subprocess.run([sys.executable, "-c", code, rp.url], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **dict(rp.env)}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "direct-ok"


def test_registry_against_a_blob_datastore(ml_client: MLClient, azure_container: Any, tmp_path: Path) -> None:
    _upload(azure_container, "models/mlf/MLmodel", b"flavors: {}")
    _upload(azure_container, "models/mlf/model.pkl", b"pkl")
    ml_client.datastores.create_or_update(_key_datastore(azure_container))
    created = ml_client.models.create_or_update(Model(
        name="cloud", type="mlflow_model", path="azureml://datastores/myblobstore/paths/models/mlf"))
    assert created.path == "azureml://datastores/myblobstore/paths/models/mlf"  # referenced, not copied
    assert _blobs(azure_container) == ["models/mlf/MLmodel", "models/mlf/model.pkl"]
    with pytest.raises(Exception, match="no MLmodel file"):
        ml_client.models.create_or_update(Model(name="bad", type="mlflow_model",
                                                path="azureml://datastores/myblobstore/paths/models"))
    rp = ml_client.resolver.resolve("azureml:cloud@latest")
    assert rp.model == ("cloud", "1") and rp.kind is PathKind.FOLDER and rp.url.startswith("abfs://")
    target = ml_client.models.download("cloud", "1", download_path=tmp_path / "dl")
    assert (target / "model.pkl").read_bytes() == b"pkl"

    # a single file over the engine's multipart threshold: ranged parts, put together in place
    weights = os.urandom(20 * 1024 * 1024 + 7)
    _upload(azure_container, "models/big/w.bin", weights)
    ml_client.models.create_or_update(Model(name="bigfile", type="custom_model",
                                            path="azureml://datastores/myblobstore/paths/models/big/w.bin"))
    got = ml_client.models.download("bigfile", "1", download_path=tmp_path / "dl")
    assert got == tmp_path / "dl" / "bigfile" / "w.bin"
    assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(weights).digest()
    assert sorted(p.name for p in (tmp_path / "dl").rglob("*")) == sorted(
        ["bigfile", "w.bin", "cloud", "mlf", "MLmodel", "model.pkl"])  # no transfer state left behind


def test_default_datastore_on_blob_copies_local_models_there(ml_client: MLClient, azure_container: Any,
                                                              tmp_path: Path) -> None:
    ml_client.datastores.create_or_update(_conn_datastore(azure_container, "workspaceblobstore"))
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "MLmodel").write_text("x")
    (src / "sub" / "w.bin").write_bytes(b"w" * 100_000)
    first = ml_client.models.create_or_update(Model(name="local", type="mlflow_model", path=str(src)))
    second = ml_client.models.create_or_update(Model(name="local", type="mlflow_model", path=str(src)))
    assert (first.version, second.version) == ("1", "2")
    assert first.path == "azureml://datastores/workspaceblobstore/paths/LocalUpload/local/1/model"
    assert _blobs(azure_container) == [f"LocalUpload/local/{v}/model/{f}" for v in (1, 2)
                                       for f in ("MLmodel", "sub/w.bin")]


def test_job_output_on_blob_gives_lineage(ml_client: MLClient, azure_container: Any) -> None:
    _upload(azure_container, "out/job7/model/weights.bin", b"w")
    ml_client.datastores.create_or_update(_key_datastore(azure_container))
    ml_client.workspace.create_job(JobRecord(name="job7", status=JobStatus.COMPLETED, outputs={
        "model": "azureml://datastores/myblobstore/paths/out/job7/model"}))  # ended: a user may register
    created = ml_client.models.create_or_update(
        Model(name="from-job", path="azureml://jobs/job7/outputs/model/paths/weights.bin"))
    assert created.job_name == "job7"
    assert created.datastore_uri == "azureml://datastores/myblobstore/paths/out/job7/model/weights.bin"


def test_datastore_cli_redacts_secrets(workspace_dir: Path, azure_container: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runner.cli.main import app

    spec = tmp_path / "blob.yml"
    spec.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json\n"
        "name: myblobstore\ntype: azure_blob\n"
        f"account_name: {azure_container.azurite.account}\ncontainer_name: {azure_container.name}\n"
        f"account_url: {azure_container.azurite.blob_endpoint}\n"
        f"credentials:\n  account_key: {azure_container.azurite.key}\n")
    runner = CliRunner()
    for args in (["datastore", "create", "--file", str(spec)], ["datastore", "show", "--name", "myblobstore"],
                 ["datastore", "show", "--name", "myblobstore", "-o", "json"], ["datastore", "list"],
                 ["datastore", "list", "-o", "json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert azure_container.azurite.key not in result.output
    shown = json.loads(runner.invoke(app, ["datastore", "show", "-n", "myblobstore", "-o", "json"]).output)
    assert shown["credentials"] == {"account_key": "***"}
    secret_files = list((workspace_dir / "secrets").iterdir())
    assert secret_files and all(f.stat().st_mode & 0o077 == 0 for f in secret_files)
    assert azure_container.azurite.key.encode() not in (workspace_dir / "runner.db").read_bytes()
