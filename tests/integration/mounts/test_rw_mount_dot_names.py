"""A read-write mount of an Azure folder (Azurite, adlfs, a real FUSE mount) whose stored names have a
``..``, ``.`` or empty segment (Azure keeps ``..\\y.txt`` as ``../y.txt`` and ``a\\\\b.txt`` as
``a//b.txt``): as a read-only mount, no folder lists a second ``..`` or ``.`` or a nameless entry, ``..``
still leads to the parent, the other files read as stored, and one warning says what was hidden. And
nothing written through the mount makes such a name or leaves the output's folder: a file, a folder or a
rename whose name Azure would store with such a segment (a backslash is a folder separator there) fails,
and nothing of it is stored. Everything in the test's container and tmp_path."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from test_ro_mount_dot_names import STORED, _raw_listing

from mounts.base import Target
from mounts.rw_mount import RwMountStrategy

pytestmark = [pytest.mark.fuse, pytest.mark.azure]


def _stored(container: Any) -> set[str]:
    return {blob.name for blob in container.list_blobs()}


def test_names_with_dot_segments_are_left_out_of_an_rw_mount_listing_with_one_warning(
        fuse_available: bool, azure_container: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob import ContainerClient

    connection = azure_container.azurite.connection_string
    container = ContainerClient.from_connection_string(connection, azure_container.name)
    for name, data in STORED.items():
        container.upload_blob(name, data)
    assert "m/../y.txt" in _stored(container)  # planted as Azure keeps it
    fs = AzureBlobFileSystem(connection_string=connection, skip_instance_cache=True)
    target = Target(fs=fs, path=f"{azure_container.name}/m", url="azureml://datastores/az/paths/m")
    caplog.set_level(logging.WARNING, logger="mounts")
    with RwMountStrategy().materialize(target, tmp_path / "job") as mounted:
        root = Path(mounted.host_path or "")
        assert _raw_listing(root) == [".", "..", "a", "ok.txt", "sub"]
        assert _raw_listing(root / "sub") == [".", "..", "in.txt"]
        assert _raw_listing(root / "a") == [".", ".."]
        assert os.stat(root / "sub" / "..").st_ino == os.stat(root).st_ino  # '..' is the parent
        assert (root / "ok.txt").read_bytes() == b"ok" and (root / "sub" / "in.txt").read_bytes() == b"in"
        assert not (root / "sub" / "x.txt").exists() and not (root / "y.txt").exists()
        (root / "sub" / "new.txt").write_bytes(b"new")  # the mount still writes
    assert container.download_blob("m/sub/new.txt").readall() == b"new"
    notes = [r.getMessage() for r in caplog.records
             if r.levelno == logging.WARNING and "not shown" in r.getMessage()]
    assert len(notes) == 1, notes  # one per mount
    assert notes[0].startswith("output azureml://datastores/az/paths/m: 4 stored names were not shown in the "
                               "read-write mount ('..', 'a/', 'sub/.', 'sub/..')"), notes[0]  # as ro's
    assert "an empty, '.' or '..' segment" in notes[0], notes[0]
    assert "rename or delete those blobs in the storage" in notes[0], notes[0]


@pytest.mark.parametrize("name", ["..\\..\\up.txt", "sub\\..\\..\\up.txt", ".\\dot.txt", "a\\\\b.txt", "x\\"])
def test_no_write_through_an_rw_mount_makes_a_dot_segment_or_leaves_its_folder(
        fuse_available: bool, azure_container: Any, tmp_path: Path, name: str) -> None:
    """A file, a folder, a file renamed and a folder renamed to ``name`` all fail with EINVAL at once
    (nothing staged, nothing stored); the mount ends cleanly with what else the job wrote."""
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob import ContainerClient

    connection = azure_container.azurite.connection_string
    container = ContainerClient.from_connection_string(connection, azure_container.name)
    container.upload_blob("out/sub/kept.txt", b"kept")
    fs = AzureBlobFileSystem(connection_string=connection, skip_instance_cache=True)
    target = Target(fs=fs, path=f"{azure_container.name}/out/sub", url="azureml://datastores/az/paths/out/sub")
    refused: list[int | None] = []
    with RwMountStrategy().materialize(target, tmp_path / "job") as mounted:
        root = Path(mounted.host_path or "")
        os.mkdir(root / "folder")
        (root / "folder" / "f.txt").write_bytes(b"f")
        for attempt in (lambda: (root / name).write_bytes(b"x"), lambda: os.mkdir(root / name),
                        lambda: os.rename(root / "kept.txt", root / name),
                        lambda: os.rename(root / "folder", root / name),
                        lambda: (root / "folder" / name).write_bytes(b"x")):
            with pytest.raises(OSError) as failed:
                attempt()
            refused.append(failed.value.errno)
        assert sorted(os.listdir(root)) == ["folder", "kept.txt"]
    assert refused == [errno.EINVAL] * 5
    assert _stored(container) == {"out/sub/kept.txt", "out/sub/folder/f.txt"}
    assert not list((tmp_path / "job").rglob("*up.txt")) and not list((tmp_path / "job").rglob("*dot.txt"))
