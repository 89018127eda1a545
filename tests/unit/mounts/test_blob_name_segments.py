"""Names a store holds that are no path below a folder: an empty, ``.`` or ``..`` segment (Azure Blob Storage
keeps ``..\\..\\x`` as ``../../x``), and a name that is a file and a folder at once (``x`` and ``x/y``).

- Download: refused before any byte moves, in one error (a ``MountsError``, not a ``TransferFailed``: no
  rerun can help) naming the blob(s), why, and how to fix it; nothing written, inside the destination or
  out of it.
- Upload to Azure: a file whose stored name would have such a segment is left out, named in one warning
  (the job still completes, as for a left-out link); one that would make a file and a folder of one name
  fails the output, its staged data kept (as two files on one name do).

Everything in this test's tmp folder and its own ``memory://`` root."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from mounts.base import Target
from mounts.errors import MountsError, TransferFailed
from mounts.stores.base import RemoteFile
from mounts.stores.fsspec_store import FsspecStore
from mounts.transfer.downloader import download_files
from mounts.transfer.state import RemoteNameRefused, bad_segment, check_listing, folder_clashes, safe_relative
from mounts.upload import UploadStrategy


class ListedStore(FsspecStore):
    """A memory store whose listing is what the test says (a name no ``memory://`` path can hold) and which
    notes every read it is asked for."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(fsspec.filesystem("memory"))
        self.files = files
        self.reads: list[str] = []

    def listing(self, root: str) -> list[RemoteFile]:
        return [RemoteFile(rel=name, path=f"{root}/{name}", size=len(data))
                for name, data in self.files.items()]

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: object) -> None:
        self.reads.append(item.rel)
        data = self.files[item.rel]
        sink(memoryview(data[start:None if length is None else start + length]))  # type: ignore[operator]


class AzureLikeMemory(MemoryFileSystem):  # type: ignore[misc]
    """An in-memory store that says it is Azure Blob (``abfs``), as adlfs does."""

    protocol = ("abfs", "az")


@pytest.fixture
def memory_root() -> Iterator[str]:
    root = f"/segments-{os.urandom(4).hex()}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize(("name", "why"), [
    ("../x", "'..'"), ("a/../../b", "'..'"), ("a/..", "'..'"), ("./a", "'.'"), ("a/./b", "'.'"),
    ("a//b", "empty"), ("/etc/passwd", "empty"), ("a/", "empty"), ("", "empty")])
def test_a_name_with_an_empty_dot_or_dotdot_segment_is_no_path_below_a_folder(name: str, why: str) -> None:
    said = bad_segment(name)
    assert said is not None and why in said
    with pytest.raises(RemoteNameRefused) as caught:
        safe_relative(name)
    assert isinstance(caught.value, MountsError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ["a/b/c.txt", "..a", "a..", ".hidden/x", "a/...", "x"])
def test_names_that_only_look_like_dots_are_fine(name: str) -> None:
    assert bad_segment(name) is None
    assert str(safe_relative(name)) == name


def test_a_file_and_a_folder_of_one_name_are_found_in_any_order() -> None:
    assert folder_clashes(["a/b", "x/y", "c", "x", "a"]) == [("a", "a/b"), ("x", "x/y")]
    assert folder_clashes(["x/y/z", "x/y"]) == [("x/y", "x/y/z")]
    assert folder_clashes(["x", "x-y/z", "x.y", "xy/x"]) == []


def test_a_download_of_a_dotdot_blob_is_one_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    store = ListedStore({"ok.txt": b"ok", "evil/../../pwned.txt": b"PWNED"})
    dest = tmp_path / "box" / "dest"
    files = store.listing("c/d")
    with pytest.raises(RemoteNameRefused) as caught:
        download_files(store, files, dest, tmp_path / "box" / "state", quiet=True, in_place=True)
    assert not isinstance(caught.value, TransferFailed)  # no rerun can help: not a failed transfer
    message = str(caught.value)
    assert "'c/d/evil/../../pwned.txt'" in message and "'..' segment" in message
    assert "outside the folder" in message and "nothing was downloaded" in message
    assert "rename or delete" in message and "in the storage" in message
    assert store.reads == []  # refused before any byte moved
    assert _everything_under(tmp_path) == []  # nothing written: not there, not anywhere else


