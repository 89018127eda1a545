"""The download cache key of an Azure URL that matches no registered datastore names the storage account's
endpoint (``runner.workspace.store_identity.azure_place``): ``abfs://<container>/<p>`` and ``az://`` read
with the account adlfs takes from ``AZURE_STORAGE_*`` or from the URL, ``wasbs://`` with its own. Two
accounts holding ``<container>/<path>`` with the same etag never share an entry. Real adlfs filesystems
are made (nothing is contacted: their ``info`` answers one etag everywhere, and no endpoint is probed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.uris import parse_path
from runner.workspace import resolve
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

KEY = "a2V5LW9uZQ=="  # base64, as an account key must be
SECRET_SAS = "sv=2024-01-01&sig=SECRETSIG"


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from adlfs import AzureBlobFileSystem

    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    def info(self: Any, path: str, **kwargs: Any) -> dict[str, Any]:
        return {"name": path, "type": "file", "size": 3, "etag": '"0x8DC"'}

    monkeypatch.setattr(AzureBlobFileSystem, "info", info)
    monkeypatch.setattr(resolve, "unreachable", lambda fs: None)  # no endpoint probed
    ws = Workspace(tmp_path / "ws")

    def cache_key(url: str, connection: str | None = None, *, same_process: bool = False) -> str:
        for made in (AzureBlobFileSystem, RetryingAzureBlobFileSystem):  # made anew, as in a new process
            if not same_process:
                made.clear_instance_cache()
        if connection is None:
            monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
        else:
            monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
        found = Resolver(ws).resolve(parse_path(url), check=True).cache_key
        assert found is not None
        return found

    return cache_key


def _account(name: str) -> str:
    return (f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={KEY};"
            "EndpointSuffix=core.windows.net")


def test_an_abfs_url_of_no_datastore_is_keyed_with_the_account_it_is_read_from(key: Any) -> None:
    one, two = key("abfs://data/x.csv", _account("one")), key("abfs://data/x.csv", _account("two"))
    assert one == "https://one.blob.core.windows.net:abfs:data/x.csv:0x8DC"
    assert two == "https://two.blob.core.windows.net:abfs:data/x.csv:0x8DC"
    azurite = key("abfs://data/x.csv", f"BlobEndpoint=http://127.0.0.1:10000/one;SharedAccessSignature={SECRET_SAS}")
    assert azurite == "http://127.0.0.1:10000/one:abfs:data/x.csv:0x8DC"  # another endpoint; never the SAS


def test_a_long_lived_process_keys_an_abfs_url_with_the_account_in_force_now(key: Any) -> None:
    """One process whose AZURE_STORAGE_CONNECTION_STRING changes (the UI server, a notebook): each resolve
    names the account the variable names then; nothing is made again while it stays."""
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    RetryingAzureBlobFileSystem.clear_instance_cache()
    names = ("one", "two", "one")
    keys = [key("abfs://data/x.csv", _account(name), same_process=True) for name in names]
    assert keys == [f"https://{name}.blob.core.windows.net:abfs:data/x.csv:0x8DC" for name in names]
    assert len(RetryingAzureBlobFileSystem._cache) == 2  # one per account: made again only when it changed
    assert not any(KEY in k for k in keys)


def test_an_az_url_naming_its_account_is_keyed_with_the_account_it_is_read_from(key: Any) -> None:
    one = key("az://data@one.blob.core.windows.net/x.csv")
    two = key("az://data@two.blob.core.windows.net/x.csv")
    assert one.startswith("https://one.blob.core.windows.net:az:data/x.csv:"), one
    assert two.startswith("https://two.blob.core.windows.net:az:data/x.csv:"), two
    # adlfs reads AZURE_STORAGE_CONNECTION_STRING's account before the URL's: that one is named
    other = key("az://data@one.blob.core.windows.net/x.csv", _account("other"))
    assert other.startswith("https://other.blob.core.windows.net:az:data/x.csv:"), other


def test_a_wasbs_url_is_keyed_with_its_endpoint(key: Any) -> None:
    assert key("wasbs://data@one.blob.core.windows.net/x.csv") == "https://one.blob.core.windows.net/data/x.csv:0x8DC"
    assert key("wasbs://data@one.blob.core.chinacloudapi.cn/x.csv").startswith(
        "https://one.blob.core.chinacloudapi.cn/data/x.csv:")  # the same account name in another cloud
