"""Registering an existing version again with the same local content, when the default datastore is an
Azure Blob container (Azurite, real adlfs): the stored version is compared through the object store,
nothing is uploaded again, and other content is refused naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.model import Model

pytestmark = pytest.mark.azure


def _etags(azure_container: Any) -> dict[str, str]:
    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    client = service.get_container_client(azure_container.name)
    return {b.name: b.etag for b in client.list_blobs()}


def test_same_content_again_on_a_blob_datastore(workspace_dir: Path, azure_container: Any,
                                                tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    azurite = azure_container.azurite
    ml_client.datastores.create_or_update({
        "name": "workspaceblobstore", "type": "azure_blob", "account_name": azurite.account,
        "container_name": azure_container.name, "connection_string": azurite.connection_string})
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "MLmodel").write_text("x")
    (src / "sub" / "w.bin").write_bytes(b"w" * 100_000)
    model = Model(name="m", version="2", type="mlflow_model", path=str(src))
    ml_client.models.create_or_update(model)
    uploaded = _etags(azure_container)
    again = ml_client.models.create_or_update(Model(name="m", version="2", type="mlflow_model", path=str(src),
                                                    tags={"run": "2"}))
    assert again.tags == {"run": "2"} and _etags(azure_container) == uploaded  # nothing uploaded again
    (src / "sub" / "w.bin").write_bytes(b"w" * 99_999 + b"x")
    with pytest.raises(RegistryError) as info:
        ml_client.models.create_or_update(Model(name="m", version="2", type="mlflow_model", path=str(src)))
    assert "Asset paths cannot be updated" in info.value.message and "'sub/w.bin' holds other bytes" \
        in info.value.message
    (src / "sub" / "w.bin").unlink()
    with pytest.raises(RegistryError, match="the registered version has 'sub/w.bin', the new path does not"):
        ml_client.models.create_or_update(Model(name="m", version="2", type="mlflow_model", path=str(src)))
