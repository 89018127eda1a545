"""``same_content.first_difference`` over a version stored on this machine: the stored tree is walked with
no recursion and no depth bound (a tree deeper than the 200 folders it used to stop at compares right),
each file opened relative to its folder (a few opens per file, not one per level above it), and no link
planted in the stored version is ever followed, neither in the listing nor while the bytes are read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from runner.errors import StorageError
from runner.modes import PathKind
from runner.workspace.resolved import ResolvedPath
from runner.workspace.same_content import SourceFiles, first_difference

DEPTH = 250  # past the 200 folders the walk used to stop at


def _source(top: Path, *, before_bytes: object = None) -> SourceFiles:
    """The test's own source walk (sorted, depth first, an explicit stack, no link followed), as
    ``LocalSource.files`` gives its files; ``before_bytes`` runs as the second walk (the bytes) starts."""
    calls = []

    def files() -> Iterator[tuple[str, BinaryIO, int]]:
        calls.append(1)
        if len(calls) == 2 and callable(before_bytes):
            before_bytes()
        pending = [""]
        while pending:
            rel = pending.pop()
            folder = top / rel if rel else top
            names = sorted(os.listdir(folder))
            subfolders = []
            for name in names:
                here = f"{rel}/{name}" if rel else name
                info = os.lstat(folder / name)
                if stat.S_ISDIR(info.st_mode):
                    subfolders.append(here)
                    continue
                with open(folder / name, "rb") as reader:
                    yield here, reader, info.st_mode
            pending.extend(reversed(subfolders))

    return files


def _stored(anchor: Path, below: str) -> ResolvedPath:
    path = anchor / below
    return ResolvedPath(uri=f"azureml://datastores/workspaceblobstore/paths/{below}", fs=None, path=str(path),
                        url=str(path), kind=PathKind.FOLDER if path.is_dir() else PathKind.FILE,
                        local_path=path, local_root=anchor)


def _tree(top: Path, depth: int, *, bottom: bytes = b"bottom") -> str:
    """A chain of ``depth`` folders ``a`` with a file in the first and the last: the last's path."""
    deep = top.joinpath(*["a"] * depth)
    deep.mkdir(parents=True)
    (top / "a" / "near.txt").write_bytes(b"near")
    (deep / "f.bin").write_bytes(bottom)
    return "/".join(["a"] * depth + ["f.bin"])


def _compare(source: Path, anchor: Path, below: str, **kw: object) -> str | None:
    return first_difference(_source(source, **kw), PathKind.FOLDER, _stored(anchor, below), anchor=anchor,
                            shown=source.name, given=str(source))


@pytest.fixture
def anchor(tmp_path: Path) -> Path:
    (tmp_path / "store").mkdir()
    return tmp_path / "store"


def test_a_tree_deeper_than_the_old_bound_compares_right(tmp_path: Path, anchor: Path) -> None:
    _tree(tmp_path / "src" / "deep", DEPTH)
    _tree(anchor / "LocalUpload" / "m" / "1" / "deep", DEPTH)
    assert _compare(tmp_path / "src" / "deep", anchor, "LocalUpload/m/1/deep") is None


def test_other_bytes_past_the_old_bound_are_named(tmp_path: Path, anchor: Path) -> None:
    _tree(tmp_path / "src" / "deep", DEPTH, bottom=b"mine!")
    bottom = _tree(anchor / "LocalUpload" / "m" / "1" / "deep", DEPTH, bottom=b"yours")
    why = _compare(tmp_path / "src" / "deep", anchor, "LocalUpload/m/1/deep")
    assert why == f"'{bottom}' holds other bytes"


def test_a_file_only_the_stored_deep_tree_has_is_named(tmp_path: Path, anchor: Path) -> None:
    _tree(tmp_path / "src" / "deep", DEPTH)
    stored = anchor / "LocalUpload" / "m" / "1" / "deep"
    _tree(stored, DEPTH)
    stored.joinpath(*["a"] * DEPTH, "a", "extra").mkdir(parents=True)
    stored.joinpath(*["a"] * DEPTH, "a", "extra", "x").write_bytes(b"x")
    want = "/".join(["a"] * (DEPTH + 1) + ["extra", "x"])
    assert _compare(tmp_path / "src" / "deep", anchor, "LocalUpload/m/1/deep") == \
        f"the registered version has '{want}', the new path does not"


