"""A long-lived process (the UI server, a notebook on the Python API) that changes the credentials adlfs
reads reads the account they name from then on: an ``abfs://`` URL of no datastore read with
``AZURE_STORAGE_CONNECTION_STRING``, and a datastore saved again by another process with another
connection string. Two Azurites stand for two accounts (the shared one and one of this test: the same
container name in both, with different contents); nothing clears fsspec's instance cache in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from runner.uris import parse_path
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

pytestmark = pytest.mark.azure


def _put(connection: str, container: str, data: bytes, *, create: bool) -> None:
    service = BlobServiceClient.from_connection_string(connection)
    if create:
        service.create_container(container)
    service.get_blob_client(container, "d/x.csv").upload_blob(data, overwrite=True)


def _read(resolver: Resolver, url: str) -> tuple[bytes, str]:
    resolved = resolver.resolve(parse_path(url), check=True)
    assert resolved.fs is not None and resolved.cache_key is not None
    with resolved.fs.open(resolved.path, "rb") as handle:
        return handle.read(), resolved.cache_key


def test_an_abfs_url_follows_the_connection_string_in_force(
        tmp_path: Path, azure_container: Any, private_azurite: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shared, container = azure_container.azurite, azure_container.name
    _put(shared.connection_string, container, b"first account\n", create=False)
    _put(private_azurite.connection_string, container, b"second account\n", create=True)
    resolver = Resolver(Workspace(tmp_path / "ws"))  # one resolver, as a long-lived process keeps
    url = f"abfs://{container}/d/x.csv"

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", shared.connection_string)
    first, first_key = _read(resolver, url)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", private_azurite.connection_string)
    second, second_key = _read(resolver, url)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", shared.connection_string)
    again, again_key = _read(resolver, url)

    assert (first, second, again) == (b"first account\n", b"second account\n", b"first account\n")
    assert first_key.startswith(f"{shared.blob_endpoint}:abfs:{container}/d/x.csv:"), first_key
    second_endpoint = f"http://127.0.0.1:{private_azurite.port}/devstoreaccount1"
    assert second_key.startswith(f"{second_endpoint}:abfs:{container}/d/x.csv:"), second_key
    assert again_key == first_key
    for key in (first_key, second_key):
        assert shared.key not in key and "AccountKey" not in key  # an endpoint, never a credential


def test_a_datastore_saved_again_elsewhere_is_read_with_its_new_credentials(
        tmp_path: Path, azure_container: Any, private_azurite: Any) -> None:
    shared, container = azure_container.azurite, azure_container.name
    _put(shared.connection_string, container, b"first account\n", create=False)
    _put(private_azurite.connection_string, container, b"second account\n", create=True)
    root = tmp_path / "ws"

    def save(connection: str) -> None:  # as `runner datastore create` in another process does
        DatastoreStore(Workspace(root)).save(datastore_from_dict(
            {"type": "azure_blob", "name": "remote", "account_name": "devstoreaccount1",
             "container_name": container, "connection_string": connection}))

    save(shared.connection_string)
    resolver = Resolver(Workspace(root))
    first, first_key = _read(resolver, "azureml://datastores/remote/paths/d/x.csv")
    save(private_azurite.connection_string)
    second, second_key = _read(resolver, "azureml://datastores/remote/paths/d/x.csv")
    assert (first, second) == (b"first account\n", b"second account\n")
    assert first_key != second_key and f"127.0.0.1:{private_azurite.port}" in second_key


def test_a_credential_less_datastore_is_cached_as_the_account_the_environment_names(
        tmp_path: Path, azure_container: Any, private_azurite: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved with no connection string, key or SAS, adlfs reads it with the account
    ``AZURE_STORAGE_CONNECTION_STRING`` names, whatever its own ``account_url`` says: a download through the
    content cache under env A then env B gets B's bytes, under a key naming B's endpoint (never a key)."""
    from mounts.base import Source
    from mounts.cache import ContentCache
    from mounts.download import DownloadStrategy

    shared, container = azure_container.azurite, azure_container.name
    _put(shared.connection_string, container, b"first account\n", create=False)
    _put(private_azurite.connection_string, container, b"second account\n", create=True)
    root = tmp_path / "ws"
    DatastoreStore(Workspace(root)).save(datastore_from_dict(
        {"type": "azure_blob", "name": "bare", "account_name": "devstoreaccount1",
         "account_url": shared.blob_endpoint, "container_name": container}))
    resolver = Resolver(Workspace(root))
    strategy = DownloadStrategy(ContentCache(tmp_path / "cache"), quiet=True)

    def download(connection: str) -> tuple[bytes, str]:
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
        resolved = resolver.resolve(parse_path("azureml://datastores/bare/paths/d/x.csv"), check=True)
        assert resolved.fs is not None and resolved.cache_key is not None
        source = Source(fs=resolved.fs, path=resolved.path, url=resolved.url, is_dir=False,
                        cache_key=resolved.cache_key)
        with strategy.materialize(source, tmp_path / "job") as done:
            assert done.host_path is not None
            return (done.host_path / "x.csv").read_bytes(), resolved.cache_key

    first, first_key = download(shared.connection_string)
    second, second_key = download(private_azurite.connection_string)
    assert (first, second) == (b"first account\n", b"second account\n")
    assert first_key.startswith(f"bare@{shared.blob_endpoint}/{container}:d/x.csv:"), first_key
    second_endpoint = f"http://127.0.0.1:{private_azurite.port}/devstoreaccount1"
    assert second_key.startswith(f"bare@{second_endpoint}/{container}:d/x.csv:"), second_key
    for key in (first_key, second_key):
        assert shared.key not in key and "AccountKey" not in key  # an endpoint, never a credential
