"""Every adlfs client the resolver gets for an Azure URL gives up on a connection that cannot be made after
``SDK_CONNECT_RETRIES`` quick retries (``mounts.retry.configure_sdk_retries``): one fsspec makes for an
abfs:// URL or a chain's Azure link (an archive over Azure is read as fsspec makes it, before anyone else
could configure it), and the anonymous one of a storage URL no datastore holds. A bad
``RUNNER_RETRY_TOTAL_S`` is one clear error before fsspec opens anything.

Nothing is contacted: making these filesystems sends no request, and the endpoints are 127.0.0.1 ports
nothing listens on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fsspec.registry import _registry, known_implementations

from mounts.retry import RETRY_TOTAL_ENV, SDK_CONNECT_RETRIES
from mounts.stores.azure_urls import AZURE_PROTOCOLS
from runner.errors import StorageError
from runner.uris import StorageUrl
from runner.workspace.fsspec_reads import open_fsspec_url
from runner.workspace.storage_urls import public_filesystem

_KEY = "a2V5LW5vdC11c2VkLWJ5LWFueS1zZXJ2aWNlLWluLXRoZXNlLXRlc3Rz"  # base64, never sent anywhere


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _connect_retries(fs: Any) -> int:
    return int(fs.service_client._config.retry_policy.connect_retries)


@pytest.fixture
def azure_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """adlfs' connection from the environment (an abfs:// URL names no account), and fsspec's registry for
    the Azure protocols and its filesystems made here as they were, afterwards."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_KEY};"
                       f"BlobEndpoint=http://127.0.0.1:{_closed_port()}/devstoreaccount1;")
    monkeypatch.delenv(RETRY_TOTAL_ENV, raising=False)
    for protocol in AZURE_PROTOCOLS:
        monkeypatch.delitem(_registry, protocol, raising=False)
        monkeypatch.setitem(known_implementations, protocol, dict(known_implementations[protocol]))
    yield
    from adlfs import AzureBlobFileSystem

    AzureBlobFileSystem.clear_instance_cache()
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    RetryingAzureBlobFileSystem.clear_instance_cache()


@pytest.mark.usefixtures("azure_env")
@pytest.mark.parametrize("url", ["abfs://c/a.txt", "az://c/a.txt", "abfss://c/a.txt"])
def test_an_azure_url_is_opened_with_few_connect_retries(url: str) -> None:
    fs, path = open_fsspec_url(url, field="inputs.a.path")
    assert path == "c/a.txt" and _connect_retries(fs) == SDK_CONNECT_RETRIES


@pytest.mark.usefixtures("azure_env")
def test_a_chain_over_azure_is_made_with_few_connect_retries() -> None:
    fs, _ = open_fsspec_url("simplecache::abfs://c/a.txt", field="inputs.a.path")
    assert _connect_retries(fs.fs) == SDK_CONNECT_RETRIES  # the cache's own filesystem, made by fsspec


@pytest.mark.usefixtures("azure_env")
def test_a_storage_url_read_anonymously_has_few_connect_retries() -> None:
    port = _closed_port()
    url = StorageUrl(account="acct", container="c", path="a.txt", endpoint=f"http://127.0.0.1:{port}/acct",
                     written=f"http://127.0.0.1:{port}/acct/c/a.txt")
    fs, path, _env = public_filesystem(url)
    assert path == "c/a.txt" and _connect_retries(fs) == SDK_CONNECT_RETRIES


@pytest.mark.usefixtures("azure_env")
def test_a_bad_retry_setting_is_one_clear_error_before_an_azure_url_is_opened(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RETRY_TOTAL_ENV, "soon")
    with pytest.raises(StorageError) as info:
        open_fsspec_url("zip://a.txt::abfs://c/d.zip", field="inputs.a.path")
    assert f"{RETRY_TOTAL_ENV}='soon' is not a number of seconds" in info.value.message
    assert info.value.hint == "unset it or give a number of seconds"


@pytest.mark.usefixtures("azure_env")
@pytest.mark.parametrize("protocol", AZURE_PROTOCOLS)
def test_a_cache_datastore_naming_azure_only_in_its_options_has_few_connect_retries(
        tmp_path: Any, protocol: str) -> None:
    """``simplecache://c/d`` with ``target_protocol: abfs``: the URL names no Azure link, the options do;
    the filesystem the cache reads through is made with the same retries as a plain Azure one."""
    from runner.workspace.datastore_kinds import datastore_from_dict

    options = {"target_protocol": protocol, "target_options": {}}  # the account from the environment
    ds = datastore_from_dict({"type": "fsspec", "name": "cached", "url": "simplecache://c/d",
                              "storage_options": options})
    fs, root = ds.open(tmp_path)
    assert root == "c/d" and _connect_retries(fs.fs) == SDK_CONNECT_RETRIES
    assert options == {"target_protocol": protocol, "target_options": {}}  # the datastore's own: as written