def test_each_stored_file_takes_a_few_opens_whatever_its_depth(tmp_path: Path, anchor: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Opened relative to its folder, kept open for its neighbours: not one open per folder above it."""
    depth, per_folder = 30, 5
    for top in (tmp_path / "src" / "t", anchor / "LocalUpload" / "m" / "1" / "t"):
        for level in range(1, depth + 1):
            folder = top.joinpath(*["d"] * level)
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_folder):
                (folder / f"f{i}").write_bytes(b"%d" % i)
    opens = []
    real_open = os.open

    def counted(*args: object, **kw: object) -> int:
        opens.append(args[0])
        return real_open(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", counted)
    assert _compare(tmp_path / "src" / "t", anchor, "LocalUpload/m/1/t") is None
    monkeypatch.undo()
    files = depth * per_folder
    assert len(opens) <= 3 * (files + depth) + 20  # each folder twice (listing, bytes), each file once


@pytest.mark.parametrize("planted", ["sub", "sub/inner", "near.txt"])
def test_a_link_planted_in_the_stored_version_is_a_difference(tmp_path: Path, anchor: Path,
                                                               planted: str) -> None:
    """A link to a folder or a file outside, holding the very same bytes: only a followed link would make
    the two equal."""
    for top in (tmp_path / "src" / "v", anchor / "LocalUpload" / "m" / "1" / "v", tmp_path / "outside"):
        (top / "sub" / "inner").mkdir(parents=True)
        (top / "near.txt").write_bytes(b"near")
        (top / "sub" / "inner" / "x.bin").write_bytes(b"x" * 10)
    stored = anchor / "LocalUpload" / "m" / "1" / "v" / planted
    if stored.is_dir():
        stored.rename(tmp_path / "moved")
    else:
        stored.unlink()
    stored.symlink_to(tmp_path / "outside" / planted)
    why = _compare(tmp_path / "src" / "v", anchor, "LocalUpload/m/1/v")
    assert why is not None and f"'{planted}'" in why


def test_a_folder_swapped_for_a_link_before_the_bytes_are_read_is_not_followed(
        tmp_path: Path, anchor: Path) -> None:
    """Only a followed link could make the two equal: the link leads to the source's very bytes, the
    stored folder moved away holds others. Refused (the link met by name) or a difference (the folder
    read through the descriptor it was listed by): never the same."""
    for top in (tmp_path / "src" / "v", anchor / "LocalUpload" / "m" / "1" / "v", tmp_path / "outside"):
        (top / "sub").mkdir(parents=True)
        (top / "sub" / "x.bin").write_bytes(b"x" * 10)
    stored_sub = anchor / "LocalUpload" / "m" / "1" / "v" / "sub"

    def swap() -> None:  # after the listing (names and sizes agree), before any byte is read
        stored_sub.rename(tmp_path / "moved")
        (tmp_path / "moved" / "x.bin").write_bytes(b"y" * 10)
        stored_sub.symlink_to(tmp_path / "outside" / "sub")

    try:
        why = _compare(tmp_path / "src" / "v", anchor, "LocalUpload/m/1/v", before_bytes=swap)
    except StorageError as exc:
        assert "cannot compare" in exc.message and str(tmp_path / "src" / "v") in exc.message
        return
    assert why == "'sub/x.bin' holds other bytes"


def test_a_link_on_the_way_to_the_stored_version_is_not_followed(tmp_path: Path, anchor: Path) -> None:
    for top in (tmp_path / "src" / "v", tmp_path / "elsewhere" / "1" / "v"):
        top.mkdir(parents=True)
        (top / "x.bin").write_bytes(b"x")
    (anchor / "LocalUpload" / "m").mkdir(parents=True)
    (anchor / "LocalUpload" / "m" / "1").symlink_to(tmp_path / "elsewhere" / "1")
    with pytest.raises(StorageError):
        _compare(tmp_path / "src" / "v", anchor, "LocalUpload/m/1/v")


def test_a_fifo_in_the_stored_version_is_a_difference_never_opened(tmp_path: Path, anchor: Path) -> None:
    (tmp_path / "src" / "v").mkdir(parents=True)
    (tmp_path / "src" / "v" / "pipe").write_bytes(b"")
    stored = anchor / "LocalUpload" / "m" / "1" / "v"
    stored.mkdir(parents=True)
    os.mkfifo(stored / "pipe")  # opened for reading, it would block
    assert _compare(tmp_path / "src" / "v", anchor, "LocalUpload/m/1/v") == \
        "'pipe' in the registered version is not a regular file"


def test_a_single_stored_file_compares_as_before(tmp_path: Path, anchor: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.pkl").write_bytes(b"weights")
    (anchor / "LocalUpload" / "m" / "1").mkdir(parents=True)
    (anchor / "LocalUpload" / "m" / "1" / "model.pkl").write_bytes(b"weightz")

    def one() -> Iterator[tuple[str, BinaryIO, int]]:
        with open(tmp_path / "src" / "model.pkl", "rb") as reader:
            yield "", reader, 0o644

    stored = _stored(anchor, "LocalUpload/m/1/model.pkl")
    assert first_difference(one, PathKind.FILE, stored, anchor=anchor, shown="model.pkl",
                            given="model.pkl") == "'model.pkl' holds other bytes"
