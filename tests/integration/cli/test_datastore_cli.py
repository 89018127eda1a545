"""`runner datastore ...` with local and fsspec datastores, and the YAML errors a user meets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import RunnerError


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    return result.exit_code, result.output


def test_local_datastore_lifecycle(workspace_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "store" / "models").mkdir(parents=True)
    (tmp_path / "store" / "models" / "cifar.pt").write_bytes(b"c")
    spec = tmp_path / "local.yml"
    spec.write_text("name: localstore\ntype: local\npath: store\ndescription: a folder\n")
    code, out = cli("datastore", "create", "--file", str(spec))
    assert code == 0 and json.loads(out)["path"] == str(tmp_path / "store")  # relative to the YAML
    code, out = cli("datastore", "list", "-o", "json")
    assert [d["name"] for d in json.loads(out)] == ["localstore", "workspaceblobstore"]
    code, out = cli("datastore", "list")
    assert code == 0 and "localstore" in out and "local" in out
    code, out = cli("model", "create", "--name", "m", "--path",
                    "azureml://datastores/localstore/paths/models/cifar.pt")
    assert code == 0 and json.loads(out)["path"] == "azureml://datastores/localstore/paths/models/cifar.pt"
    code, out = cli("datastore", "delete", "--name", "localstore")
    assert code == 0 and (tmp_path / "store" / "models" / "cifar.pt").exists()
    code, out = cli("datastore", "show", "--name", "localstore")
    assert code != 0 and "unknown datastore 'localstore'" in out and "workspaceblobstore" in out
    code, out = cli("datastore", "delete", "--name", "workspaceblobstore")
    assert code != 0 and "cannot be deleted" in out


def test_fsspec_datastore_redacts_storage_option_secrets(workspace_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "mem.yml"
    spec.write_text("name: mem\ntype: fsspec\nurl: memory://dscli\nstorage_options:\n"
                    "  skip_instance_cache: true\n  secret_token: s3cr3t\n")
    code, out = cli("datastore", "create", "-f", str(spec))
    assert code == 0 and "s3cr3t" not in out
    code, out = cli("datastore", "show", "-n", "mem", "-o", "json")
    assert json.loads(out)["storage_options"] == {"skip_instance_cache": True, "secret_token": "***"}


def test_datastore_yaml_errors_point_at_the_line(workspace_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yml"
    spec.write_text("name: x\ntype: azure_blob\naccount_name: a\ncontainer: c\n")
    code, out = cli("datastore", "create", "-f", str(spec))
    assert code != 0 and f"{spec}:4:1" in out and "unknown field 'container'" in out
    spec.write_text("name: x\ntype: gcs\n")
    code, out = cli("datastore", "create", "-f", str(spec))
    assert code != 0 and "type" in out and "azure_blob" in out and "local" in out


def test_azure_datastore_without_a_container_is_refused_at_creation(workspace_dir: Path,
                                                                    tmp_path: Path) -> None:
    """Saved, it broke every later job submission; Azure's AzureBlobDatastore requires container_name
    (ADLS Gen2: filesystem)."""
    from runner import MLClient
    from runner.errors import SpecError

    spec = tmp_path / "az2.yml"
    spec.write_text("name: az2\ntype: azure_blob\naccount_name: devstoreaccount1\n")
    code, out = cli("datastore", "create", "--file", str(spec))
    assert code != 0 and "container_name" in out and "az2" in out and "hint:" in out
    ml_client = MLClient(workspace_dir=workspace_dir)
    with pytest.raises(SpecError) as raised:
        ml_client.datastores.create_or_update({"name": "az2", "type": "azure_blob",
                                               "account_name": "devstoreaccount1"})
    assert raised.value.field == "container_name"
    with pytest.raises(SpecError) as raised:
        ml_client.datastores.create_or_update({"name": "lake", "type": "azure_data_lake_gen2",
                                               "account_name": "devstoreaccount1"})
    assert raised.value.field == "filesystem"
    assert [d.name for d in ml_client.datastores.list()] == ["workspaceblobstore"]
    saved = ml_client.datastores.create_or_update({"name": "az3", "type": "azure_blob",
                                                   "account_name": "devstoreaccount1",
                                                   "container_name": "data"})
    assert saved.container == "data"


@pytest.mark.parametrize("yaml_text", [
    "name: az3\ntype: azure_blob\naccount_name: devstoreaccount1\ncontainer_name: c\n"
    "account_url: http://127.0.0.1:10000/devstoreaccount1?sv=2023-01-01&sig=SECRETSIGNATURE0000\n",
    "name: fs3\ntype: fsspec\nurl: https://example.invalid/data?X-Amz-Signature=SECRETSIGNATURE0000\n",
])
def test_a_datastore_url_with_a_query_is_refused_and_never_shown(workspace_dir: Path, tmp_path: Path,
                                                                 yaml_text: str) -> None:
    """A datastore's URL is configuration (shown by `datastore show`), not a secret: a SAS token or a
    signature in its query would be shown and stored in the clear."""
    spec = tmp_path / "ds.yml"
    spec.write_text(yaml_text)
    code, out = cli("datastore", "create", "--file", str(spec))
    assert code != 0 and "query string" in out and "sas_token" in out, out
    assert "SECRETSIGNATURE" not in out
    assert not any("SECRETSIGNATURE" in p.read_text(errors="replace")
                   for p in workspace_dir.rglob("*") if p.is_file())