@pytest.mark.parametrize("name", ["a/./b", "a//b"])
def test_a_name_that_would_land_on_another_files_path_is_refused(tmp_path: Path, name: str) -> None:
    store = ListedStore({"a/b": b"one", name: b"two"})
    with pytest.raises(RemoteNameRefused, match="nothing was downloaded"):
        download_files(store, store.listing("c/d"), tmp_path / "dest", tmp_path / "state", quiet=True)
    assert store.reads == [] and not (tmp_path / "dest" / "a").exists()


def test_a_file_and_a_folder_of_one_name_are_one_clear_error_naming_both(tmp_path: Path) -> None:
    store = ListedStore({"x": b"file", "x/y": b"in a folder", "z": b"z"})
    with pytest.raises(RemoteNameRefused) as caught:
        check_listing(store.listing("c/coll"))
    message = str(caught.value)
    assert "'c/coll/x' and 'c/coll/x/y'" in message and "a file and a folder" in message
    assert "no rerun can succeed" in message and "rename or delete one of them in the storage" in message
    assert "reachable" not in message
    with pytest.raises(RemoteNameRefused):
        download_files(store, store.listing("c/coll"), tmp_path / "dest", tmp_path / "state", quiet=True)
    assert store.reads == []


def test_a_listing_of_safe_distinct_names_passes() -> None:
    check_listing(ListedStore({"a/b": b"", "a/c/d": b"", "ab": b"", "a.b/c": b""}).listing("c/d"))


def _upload(tmp_path: Path, root: str, names: dict[str, str]) -> tuple[UploadStrategy, AzureLikeMemory, Path]:
    staged = tmp_path / "staged"
    staged.mkdir()
    for name, text in names.items():
        (staged / name).write_text(text)
    fs = AzureLikeMemory()
    strategy = UploadStrategy(quiet=True)
    strategy.finalize(Target(fs=fs, path=root, url=f"abfs://{root}"), staged)
    return strategy, fs, staged


def test_an_upload_leaves_out_a_file_azure_would_store_with_a_dot_segment(
        tmp_path: Path, memory_root: str, caplog: pytest.LogCaptureFixture) -> None:
    names = {"..\\..\\..\\vp-train\\model\\weights.txt": "evil", "a\\\\b": "empty", "\\lead": "lead",
             "trail\\": "trail", ".\\dot": "dot", "back\\slash": "b", "ok.txt": "kept"}
    with caplog.at_level(logging.WARNING):
        strategy, fs, staged = _upload(tmp_path, memory_root, names)
    stored = sorted(path[len(memory_root) + 1:] for path in fs.find(memory_root))
    assert stored == ["back/slash", "ok.txt"]  # nothing else, nowhere else
    assert not any("vp-train" in path for path in fs.find("/"))
    left = [note for note in strategy.warnings if "not uploaded" in note]
    assert len(left) == 1, strategy.warnings
    note = left[0]
    assert note.startswith("5 files not uploaded: ")
    assert "..\\..\\..\\vp-train\\model\\weights.txt (Azure Blob Storage would store it as " \
           "../../../vp-train/model/weights.txt: a '..' segment" in note
    for name in ("a\\\\b", "\\lead", "trail\\", ".\\dot"):
        assert note.count(f"{name} (") == 1, (name, note)
    renamed = [note for note in strategy.warnings if "uploaded under another name" in note]
    assert len(renamed) == 1 and "back\\slash as back/slash" in renamed[0] and "vp-train" not in renamed[0]
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert logged == [f"output abfs://{memory_root}: {w}" for w in strategy.warnings]
    assert list(staged.iterdir()) == []  # cleared as after any upload, as left-out links are


def test_an_upload_that_would_make_a_file_and_a_folder_of_one_name_fails_and_keeps_the_staged_data(
        tmp_path: Path, memory_root: str) -> None:
    with pytest.raises(TransferFailed) as caught:
        _upload(tmp_path, memory_root, {"a": "file", "a\\b": "under a"})
    message = str(caught.value)
    assert "a and a\\b" in message and "a file and a folder" in message
    assert str(tmp_path / "staged") in message
    assert sorted(caught.value.failed) == ["a", "a\\b"] and caught.value.staged == tmp_path / "staged"
    assert caught.value.hint is not None and "rename" in caught.value.hint
    assert (tmp_path / "staged" / "a\\b").read_text() == "under a"
    assert not fsspec.filesystem("memory").exists(memory_root + "/a")
