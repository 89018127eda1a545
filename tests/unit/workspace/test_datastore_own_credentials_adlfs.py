"""An Azure datastore saved with a key or SAS of its own is read as its own account by both readers: the lean
client (``account_from_options``) and adlfs, which takes ``AZURE_STORAGE_CONNECTION_STRING`` (and the other
``AZURE_STORAGE_*``) over an ``account_key`` or ``sas_token`` it is given: the datastore hands adlfs a
connection string of its own, which no variable overrides. One with its own service principal signs with it
(``RetryingAzureBlobFileSystem`` drops what adlfs took from the variables). The filesystems are made (no
request is sent: adlfs contacts nothing as it is made) and the account their SDK client names is compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mounts.stores.azure_account import account_from_fs, account_from_options
from runner.workspace.azure_datastore import AzureDatastore
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.store_identity import store_identity

pytest.importorskip("adlfs")

KEY = "a2V5LW9uZQ=="  # base64, as an account key must be
OTHER_KEY = "b3RoZXIta2V5"
SAS = "sv=2024&sp=rl&sig=c2VjcmV0"
ENV_ACCOUNT = (f"DefaultEndpointsProtocol=http;AccountName=envacct;AccountKey={OTHER_KEY};"
               "BlobEndpoint=http://127.0.0.1:10007/envacct;")


def _datastore(**fields: Any) -> AzureDatastore:
    ds = datastore_from_dict({"name": "own", "type": "azure_blob", "container_name": "data", **fields})
    assert isinstance(ds, AzureDatastore)
    return ds


def _adlfs_url(ds: AzureDatastore) -> str:
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    fs = RetryingAzureBlobFileSystem(**ds.storage_options())
    return str(fs.service_client.url)


@pytest.mark.parametrize("credentials", [{"account_key": KEY}, {"sas_token": SAS}])
def test_adlfs_reads_the_datastores_own_account_whatever_the_environment_names(
        credentials: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", ENV_ACCOUNT)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "envacct")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", OTHER_KEY)
    ds = _datastore(account_name="acct", credentials=credentials)

    url = _adlfs_url(ds)
    assert url.startswith("https://acct.blob.core.windows.net"), url  # not 127.0.0.1:10007/envacct
    lean = account_from_options(ds.storage_options())
    assert lean is not None and lean.endpoint == "https://acct.blob.core.windows.net"
    assert store_identity(ds, tmp_path) == "https://acct.blob.core.windows.net/data"  # the cache key's place


@pytest.mark.parametrize("variable", ["AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_KEY",
                                      "AZURE_STORAGE_SAS_TOKEN"])
def test_adlfs_signs_with_the_datastores_own_service_principal(
        variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own client id and secret, as the Azure SDK's credential: no variable's key, SAS or account."""
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    monkeypatch.setenv(variable, {"AZURE_STORAGE_CONNECTION_STRING": ENV_ACCOUNT,
                                  "AZURE_STORAGE_ACCOUNT_KEY": OTHER_KEY}.get(variable, SAS))
    ds = _datastore(account_name="acct", credentials={"client_id": "cid", "tenant_id": "tid",
                                                      "client_secret": "sp-secret"})
    fs = RetryingAzureBlobFileSystem(**ds.storage_options())
    assert str(fs.service_client.url).startswith("https://acct.blob.core.windows.net"), fs.service_client.url
    assert type(fs.credential).__name__ == "ClientSecretCredential"
    assert (fs.connection_string, fs.account_key, fs.sas_token) == (None, None, None)
    assert account_from_fs(fs) is None  # an Azure AD credential: the SDK's, not the lean client's
    assert store_identity(ds, tmp_path) == "https://acct.blob.core.windows.net/data"


def test_the_lean_client_signs_as_adlfs_does_with_the_datastores_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account both readers sign as, key included (adlfs' filesystem read back by the lean client)."""
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", ENV_ACCOUNT)
    ds = _datastore(account_name="acct", credentials={"account_key": KEY})
    from_options = account_from_options(ds.storage_options())
    from_adlfs = account_from_fs(RetryingAzureBlobFileSystem(**ds.storage_options()))
    assert from_options is not None and from_adlfs is not None
    assert (from_adlfs.endpoint, from_adlfs.account, from_adlfs.key) == \
        (from_options.endpoint, "acct", b"key-one")


def test_a_datastore_without_credentials_still_reads_the_environments_account(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What adlfs is not given it reads from ``AZURE_STORAGE_*`` as before (``reads_environment``)."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", ENV_ACCOUNT)
    ds = _datastore(account_name="acct")
    assert "connection_string" not in ds.storage_options()
    assert _adlfs_url(ds).startswith("http://127.0.0.1:10007/envacct"), _adlfs_url(ds)
