"""Folder trees deeper than Python's recursion limit (a job makes them with relative ``mkdir``): the
upload strategy moves them into a local target whole, clears its staging, and ``mounts.transfer.tree``
lists and removes them with no recursion, one folder open at a time, no link followed. A tree whose
paths are longer than the system allows (PATH_MAX) fails the output with one clear error, kept staged.

Every tree is made in this test's own ``tmp_path`` and removed by the test (pytest's cleanup recurses)."""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import descriptor_limit
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.errors import TransferFailed
from mounts.transfer.tree import holds_files, iter_entries, remove_tree
from mounts.upload import UploadStrategy

DEEP = sys.getrecursionlimit() + 500


def make_chain(top: Path, depth: int, *, leaf: str | None = "f.txt") -> None:
    """``top/a/a/.../a`` (``depth`` folders) made one level at a time relative to its parent (no long
    path), with ``leaf`` written in the deepest one."""
    top.mkdir(parents=True, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            child = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
        if leaf is not None:
            out = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
            os.write(out, b"deep\n")
            os.close(out)
    finally:
        os.close(fd)


def chain_of(top: Path) -> tuple[int, bytes | None]:
    """How many ``a`` folders nest under ``top``, and what ``f.txt`` in the deepest one holds."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    depth = 0
    try:
        while True:
            try:
                child = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                break
            os.close(fd)
            fd, depth = child, depth + 1
        try:
            leaf = os.open("f.txt", os.O_RDONLY, dir_fd=fd)
        except FileNotFoundError:
            return depth, None
        with open(leaf, "rb") as handle:
            return depth, handle.read()
    finally:
        os.close(fd)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder for deep trees, removed at the end with ``rm -rf`` semantics whatever the test did."""
    folder = tmp_path / "deep"
    folder.mkdir()
    yield folder
    os.system(f"rm -rf '{folder}'")  # noqa: S605 - a path this test made


@pytest.fixture
def descriptors() -> Iterator[None]:
    """Enough descriptors for ``NoFollowFolders`` to keep every folder on a deep path open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = DEEP + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _local_target(root: Path, rel: str) -> Target:
    dest = root / rel
    return Target(fs=LocalFileSystem(), path=str(dest), url=f"file://{dest}", is_file=False,
                  local_path=dest, local_root=root)


def test_an_upload_to_a_local_target_moves_a_deep_tree_whole(scratch: Path, descriptors: None) -> None:
    staging, root = scratch / "staging", scratch / "datastore"
    make_chain(staging / "files", DEEP)
    make_chain(staging / "empty", DEEP, leaf=None)  # only folders: made at the target too
    (staging / "top.txt").write_text("top\n")
    root.mkdir()
    UploadStrategy(quiet=True).finalize(_local_target(root, "out/o"), staging)
    assert chain_of(root / "out" / "o" / "files") == (DEEP, b"deep\n")
    assert chain_of(root / "out" / "o" / "empty") == (DEEP, None)
    assert (root / "out" / "o" / "top.txt").read_text() == "top\n"
    assert list(staging.iterdir()) == []  # durable at the target: the staged copies are removed


def test_a_tree_longer_than_path_max_fails_the_output_clearly_and_stays_staged(scratch: Path) -> None:
    staging, root = scratch / "staging", scratch / "datastore"
    levels = 2100  # "a/" each: past PATH_MAX (4096) from any tmp_path
    make_chain(staging, levels)
    (staging / "top.txt").write_text("top\n")
    root.mkdir()
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_local_target(root, "o"), staging)
    message = str(info.value)
    assert message.startswith(f"output file://{root / 'o'}: ")
    assert "longer than the system allows" in message and f"the staged data is kept in {staging}" in message
    assert info.value.staged == staging
    assert chain_of(staging) == (levels, b"deep\n") and (staging / "top.txt").is_file()
    assert not (root / "o").exists()  # nothing half moved


def test_iter_entries_lists_a_deep_tree_and_names_no_link_target(scratch: Path) -> None:
    make_chain(scratch / "t", DEEP)
    decoy = scratch / "decoy"
    (decoy / "inner").mkdir(parents=True)
    (scratch / "t" / "link").symlink_to(decoy)
    rels = [rel for rel, _entry in iter_entries(scratch / "t")]
    assert len(rels) == DEEP + 2  # every folder, the file, the link (not what it names)
    assert "link" in rels and not any(rel.startswith("link/") for rel in rels)
    assert rels[-1].endswith("/f.txt") and rels[-1].count("/") == DEEP
    assert holds_files(scratch / "t")
    make_chain(scratch / "folders-only", DEEP, leaf=None)
    assert not holds_files(scratch / "folders-only")


def test_remove_tree_removes_any_depth_with_few_descriptors_and_follows_no_link(scratch: Path) -> None:
    decoy = scratch / "decoy"
    decoy.mkdir()
    (decoy / "keep.txt").write_text("keep\n")
    tree = scratch / "t"
    make_chain(tree, 2100)  # past PATH_MAX too: no call takes the whole path
    make_chain(tree / "wide", 3)
    (tree / "wide" / "link").symlink_to(decoy)
    (tree / "wide" / "a" / "file-link").symlink_to(decoy / "keep.txt")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # one folder open at a time, not one per level: 64 descriptors beyond those the process holds
    resource.setrlimit(resource.RLIMIT_NOFILE, (descriptor_limit(64), hard))
    try:
        assert remove_tree(tree) is True
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not os.path.lexists(tree)
    assert (decoy / "keep.txt").read_text() == "keep\n"
    assert remove_tree(tree) is True  # nothing there: nothing to do


def test_remove_tree_says_what_it_left_and_never_raises(scratch: Path, caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    tree = scratch / "t"
    make_chain(tree, 5)
    locked = tree / "a" / "a"
    os.chmod(locked, 0o500)  # its files cannot be removed (root may: then nothing is left)
    try:
        removed = remove_tree(tree)
    finally:
        if locked.exists():
            os.chmod(locked, 0o700)
    if os.geteuid() == 0:
        assert removed is True and not tree.exists()
    else:
        assert removed is False and "was not removed entirely" in caplog.text
