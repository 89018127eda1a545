"""What an output cannot keep is said, not dropped: a FIFO, a socket, a device or a link that names no file
inside the output is left out of an ``upload`` (remote or local) and of a local ``rw_mount``, and a
``direct`` output's folder holding one is noted; each such entry is named once, in one warning per output
(how many, the first few names, why), in the log and in the strategy's ``warnings``.

A backslash in a name: Azure Blob Storage stores ``back\\slash`` as ``back/slash`` (the service turns it
into a separator, whatever the client), so an ``upload`` to Azure puts it there itself and says so; two
files that would land on one name fail the output, their staged copies kept.

Everything is made in this test's tmp folder; no FIFO is opened and no planted link is followed (the link
out of the output names a decoy file of the test, checked unchanged and never uploaded)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from mounts.base import Target
from mounts.direct import DirectOutputStrategy
from mounts.errors import TransferFailed
from mounts.rw_mount import RwMountStrategy
from mounts.transfer.uploader import LeftOut, left_out_note, list_local_files
from mounts.upload import UploadStrategy


class AzureLikeMemory(MemoryFileSystem):  # type: ignore[misc]
    """An in-memory store that says it is Azure Blob (``abfs``), as adlfs does."""

    protocol = ("abfs", "az")


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    (tmp_path / "host").mkdir()
    secret = tmp_path / "host" / "shadow"
    secret.write_text("HOST SECRET")
    return secret


def _odd_entries(root: Path, decoy: Path) -> None:
    """A FIFO, a character device (when this runs as root), links that name no file inside, and a file."""
    (root / "sub").mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / "fifo")
    if os.geteuid() == 0:
        os.mknod(root / "sub" / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    (root / "shadow").symlink_to(decoy)
    (root / "dangling").symlink_to("nowhere")
    (root / "ok.txt").write_text("kept")


def _expected(root: Path, decoy: Path) -> dict[str, str]:
    found = {"fifo": "a FIFO", "shadow": f"a link to {decoy}, out of the output",
             "dangling": "a link to nowhere, which names nothing"}
    if os.geteuid() == 0:
        found["sub/dev"] = "a character device"
    return found


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _named_once(text: str, names: dict[str, str]) -> None:
    for rel, why in names.items():
        assert text.count(f"{rel} ({why})") == 1, (rel, text)


@pytest.fixture
def memory_root() -> Iterator[str]:
    root = f"/left-out-{os.urandom(4).hex()}"
    fs = fsspec.filesystem("memory")
    yield root
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_a_remote_upload_names_each_entry_it_leaves_out_once(tmp_path: Path, decoy: Path, memory_root: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    staged = tmp_path / "staged"
    _odd_entries(staged, decoy)
    fs = fsspec.filesystem("memory")
    strategy = UploadStrategy(quiet=True)
    with caplog.at_level(logging.INFO):
        strategy.finalize(Target(fs=fs, path=memory_root, url=f"memory://{memory_root}"), staged)
    assert {p[len(memory_root) + 1:]: fs.cat_file(p) for p in fs.find(memory_root)} == {"ok.txt": b"kept"}
    expected = _expected(staged, decoy)
    assert len(strategy.warnings) == 1
    note = strategy.warnings[0]
    assert note.startswith(f"{len(expected)} entries not uploaded: ") and "only files" in note
    _named_once(note, expected)
    logged = _warnings(caplog)
    assert len(logged) == 1 and logged[0] == f"output memory://{memory_root}: {note}"
    assert decoy.read_text() == "HOST SECRET"


def test_a_local_target_and_a_local_rw_mount_say_the_same(tmp_path: Path, decoy: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    for strategy in (UploadStrategy(quiet=True), RwMountStrategy()):
        name = type(strategy).__name__
        dest = tmp_path / "datastore" / name
        target = Target(fs=LocalFileSystem(), path=str(dest), url=str(dest), local_path=dest,
                        local_root=tmp_path / "datastore")
        caplog.clear()
        with caplog.at_level(logging.INFO), strategy.materialize(target, tmp_path / "work" / name) as done:
            assert done.host_path is not None
            _odd_entries(done.host_path, decoy)
        assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["ok.txt", "sub"]
        assert len(strategy.warnings) == 1, name
        _named_once(strategy.warnings[0], _expected(done.host_path, decoy))
        assert _warnings(caplog) == [f"output {dest}: {strategy.warnings[0]}"]


def test_the_first_few_are_named_and_the_rest_counted(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    for index in range(8):
        os.mkfifo(staged / f"p{index}")
    left: list[LeftOut] = []
    assert list_local_files(staged, left) == []
    assert sorted(item.rel for item in left) == [f"p{index}" for index in range(8)]
    note = left_out_note(left)
    assert note.startswith("8 entries not uploaded: p0 (a FIFO), p1 (a FIFO)")
    assert "p4 (a FIFO) and 3 more" in note and "p5" not in note


def test_a_name_that_would_break_a_log_line_is_shown_escaped(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    os.mkfifo(staged / "x\nERROR forged")
    left: list[LeftOut] = []
    list_local_files(staged, left)
    assert "\n" not in left_out_note(left) and "x\\nERROR forged (a FIFO)" in left_out_note(left)


def test_a_listing_without_a_collector_still_warns_once(tmp_path: Path, decoy: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    staged = tmp_path / "staged"
    _odd_entries(staged, decoy)
    with caplog.at_level(logging.INFO):
        assert [f.rel for f in list_local_files(staged)] == ["ok.txt"]
    logged = _warnings(caplog)
    assert len(logged) == 1
    _named_once(logged[0], _expected(staged, decoy))


def test_a_direct_output_on_this_machine_says_what_it_holds_that_no_reader_takes(
        tmp_path: Path, decoy: Path, caplog: pytest.LogCaptureFixture) -> None:
    dest = tmp_path / "datastore" / "out"
    target = Target(fs=LocalFileSystem(), path=str(dest), url=f"file://{dest}", local_path=dest,
                    local_root=tmp_path / "datastore")
    strategy = DirectOutputStrategy()
    with caplog.at_level(logging.INFO), strategy.materialize(target, tmp_path / "work"):
        _odd_entries(dest, decoy)
    assert (dest / "shadow").is_symlink() and stat.S_ISFIFO((dest / "fifo").lstat().st_mode)  # left as is
    assert len(strategy.warnings) == 1
    note = strategy.warnings[0]
    assert "stay in its folder" in note
    _named_once(note, _expected(dest, decoy))
    assert _warnings(caplog) == [f"output file://{dest}: {note}"]


def test_a_direct_output_of_files_only_says_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "datastore" / "out"
    target = Target(fs=LocalFileSystem(), path=str(dest), url=str(dest), local_path=dest,
                    local_root=tmp_path / "datastore")
    strategy = DirectOutputStrategy()
    with strategy.materialize(target, tmp_path / "work"):
        (dest / "a").mkdir()
        (dest / "a" / "f.txt").write_text("x")
    assert strategy.warnings == []


@pytest.fixture
def azure_like(memory_root: str) -> AzureLikeMemory:
    return AzureLikeMemory()


def test_a_backslash_lands_where_azure_puts_it_and_is_said(tmp_path: Path, azure_like: AzureLikeMemory,
                                                          memory_root: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "back\\slash").write_text("b")
    (staged / "ok.txt").write_text("kept")
    strategy = UploadStrategy(quiet=True)
    with caplog.at_level(logging.INFO):
        strategy.finalize(Target(fs=azure_like, path=memory_root, url=f"abfs://{memory_root}"), staged)
    assert sorted(p[len(memory_root) + 1:] for p in azure_like.find(memory_root)) == ["back/slash", "ok.txt"]
    assert strategy.warnings == [
        "1 file uploaded under another name: Azure Blob Storage takes a backslash in a name for a folder "
        "separator: back\\slash as back/slash; name files without a backslash to keep the names as they are"]
    assert _warnings(caplog) == [f"output abfs://{memory_root}: {strategy.warnings[0]}"]


def test_two_files_on_one_azure_name_fail_the_output_and_keep_the_staged_data(
        tmp_path: Path, azure_like: AzureLikeMemory, memory_root: str) -> None:
    staged = tmp_path / "staged"
    (staged / "a").mkdir(parents=True)
    (staged / "a" / "b").write_text("slash")
    (staged / "a\\b").write_text("backslash")
    with pytest.raises(TransferFailed) as caught:
        UploadStrategy(quiet=True).finalize(Target(fs=azure_like, path=memory_root,
                                                   url=f"abfs://{memory_root}"), staged)
    message = str(caught.value)
    assert "a/b and a\\b would both be stored as a/b" in message and str(staged) in message
    assert caught.value.staged == staged and sorted(caught.value.failed) == ["a/b", "a\\b"]
    assert (staged / "a\\b").read_text() == "backslash" and not azure_like.exists(memory_root + "/a/b")


def test_a_backslash_stays_in_a_name_elsewhere(tmp_path: Path, memory_root: str) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "back\\slash").write_text("b")
    fs = fsspec.filesystem("memory")
    strategy = UploadStrategy(quiet=True)
    strategy.finalize(Target(fs=fs, path=memory_root, url=f"memory://{memory_root}"), staged)
    assert [p[len(memory_root) + 1:] for p in fs.find(memory_root)] == ["back\\slash"]
    dest = tmp_path / "local"
    (staged / "back\\slash").write_text("b")
    UploadStrategy(quiet=True).finalize(Target(fs=LocalFileSystem(), path=str(dest), url=str(dest),
                                               local_path=dest), staged)
    assert (dest / "back\\slash").read_text() == "b" and strategy.warnings == []
