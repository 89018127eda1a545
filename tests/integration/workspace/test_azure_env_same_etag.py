"""The download cache serves the bytes of the account the environment names even when the two accounts' blobs
carry the same etag (and size and modification time): what keeps them apart is the account's endpoint in the
cache key, not the etag Azurite happens to give each upload. Two Azurites of this test stand for two
accounts; the second one's metadata is edited while it is stopped (its blob index is Azurite's LokiJS JSON)
so that its blob's etag and times are the first one's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from private_azurite import PrivateAzurite

from mounts.base import Source
from mounts.cache import ContentCache
from mounts.download import DownloadStrategy
from runner.uris import parse_path
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

pytestmark = pytest.mark.azure
CONTAINER, BLOB = "data", "d/x.csv"
COPIED = ("etag", "lastModified", "creationTime")  # what a cache key could be made of, bar the bytes


def _put(server: PrivateAzurite, data: bytes) -> Any:
    service = BlobServiceClient.from_connection_string(server.connection_string)
    service.create_container(CONTAINER)
    blob = service.get_blob_client(CONTAINER, BLOB)
    blob.upload_blob(data)
    return blob.get_blob_properties()


def _same_etag_as(server: PrivateAzurite, source: PrivateAzurite) -> None:
    """``server``'s blob given ``source``'s etag and times, both stopped meanwhile (SIGTERM: saved)."""
    source.stop()
    server.stop()
    records = {}
    for place in (source, server):
        path = place.location / "__azurite_db_blob__.json"
        db = json.loads(path.read_text())
        blobs = next(c for c in db["collections"] if c["name"] == "$BLOBS_COLLECTION$")
        records[place] = (path, db, next(b for b in blobs["data"] if b["name"] == BLOB))
    path, db, record = records[server]
    record["properties"].update({name: records[source][2]["properties"][name] for name in COPIED})
    path.write_text(json.dumps(db))
    source.start()
    server.start()


def test_same_etag_other_account_is_not_served_from_the_cache(
        tmp_path: Path, private_azurite: PrivateAzurite, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = private_azurite, PrivateAzurite(tmp_path / "second")
    second.start()
    try:
        _put(first, b"account A\n")
        _put(second, b"account B\n")  # the same size
        _same_etag_as(second, first)
        props = [BlobServiceClient.from_connection_string(s.connection_string)
                 .get_blob_client(CONTAINER, BLOB).get_blob_properties() for s in (first, second)]
        assert props[0].etag == props[1].etag and props[0].size == props[1].size  # the collision is real
        assert props[0].last_modified == props[1].last_modified

        root = tmp_path / "ws"
        DatastoreStore(Workspace(root)).save(datastore_from_dict(  # no credentials: the variable's account
            {"type": "azure_blob", "name": "bare", "account_name": "devstoreaccount1",
             "account_url": f"http://127.0.0.1:{first.port}/devstoreaccount1", "container_name": CONTAINER}))
        resolver = Resolver(Workspace(root))
        strategy = DownloadStrategy(ContentCache(tmp_path / "cache"), quiet=True)

        def download(server: PrivateAzurite, job: str) -> bytes:
            monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", server.connection_string)
            resolved = resolver.resolve(parse_path(f"azureml://datastores/bare/paths/{BLOB}"), check=True)
            assert resolved.fs is not None and resolved.cache_key is not None
            source = Source(fs=resolved.fs, path=resolved.path, url=resolved.url, is_dir=False,
                            cache_key=resolved.cache_key)
            with strategy.materialize(source, tmp_path / job) as done:
                assert done.host_path is not None
                return (done.host_path / "x.csv").read_bytes()

        assert download(first, "one") == b"account A\n"
        assert download(second, "two") == b"account B\n"  # not A's cached copy, same etag though
        assert download(first, "three") == b"account A\n"
    finally:
        second.stop()
