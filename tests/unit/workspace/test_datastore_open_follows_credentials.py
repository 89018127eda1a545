"""A workspace's opened datastores in a long-lived process (the UI server, a notebook) follow the credentials
in force: a datastore saved again by another process with another connection string, and an Azure datastore
without credentials of its own (adlfs reads ``AZURE_STORAGE_*``) whose variables change, are opened anew;
while nothing changes the same filesystem is reused. Real adlfs filesystems are made; nothing is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import Workspace

KEY = "a2V5LW9uZQ=="  # base64, as an account key must be


def _account(name: str) -> str:
    return (f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={KEY};"
            "EndpointSuffix=core.windows.net")


def _endpoint(store: DatastoreStore, name: str) -> str:
    _, fs, _ = store.open(name)
    made = getattr(fs, "made", fs)  # a DeferredAzureFileSystem: the adlfs one it stands for
    return str(made.service_client.url)


def test_a_datastore_saved_again_by_another_process_is_opened_with_its_credentials(tmp_path: Path) -> None:
    def save(account: str) -> None:  # a store of its own: another process's
        DatastoreStore(Workspace(tmp_path / "ws")).save(datastore_from_dict(
            {"type": "azure_blob", "name": "remote", "account_name": account, "container_name": "data",
             "connection_string": _account(account)}))

    save("one")
    store = DatastoreStore(Workspace(tmp_path / "ws"))
    first = store.open("remote")[1]
    assert store.open("remote")[1] is first  # nothing changed: the same filesystem
    save("two")
    assert _endpoint(store, "remote") == "https://two.blob.core.windows.net/"


def test_an_azure_datastore_reading_the_environment_follows_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = DatastoreStore(Workspace(tmp_path / "ws"))
    store.save(datastore_from_dict({"type": "azure_blob", "name": "env", "account_name": "one",
                                    "container_name": "data"}))  # no credentials: adlfs reads the variables
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _account("one"))
    assert _endpoint(store, "env") == "https://one.blob.core.windows.net/"
    assert store.open("env")[1] is store.open("env")[1]
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _account("two"))
    assert _endpoint(store, "env") == "https://two.blob.core.windows.net/"
