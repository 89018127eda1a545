"""What a read-write mount knows of its store's tree (``mounts.fuse.rw_tree.MountTree``): a folder is listed
once, then kept as the job changes it through the mount; a change drops the readahead's cached content of
the path; a rename of a folder forgets what was known below both names. Everything in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.local import LocalFileSystem

from mounts.fuse.readahead import BlockCache
from mounts.fuse.ro import attrs_of
from mounts.fuse.rw_names import HiddenNames
from mounts.fuse.rw_tree import MountTree


def _tree(root: Path, lister: Any = None) -> MountTree:
    return MountTree(LocalFileSystem(), str(root), lister, HiddenNames(False), BlockCache(1 << 20))


def _cached(tree: MountTree, path: str) -> bool:
    return tree.content.get((tree.fs_path(path), 0)) is not None


def test_a_folder_is_listed_once_then_kept(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    tree = _tree(tmp_path)
    assert tree.list("/") == {"a"}
    (tmp_path / "behind").write_text("written beside the mount")  # not through it: not seen
    assert tree.list("/") == {"a"}
    tree.add("/new", attrs_of({"type": "file", "size": 3}, writable=True))
    assert tree.list("/") == {"a", "new"} and tree.stat("/new")["st_size"] == 3
    tree.content.put((tree.fs_path("/a"), 0), b"a")
    tree.remove("/a")
    assert tree.list("/") == {"new"} and not _cached(tree, "/a")
    with pytest.raises(FileNotFoundError):
        tree.stat("/a")


def test_a_durable_file_has_its_uploaded_size_and_no_stale_content(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("old")
    tree = _tree(tmp_path)
    assert tree.stat("/f")["st_size"] == 3
    tree.content.put((tree.fs_path("/f"), 0), b"old")
    tree.durable("/f", 11)
    assert tree.stat("/f")["st_size"] == 11 and not _cached(tree, "/f")


def test_a_renamed_folder_forgets_both_names(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_text("b")
    (tmp_path / "other").mkdir()
    tree = _tree(tmp_path)
    assert tree.list("/") == {"sub", "other"} and tree.list("/sub") == {"b"}
    assert tree.full_folder("/sub") and not tree.full_folder("/other")
    tree.content.put((tree.fs_path("/sub/b"), 0), b"b")
    (tmp_path / "other").rmdir()
    (tmp_path / "sub").rename(tmp_path / "other")  # what the store did (``move_folder``)
    tree.moved_folder("/sub", "/other")
    assert tree.list("/") == {"other"} and tree.list("/other") == {"b"} and not _cached(tree, "/sub/b")
    with pytest.raises(FileNotFoundError):
        tree.stat("/sub/b")


def test_a_listing_leaves_out_dot_and_empty_names(tmp_path: Path) -> None:
    entry = {"type": "file", "size": 1}
    tree = _tree(tmp_path, lister=lambda path: {"": entry, "..": entry, "x": entry})
    assert tree.list("/") == {"x"}
    assert tree.names.count == 2 and tree.names.shown == ["", ".."]
    tree.add_folder("/made")
    assert tree.list("/made") == set() and tree.list("/") == {"x", "made"}
