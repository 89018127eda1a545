"""The lean Azure Blob client against Azurite: signing (Shared Key and SAS), paging, verification."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest

from mounts.stores.azure import (
    AzureBlobStore,
    AzureHTTPError,
    _account_from_connection_string,
    account_from_fs,
)
from mounts.stores.base import RemoteFile
from mounts.stores.open import open_store

pytestmark = pytest.mark.azure


def store_for(azure_container, **kwargs) -> AzureBlobStore:  # type: ignore[no-untyped-def]
    account = _account_from_connection_string(azure_container.azurite.connection_string)
    assert account is not None
    return AzureBlobStore(account, **kwargs)


def read_all(store: AzureBlobStore, item: RemoteFile) -> bytes:
    chunks: list[bytes] = []
    store.read_range(item, 0, None, lambda view: chunks.append(bytes(view)))
    return b"".join(chunks)


def test_adlfs_filesystem_selects_the_lean_client(azure_container) -> None:  # type: ignore[no-untyped-def]
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string=azure_container.azurite.connection_string)
    assert isinstance(open_store(fs), AzureBlobStore)
    account = account_from_fs(fs)
    assert account is not None and account.endpoint == azure_container.azurite.blob_endpoint
    assert azure_container.azurite.key not in repr(account) + repr(open_store(fs))  # secrets stay out


def test_write_list_page_and_read_back(azure_container) -> None:  # type: ignore[no-untyped-def]
    store = store_for(azure_container, list_page_size=3)
    names = [f"p/dir ü/{i}.bin" for i in range(7)] + ["p/empty", "other/x"]
    content = {name: os.urandom(1000 + i) if name != "p/empty" else b"" for i, name in enumerate(names)}
    for name, data in content.items():
        store.write_small(f"{azure_container.name}/{name}", data, hashlib.md5(data).digest())
    listed = store.list_files(f"{azure_container.name}/p")  # three pages of three
    assert sorted(f.rel for f in listed) == sorted(n[2:] for n in names if n.startswith("p/"))
    for item in listed:
        assert item.md5 == hashlib.md5(content["p/" + item.rel]).digest()
        assert read_all(store, item) == content["p/" + item.rel]
    part: list[bytes] = []
    store.read_range(listed[0], 10, 20, lambda view: part.append(bytes(view)))
    assert b"".join(part) == content["p/" + listed[0].rel][10:30]


def test_wrong_md5_is_rejected_by_the_service(azure_container) -> None:  # type: ignore[no-untyped-def]
    store = store_for(azure_container)
    with pytest.raises(AzureHTTPError) as info:
        store.write_small(f"{azure_container.name}/f", b"data", hashlib.md5(b"other").digest())
    assert info.value.status == 400
    with pytest.raises(FileNotFoundError):
        store.stat(f"{azure_container.name}/f")


def test_blob_replaced_mid_download_fails(azure_container) -> None:  # type: ignore[no-untyped-def]
    store = store_for(azure_container)
    path = f"{azure_container.name}/f"
    store.write_small(path, b"version one", None)
    listed = store.stat(path)
    store.write_small(path, b"version two!", None)
    with pytest.raises(AzureHTTPError, match="changed"):
        read_all(store, listed)


def test_sas_token_signs_requests(azure_container) -> None:  # type: ignore[no-untyped-def]
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    azurite = azure_container.azurite
    sas = generate_container_sas(azurite.account, azure_container.name, account_key=azurite.key,
                                 permission=ContainerSasPermissions(read=True, write=True, list=True),
                                 expiry=datetime.now(UTC) + timedelta(hours=1))
    account = _account_from_connection_string(
        f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}")
    assert account is not None and account.key is None
    store = AzureBlobStore(account)
    store.write_small(f"{azure_container.name}/s.txt", b"via sas", hashlib.md5(b"via sas").digest())
    [item] = store.list_files(f"{azure_container.name}/s.txt")
    assert read_all(store, item) == b"via sas"


def test_streamed_put_is_verified(azure_container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = store_for(azure_container)
    local = tmp_path / "medium.bin"
    data = os.urandom(3 * (1 << 20) + 11)
    local.write_bytes(data)
    store.put_file(f"{azure_container.name}/m/medium.bin", local, len(data))
    [item] = store.list_files(f"{azure_container.name}/m")
    assert item.size == len(data) and item.md5 == hashlib.md5(data).digest()
    assert read_all(store, item) == data
