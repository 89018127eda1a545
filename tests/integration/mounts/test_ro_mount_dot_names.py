"""A read-only mount of an Azure folder (Azurite, the lean client's listing, a real FUSE mount) whose stored
names have a ``..``, ``.`` or empty segment (Azure keeps ``..\\y.txt`` as ``../y.txt`` and ``a\\\\b.txt``
as ``a//b.txt``): no folder lists a second ``..`` or ``.`` or a nameless entry, ``..`` still leads to the
parent (the kernel answers it: the planted names are never reached), the other files read as stored, and
the mount says what it hid in one warning with the count, in a download refusal's words. The listing is
the kernel's (``getdents64``: ``os.listdir`` drops every ``.`` and ``..``, glibc's ``readdir`` the planted
ones, whose inode is 0; a program reading ``getdents64`` itself shows them). Everything in the test's
container and tmp_path."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import struct
from pathlib import Path
from typing import Any

import pytest

from mounts.base import Source
from mounts.ro_mount import RoMountStrategy

pytestmark = [pytest.mark.fuse, pytest.mark.azure]

STORED = {"m/ok.txt": b"ok", "m/sub/in.txt": b"in", "m/..\\y.txt": b"y", "m/sub/..\\x.txt": b"x",
          "m/sub/.\\z.txt": b"z", "m/a\\\\b.txt": b"b"}  # Azure: m/../y.txt, m/sub/./z.txt, m/a//b.txt ...


GETDENTS64 = {"x86_64": 217, "aarch64": 61}  # the syscall's number


def _raw_listing(folder: Path) -> list[str]:
    """Every name the kernel lists for ``folder`` (``getdents64``), ``.`` and ``..`` included."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    number = GETDENTS64[os.uname().machine]
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    buffer = ctypes.create_string_buffer(64 * 1024)
    names = []
    try:
        while (got := libc.syscall(number, fd, buffer, len(buffer))) > 0:
            raw, offset = buffer.raw[:got], 0
            while offset < got:  # struct linux_dirent64: ino, off, reclen, type, name
                _ino, _off, reclen, _type = struct.unpack_from("QqHB", raw, offset)
                names.append(os.fsdecode(raw[offset + 19:offset + reclen].split(b"\0", 1)[0]))
                offset += reclen
        assert got == 0, os.strerror(ctypes.get_errno())
    finally:
        os.close(fd)
    return sorted(names)


def test_names_with_dot_segments_are_left_out_of_listings_with_one_warning(
        fuse_available: bool, azure_container: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob import ContainerClient

    connection = azure_container.azurite.connection_string
    container = ContainerClient.from_connection_string(connection, azure_container.name)
    for name, data in STORED.items():
        container.upload_blob(name, data)
    assert "m/../y.txt" in {blob.name for blob in container.list_blobs()}  # planted as Azure keeps it
    fs = AzureBlobFileSystem(connection_string=connection, skip_instance_cache=True)
    source = Source(fs=fs, path=f"{azure_container.name}/m", url="azureml://datastores/az/paths/m",
                    is_dir=True)
    caplog.set_level(logging.WARNING, logger="mounts")
    with RoMountStrategy().materialize(source, tmp_path / "job") as mounted:
        root = mounted.host_path
        assert _raw_listing(root) == [".", "..", "a", "ok.txt", "sub"]
        assert _raw_listing(root / "sub") == [".", "..", "in.txt"]
        assert _raw_listing(root / "a") == [".", ".."]
        assert os.stat(root / "sub" / "..").st_ino == os.stat(root).st_ino  # '..' is the parent
        assert _raw_listing(root / "sub" / "..") == _raw_listing(root)
        assert (root / "ok.txt").read_bytes() == b"ok" and (root / "sub" / "in.txt").read_bytes() == b"in"
        assert not (root / "sub" / "x.txt").exists() and not (root / "y.txt").exists()
    notes = [r.getMessage() for r in caplog.records
             if r.levelno == logging.WARNING and "not shown" in r.getMessage()]
    assert len(notes) == 1, notes  # one per mount
    assert notes[0].startswith("input azureml://datastores/az/paths/m: 4 stored names were not shown in the "
                               "read-only mount ('..', 'a/', 'sub/.', 'sub/..')"), notes[0]
    assert "an empty, '.' or '..' segment" in notes[0], notes[0]
    assert "rename or delete those blobs in the storage" in notes[0], notes[0]
