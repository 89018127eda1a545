"""``DeferredAzureFileSystem`` against Azurite: ``info`` says what adlfs says, a read-only mount is made and
read through it without importing adlfs, and anything else is served by adlfs, made on first use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

from mounts.stores.azure_account import account_from_options
from mounts.stores.deferred import DeferredAzureFileSystem

pytestmark = pytest.mark.azure


def deferred(connection_string: str) -> DeferredAzureFileSystem:
    from adlfs import AzureBlobFileSystem

    account = account_from_options({"connection_string": connection_string})
    assert account is not None
    return DeferredAzureFileSystem(account, lambda: AzureBlobFileSystem(connection_string=connection_string))


def test_info_agrees_with_adlfs(azure_container) -> None:  # type: ignore[no-untyped-def]
    from adlfs import AzureBlobFileSystem

    conn, name = azure_container.azurite.connection_string, azure_container.name
    adlfs = AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
    adlfs.pipe({f"{name}/d/a.bin": b"abc", f"{name}/d/sub/b.bin": b"", f"{name}/top.txt": b"1234"})
    fs = deferred(conn)
    for path in (f"{name}/d/a.bin", f"{name}/top.txt", f"{name}/d", f"{name}/d/sub", name):
        ours, theirs = fs.info(path), adlfs.info(path)
        assert (ours["type"], ours["size"], ours["name"].rstrip("/")) == (
            theirs["type"], theirs["size"], theirs["name"].rstrip("/")), path
        if theirs["type"] == "file":
            assert ours["etag"].strip('"') == theirs["etag"].strip('"')
            assert ours["last_modified"] == theirs["last_modified"]
    for missing in (f"{name}/nope", f"{name}/d/a.bin/x", f"{name}-none/x"):
        with pytest.raises(FileNotFoundError):
            fs.info(missing)
    assert fs._fs is None  # all of that without adlfs
    assert sorted(fs.ls(f"{name}/d", detail=False)) == sorted(adlfs.ls(f"{name}/d", detail=False))
    assert fs._fs is not None  # ls: made, and served by adlfs


def test_info_of_a_large_folder_asks_for_one_entry(azure_container) -> None:  # type: ignore[no-untyped-def]
    """A folder's ``info`` (asked before every mount and download) lists one entry, not the folder:
    it once read every page, and a mount of 100,000 files then listed them all again."""
    from adlfs import AzureBlobFileSystem

    from mounts.stores.azure import AzureBlobStore

    conn, name = azure_container.azurite.connection_string, azure_container.name
    adlfs = AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
    adlfs.pipe({**{f"{name}/big/f{i:02d}": b"x" for i in range(12)}, f"{name}/marked/": b"",
                f"{name}/marked/x": b"1", f"{name}/only-marker/": b""})
    fs = deferred(conn)
    fs._store = store = AzureBlobStore(fs.account, list_page_size=5)
    lists: list[dict[str, str]] = []
    call = store._call

    def counting(method: str, path: str, query: dict[str, str], *args: Any, **kwargs: Any) -> Any:
        if query.get("comp") == "list":
            lists.append(query)
        return call(method, path, query, *args, **kwargs)

    store._call = counting  # type: ignore[method-assign]
    assert fs.info(f"{name}/big")["type"] == "directory"
    assert [q["maxresults"] for q in lists] == ["1"]  # one request: not the three pages of 5
    assert len(store.list_folder(f"{name}/big")) == 12 and len(lists) == 4  # a listing still pages
    # a folder whose only blob is its own marker exists (an empty folder), as adlfs says
    for folder in ("marked", "only-marker"):
        assert fs.info(f"{name}/{folder}")["type"] == adlfs.info(f"{name}/{folder}")["type"] == "directory"
    assert store.list_folder(f"{name}/only-marker") == {}
    with pytest.raises(FileNotFoundError):
        store.folder_exists(f"{name}-none/x")



def test_an_empty_folder_lists_no_files_and_a_missing_one_is_not_found(azure_container) -> None:  # type: ignore[no-untyped-def]
    """A folder that holds only marker blobs (``name/``, or ADLS' ``name`` with ``hdi_isfolder``) is an
    empty input for a download, as adlfs lists it (it was "not found" for the lean client)."""
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob import ContainerClient

    from mounts.stores.azure import AzureBlobStore

    conn, name = azure_container.azurite.connection_string, azure_container.name
    adlfs = AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
    adlfs.pipe({f"{name}/slash/": b""})
    container = ContainerClient.from_connection_string(conn, name)
    container.upload_blob("adls", b"", metadata={"hdi_isfolder": "true"})
    store = AzureBlobStore(deferred(conn).account)
    for folder in ("slash", "adls"):
        assert adlfs.find(f"{name}/{folder}") == [] and adlfs.info(f"{name}/{folder}")["type"] == "directory"
        assert store.list_files(f"{name}/{folder}") == [], folder
    for missing in ("nope", "slash/nope"):
        with pytest.raises(FileNotFoundError):
            store.list_files(f"{name}/{missing}")

MOUNT = """
import os, sys
from pathlib import Path
from mounts.base import Source
from mounts.ro_mount import RoMountStrategy
from mounts.stores.azure_account import account_from_options
from mounts.stores.deferred import DeferredAzureFileSystem

def make():
    raise AssertionError("adlfs was asked for")

conn, path, workdir = sys.argv[1:4]
fs = DeferredAzureFileSystem(account_from_options({"connection_string": conn}), make)
with RoMountStrategy().materialize(Source(fs=fs, path=path, url="abfs://" + path, is_dir=True),
                                   Path(workdir)) as mounted:
    root = mounted.host_path
    print(sorted(os.listdir(root)), (root / "a.bin").read_bytes().decode(),
          (root / "sub" / "c.txt").read_text())
heavy = [m for m in sys.modules if m.split(".")[0] in ("adlfs", "azure", "fsspec")]
assert not heavy, heavy
"""


@pytest.mark.fuse
def test_a_read_only_mount_through_it_never_imports_adlfs(azure_container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from adlfs import AzureBlobFileSystem

    conn, name = azure_container.azurite.connection_string, azure_container.name
    AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True).pipe(
        {f"{name}/in/a.bin": b"abc", f"{name}/in/sub/c.txt": b"deep"})
    result = subprocess.run([sys.executable, "-c", MOUNT, conn, f"{name}/in", str(tmp_path / "work")],
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["['a.bin',", "'sub']", "abc", "deep"]
