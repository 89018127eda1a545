"""An Azure datastore saved with no credentials of its own is read by adlfs with the account
``AZURE_STORAGE_CONNECTION_STRING`` (or ``AZURE_STORAGE_ACCOUNT_NAME``) names: its place, as the download
cache key names it, is that account's endpoint, never its own ``account_name``'s, and never a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.store_identity import store_identity

KEY = "a2V5LW9uZQ=="  # base64, as an account key must be
SAS = "sv=2024&sp=rl&sig=c2VjcmV0"
ENV = ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME")


@pytest.fixture(autouse=True)
def _no_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def _identity(tmp_path: Path, **fields: Any) -> str:
    ds = datastore_from_dict({"name": "az", "type": "azure_blob", "container_name": "data", **fields})
    return store_identity(ds, tmp_path)


def test_a_credential_less_datastore_names_the_account_of_the_connection_string_in_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {"account_name": "devstoreaccount1", "account_url": "http://127.0.0.1:10000/devstoreaccount1"}
    assert _identity(tmp_path, **fields) == "http://127.0.0.1:10000/devstoreaccount1/data"  # nothing in force
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"DefaultEndpointsProtocol=http;AccountName=b;"
                       f"AccountKey={KEY};BlobEndpoint=http://127.0.0.1:10007/b;")
    one = _identity(tmp_path, **fields)
    assert one == "http://127.0.0.1:10007/b/data" and KEY not in one
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"AccountName=other;AccountKey={KEY};"
                       "EndpointSuffix=core.chinacloudapi.cn")
    assert _identity(tmp_path, account_name="acct") == "https://other.blob.core.chinacloudapi.cn/data"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert _identity(tmp_path, account_name="acct") == "http://127.0.0.1:10000/devstoreaccount1/data"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"BlobEndpoint=https://sas.example/;"
                       f"SharedAccessSignature={SAS}")
    with_sas = _identity(tmp_path, account_name="acct")
    assert with_sas == "https://sas.example/data" and "sig" not in with_sas


def test_a_datastore_with_its_own_key_sas_or_connection_string_keeps_its_own_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "BlobEndpoint=http://127.0.0.1:10007/b;")
    assert _identity(tmp_path, account_name="acct", credentials={"account_key": KEY}) == \
        "https://acct.blob.core.windows.net/data"
    assert _identity(tmp_path, account_name="acct", account_url="http://127.0.0.1:10000/acct",
                     credentials={"sas_token": SAS}) == "http://127.0.0.1:10000/acct/data"
    assert _identity(tmp_path, connection_string=f"AccountName=own;AccountKey={KEY}") == \
        "https://own.blob.core.windows.net/data"
    assert _identity(tmp_path, account_name="acct", credentials={  # its own service principal, too
        "client_id": "c", "tenant_id": "t", "client_secret": "s"}) == "https://acct.blob.core.windows.net/data"


def test_the_account_name_variable_names_the_account_of_one_saved_without(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "fromenv")
    assert _identity(tmp_path) == "https://fromenv.blob.core.windows.net/data"
    assert _identity(tmp_path, account_name="acct") == "https://acct.blob.core.windows.net/data"  # given wins
