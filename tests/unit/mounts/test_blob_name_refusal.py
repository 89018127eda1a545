"""A file name that is not valid UTF-8 (``os.fsdecode`` made its bytes lone surrogates) on a store whose
names are UTF-8 text (Azure Blob): refused before any request (no retry can help), in one error that names
the file as the job record shows it (``bad\\xff.txt``), says why and how to fix it. A store that takes any
name (``memory://``; a local datastore never goes through the uploader) stores it as it is."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fsspec
import pytest

from mounts.errors import TransferFailed
from mounts.stores.azure import AzureBlobStore
from mounts.stores.fsspec_store import FsspecStore
from mounts.transfer.state import FailureLog
from mounts.transfer.tree import printable
from mounts.transfer.uploader import list_local_files, names_in_utf8, upload_files
from runner.workspace.job_records import visible_text

BAD = os.fsdecode(b"bad\xff.txt")
SHOWN = "bad\\xff.txt"


class Utf8NamedStore(FsspecStore):
    """``memory://`` naming its files in UTF-8 as Azure Blob does; it notes every name it is asked for."""

    utf8_names = True

    def __init__(self) -> None:
        super().__init__(fsspec.filesystem("memory"))
        self.asked: list[str] = []

    def write_small(self, path: str, data: bytes, md5: bytes | None) -> None:
        self.asked.append(path)
        path.encode("utf-8")  # what Azure's client meets first
        super().write_small(path, data, md5)

    def stat(self, path: str) -> Any:
        self.asked.append(path)
        return super().stat(path)


def _staged(tmp_path: Path) -> Path:
    staging = tmp_path / "staged"
    staging.mkdir()
    (staging / BAD).write_bytes(b"1\n")
    (staging / "ok.txt").write_bytes(b"ok\n")
    return staging


def test_printable_shows_a_byte_that_is_not_utf8_as_the_record_does() -> None:
    assert printable(BAD) == SHOWN == visible_text(BAD)
    assert printable("a\ud800b") == "a\\ud800b"  # a surrogate no byte made: its code point
    assert printable("new\nline") == "new\\nline" and printable("fine é.txt") == "fine é.txt"


def test_a_name_azure_cannot_hold_is_refused_before_any_request(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    store = Utf8NamedStore()
    root = f"/c{uuid.uuid4().hex[:12]}/out"
    pairs = [(item, f"{root}/{item.rel}") for item in list_local_files(_staged(tmp_path))]
    with caplog.at_level(logging.DEBUG), pytest.raises(TransferFailed) as caught:
        upload_files(store, pairs, quiet=True)
    assert [p for p in store.asked if "bad" in p] == []  # never asked: not once, not again
    assert store.fs.cat_file(f"{root}/ok.txt") == b"ok\n"
    error = caught.value
    assert error.failed == [BAD]  # the real name: the staged file it is
    message = str(error)
    assert f"1 of 2 file(s) could not be uploaded ({SHOWN}: its name is not valid UTF-8" in message
    assert "(Azure Blob Storage names are UTF-8 text)" in message
    assert "UnicodeEncodeError" not in message and message.isprintable()
    assert error.hint is not None and error.hint.startswith("rename the file in the job to a name that is")
    lines = [record.getMessage() for record in caplog.records]
    assert all(line.isprintable() and "\\udc" not in line for line in lines), lines


def test_only_stores_that_name_files_in_utf8_refuse() -> None:
    assert AzureBlobStore.utf8_names is True
    adlfs_like = SimpleNamespace(protocol=("abfs", "az", "abfss"))
    assert names_in_utf8(FsspecStore(adlfs_like))  # type: ignore[arg-type]  # adlfs without the lean client
    assert not names_in_utf8(FsspecStore(fsspec.filesystem("memory")))


def test_a_store_that_takes_any_name_keeps_it(tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    root = f"/m{uuid.uuid4().hex[:12]}"
    pairs = [(item, f"{root}/{item.rel}") for item in list_local_files(_staged(tmp_path))]
    upload_files(FsspecStore(fs), pairs, quiet=True)
    assert fs.cat_file(f"{root}/{BAD}") == b"1\n"


def test_a_failure_names_each_file_as_the_record_does() -> None:
    failures = FailureLog()
    failures.record(BAD, OSError("write failed"))
    with pytest.raises(TransferFailed) as caught:
        failures.raise_if_any("uploaded", 1)
    assert f"({SHOWN}: OSError: write failed)" in str(caught.value) and caught.value.failed == [BAD]
