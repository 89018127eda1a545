"""A datastore saved with its own account key is read and written as that account on every path, whatever
``AZURE_STORAGE_CONNECTION_STRING`` names: download, ro_mount, a rw_mount's listing and its writes, upload,
and adlfs' own filesystem (what ``DeferredAzureFileSystem`` makes for anything the lean client does not
do). Two Azurites stand for two accounts: the shared one (A, named by the variable) and one of this test
(B, the datastore's), the same container and paths in both, with different contents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from mounts.base import Source, Target
from mounts.download import DownloadStrategy
from mounts.ro_mount import RoMountStrategy
from mounts.rw_mount import RwMountStrategy
from mounts.upload import UploadStrategy
from runner.uris import parse_path
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath

pytestmark = [pytest.mark.azure, pytest.mark.fuse]


def _service(connection: str) -> Any:
    return BlobServiceClient.from_connection_string(connection)


def _names(connection: str, container: str, prefix: str) -> set[str]:
    return {blob.name for blob in _service(connection).get_container_client(container)
            .list_blobs(name_starts_with=prefix)}


@pytest.fixture
def two_accounts(tmp_path: Path, azure_container: Any, private_azurite: Any,
                 monkeypatch: pytest.MonkeyPatch) -> tuple[Resolver, str, str, str]:
    """A resolver whose datastore ``own`` names account B with B's key, while the variable names A."""
    a, container = azure_container.azurite.connection_string, azure_container.name
    b = private_azurite.connection_string
    shared = azure_container.azurite  # B is Azurite's account on another port: the same name and key
    _service(b).create_container(container)
    for connection, text in ((a, b"account A\n"), (b, b"account B\n")):
        client = _service(connection).get_container_client(container)
        client.upload_blob("d/x.csv", text, overwrite=True)
        client.upload_blob(f"out/{text.decode().strip()[-1]}-only.txt", text, overwrite=True)
    DatastoreStore(Workspace(tmp_path / "ws")).save(datastore_from_dict(
        {"type": "azure_blob", "name": "own", "account_name": shared.account,
         "account_url": f"http://127.0.0.1:{private_azurite.port}/{shared.account}",
         "container_name": container, "credentials": {"account_key": shared.key}}))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", a)
    return Resolver(Workspace(tmp_path / "ws")), a, b, container


def _resolved(resolver: Resolver, path: str, *, check: bool = True) -> ResolvedPath:
    resolved = resolver.resolve(parse_path(f"azureml://datastores/own/paths/{path}"), check=check)
    assert resolved.fs is not None
    return resolved


def test_reads_go_to_the_datastores_own_account(two_accounts: tuple[Resolver, str, str, str],
                                                fuse_available: bool, tmp_path: Path) -> None:
    resolver, _, _, _ = two_accounts
    file, folder = _resolved(resolver, "d/x.csv"), _resolved(resolver, "d")
    source = Source(fs=file.fs, path=file.path, url=file.url, is_dir=False, cache_key=file.cache_key)
    with DownloadStrategy(quiet=True).materialize(source, tmp_path / "down") as done:
        assert (Path(done.host_path or "") / "x.csv").read_bytes() == b"account B\n"
    mounted = Source(fs=folder.fs, path=folder.path, url=folder.url, is_dir=True)
    with RoMountStrategy().materialize(mounted, tmp_path / "ro") as done:
        assert (Path(done.host_path or "") / "x.csv").read_bytes() == b"account B\n"
    adlfs = getattr(file.fs, "made", file.fs)  # adlfs' own filesystem, as any fallback makes it
    assert adlfs.cat_file(file.path) == b"account B\n"
    assert [Path(p).name for p in adlfs.ls(folder.path.rsplit("/", 1)[0] + "/out", detail=False)] == \
        ["B-only.txt"]


def test_writes_go_to_the_datastores_own_account(two_accounts: tuple[Resolver, str, str, str],
                                                 fuse_available: bool, tmp_path: Path) -> None:
    resolver, a, b, container = two_accounts
    out = _resolved(resolver, "out", check=False)
    target = Target(fs=out.fs, path=out.path, url=out.url)
    with RwMountStrategy().materialize(target, tmp_path / "rw") as done:
        root = Path(done.host_path or "")
        assert sorted(p.name for p in root.iterdir()) == ["B-only.txt"]  # B's listing, not A's
        (root / "written.txt").write_bytes(b"through the mount\n")
    up = _resolved(resolver, "up", check=False)
    upload = UploadStrategy(quiet=True)
    with upload.materialize(Target(fs=up.fs, path=up.path, url=up.url), tmp_path / "up") as done:
        (Path(done.host_path or "") / "sent.txt").write_bytes(b"uploaded\n")
    assert _names(b, container, "out/") == {"out/B-only.txt", "out/written.txt"}
    assert _names(b, container, "up/") == {"up/sent.txt"}
    assert _names(a, container, "out/") == {"out/A-only.txt"} and _names(a, container, "up/") == set()
