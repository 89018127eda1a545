"""A ``rw_mount`` output to Azure Blob Storage: a file the job names with backslashes that Azure would store
with a ``..``, ``.`` or empty segment (``..\\..\\x`` as ``../../x``) is refused at its close, never
uploaded (no download could write it below its folder), and the output's one error says how to fix it;
a plain backslash name is still stored where Azure puts it. Everything lives in this test's tmp folder and
an in-memory store."""

from __future__ import annotations

from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from mounts.base import Target
from mounts.errors import TransferFailed
from mounts.rw_mount import BACKSLASH_HINT, _not_durable, _store_upload
from mounts.transfer.downloader import TransferOptions
from mounts.transfer.uploader import NOT_UTF8, NOT_UTF8_HINT


class AzureLikeMemory(MemoryFileSystem):  # type: ignore[misc]
    """An in-memory store that says it is Azure Blob (``abfs``), as adlfs does."""

    protocol = ("abfs", "az")


@pytest.fixture
def store() -> AzureLikeMemory:
    fs = AzureLikeMemory()
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    return fs


def _local(tmp_path: Path) -> Path:
    local = tmp_path / "staged-file"
    local.write_text("data")
    return local


@pytest.mark.parametrize("name", ["..\\..\\x", "a\\..\\..\\b", "a\\\\b", "a\\.\\b", "x\\"])
def test_a_name_azure_would_store_with_a_bad_segment_is_refused_at_close(
        tmp_path: Path, store: AzureLikeMemory, name: str) -> None:
    refused: dict[str, str] = {}
    upload = _store_upload(Target(fs=store, path="/c/out", url="abfs://c/out"), TransferOptions(), "/c/out",
                           {}, refused)
    with pytest.raises(TransferFailed) as caught:
        upload(_local(tmp_path), f"/c/out/{name}")
    assert caught.value.failed == [name] and "Azure Blob Storage would store it as" in str(caught.value)
    assert caught.value.hint == BACKSLASH_HINT and list(refused) == [name]
    assert store.find("/c") == []


def test_a_plain_backslash_name_is_stored_where_azure_puts_it(tmp_path: Path, store: AzureLikeMemory) -> None:
    renamed: dict[str, str] = {}
    upload = _store_upload(Target(fs=store, path="/c/out", url="abfs://c/out"), TransferOptions(), "/c/out",
                           renamed, {})
    upload(_local(tmp_path), "/c/out/back\\slash")
    assert renamed == {"back\\slash": "back/slash"} and store.cat("/c/out/back/slash") == b"data"


def test_the_output_error_tells_how_to_fix_each_refusal(tmp_path: Path, store: AzureLikeMemory) -> None:
    target = Target(fs=store, path="/c/out", url="abfs://c/out")
    why = "Azure Blob Storage would store it as ../x"
    dots = _not_durable(target, tmp_path, {}, ["..\\x"], {"..\\x": why})
    assert dots.hint == BACKSLASH_HINT and dots.staged == tmp_path and "../x" in str(dots)
    utf8 = _not_durable(target, tmp_path, {}, ["n"], {"n": NOT_UTF8})
    assert utf8.hint == NOT_UTF8_HINT
    assert _not_durable(target, tmp_path, {}, ["f"], {}).hint is None
