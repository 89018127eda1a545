"""The download cache key of a file on a datastore names where the datastore's files are (its endpoint and
container, its fsspec URL and options, its folder), not its name alone: a datastore registered again
elsewhere under the same name, holding a file of the same path, modification time and size, gets another
key, so the cache never hands a job the old place's content. The key never names a secret. A local
datastore is real (two folders in tmp_path); an Azure one answers ``info`` through a stand-in filesystem
(no etag, as an ftp server's answer: mtime and size only) and contacts nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fsspec import AbstractFileSystem

from runner.uris import parse_path
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.store_identity import store_identity

KEY = "a2V5LW9uZQ=="  # base64, as an account key must be
OTHER_KEY = "a2V5LXR3bw=="
URI = "azureml://datastores/az/paths/data/x.csv"


class _StandIn(AbstractFileSystem):
    """Answers ``info`` with the same mtime and size wherever it is asked; connects to nothing."""

    protocol = ("abfs",)

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return {"name": path, "type": "file", "size": 11, "mtime": 1700000000.0}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _azure(**fields: Any) -> Any:
    return datastore_from_dict({"name": "az", "type": "azure_blob", "container_name": "data", **fields})


def _key(ws: Workspace, monkeypatch: pytest.MonkeyPatch, uri: str = URI) -> str:
    def opened(store: DatastoreStore, name: str) -> tuple[Any, AbstractFileSystem, str]:
        return store.get(name), _StandIn(), "data"

    monkeypatch.setattr(DatastoreStore, "open", opened)
    key = Resolver(ws).resolve(parse_path(uri), check=True).cache_key
    assert key is not None
    return key


def test_an_azure_datastore_registered_again_elsewhere_gets_another_key(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DatastoreStore(ws)
    store.save(_azure(account_name="acct", account_url="http://127.0.0.1:10000/acct",
                      credentials={"account_key": KEY}))
    first = _key(ws, monkeypatch)
    assert first == "az@http://127.0.0.1:10000/acct/data:data/x.csv:1700000000.0:11"
    store.save(_azure(account_name="acct", account_url="http://127.0.0.1:10001/acct",
                      credentials={"account_key": KEY}))
    assert _key(ws, monkeypatch) == "az@http://127.0.0.1:10001/acct/data:data/x.csv:1700000000.0:11"
    store.save(_azure(account_name="other", credentials={"account_key": KEY}))  # another account on Azure
    assert _key(ws, monkeypatch).startswith("az@https://other.blob.core.windows.net/data:data/x.csv:")
    store.save(_azure(account_name="acct", account_url="http://127.0.0.1:10000/acct",
                      credentials={"account_key": OTHER_KEY}))  # another key, the same place: its files
    assert _key(ws, monkeypatch) == first
    abfs = _key(ws, monkeypatch, "abfs://data/x.csv")  # an abfs URL read with the datastore's credentials
    assert abfs.startswith("az@http://127.0.0.1:10000/acct/data:") and abfs.endswith(":1700000000.0:11")


def test_no_secret_is_in_a_key(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DatastoreStore(ws)
    conn = (f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={KEY};"
            "BlobEndpoint=http://127.0.0.1:10002/acct;")
    store.save(_azure(connection_string=conn))
    key = _key(ws, monkeypatch)
    assert key.startswith("az@http://127.0.0.1:10002/acct/data:") and KEY not in key
    store.save(_azure(account_name="acct", account_url="http://127.0.0.1:10000/acct",
                      credentials={"sas_token": "sv=2024&sp=rl&sig=c2VjcmV0"}))
    assert "sig" not in _key(ws, monkeypatch)


def test_a_local_datastore_pointed_at_another_folder_gets_another_key(ws: Workspace, tmp_path: Path) -> None:
    store = DatastoreStore(ws)
    for folder, text in (("one", b"first  "), ("two", b"second ")):  # the same size and mtime
        (tmp_path / folder / "d").mkdir(parents=True)
        (tmp_path / folder / "d" / "x.bin").write_bytes(text)
        os.utime(tmp_path / folder / "d" / "x.bin", (1700000000, 1700000000))
    keys = []
    for folder in ("one", "two", "one"):
        store.save(datastore_from_dict({"name": "loc", "type": "local", "path": str(tmp_path / folder)}))
        keys.append(Resolver(ws).resolve("azureml://datastores/loc/paths/d/x.bin").cache_key)
    assert keys[0] == f"loc@file://{(tmp_path / 'one').resolve()}:d/x.bin:1700000000.0:7"
    assert keys[1] == f"loc@file://{(tmp_path / 'two').resolve()}:d/x.bin:1700000000.0:7"
    assert keys[2] == keys[0]  # back at the first folder: its entries are found again


def test_an_fsspec_datastores_place_is_its_url_and_its_options_never_their_secrets(tmp_path: Path) -> None:
    def identity(url: str, **options: Any) -> str:
        ds = datastore_from_dict({"name": "s3", "type": "fsspec", "url": url, "storage_options": options})
        return store_identity(ds, tmp_path)

    plain = identity("s3://bucket/base")
    assert plain == "s3://bucket/base"
    minio = identity("s3://bucket/base", client_kwargs={"endpoint_url": "http://127.0.0.1:9000"}, secret="s1")
    other = identity("s3://bucket/base", client_kwargs={"endpoint_url": "http://127.0.0.1:9001"}, secret="s1")
    assert minio.startswith("s3://bucket/base#") and minio != other  # another endpoint: another place
    assert identity("s3://bucket/base", client_kwargs={"endpoint_url": "http://127.0.0.1:9000"},
                    secret="s2") == minio  # another secret to the same place: the same files
    assert "s1" not in minio and "9000" not in minio  # the options only as a digest of their masked copy
    assert identity("ftp://me@198.51.100.1/data") == "ftp://me@198.51.100.1/data"
    one, two = identity("ftp:///data", host="198.51.100.1", password="pw"), \
        identity("ftp:///data", host="203.0.113.2", password="pw")  # the host in the options: digested
    assert one != two and "pw" not in one and one.startswith("ftp:///data#")
    assert identity(f"file://{tmp_path}") == f"file://{tmp_path.resolve()}"  # a folder here
