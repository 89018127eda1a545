"""``NoFollowFolders`` holds a fixed number of descriptors whatever the depth: the anchor's and the
folder it is in. It goes down one name at a time (``O_NOFOLLOW``) and up through ``..`` (checked to be
the folder it came down through; when not, the way is walked again by name from the anchor), so an
output nested deeper than the open-file limit (1,500 levels here, with at most 64 descriptors) is still
moved into place whole, and a link on the way is still refused.

Every tree is made in this test's own ``tmp_path`` and removed by it (pytest's cleanup recurses)."""

from __future__ import annotations

import os
import re
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import chain_of, deep_scratch, descriptor_limit, make_chain
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.errors import LinkNotFollowed
from mounts.transfer.nofollow import NoFollowFolders
from mounts.upload import UploadStrategy

LEVELS = 1500  # deeper than the usual open-file limit (1,024); "a/" each stays below PATH_MAX
FEW = 64  # descriptors this process may open, beyond those it holds, while the tree is walked
REFUSED = "is a symbolic link (a job may have made it): not followed"


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


@pytest.fixture
def few_descriptors() -> Iterator[None]:
    """At most ``FEW`` open files for this process while the test runs (restored after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (descriptor_limit(FEW), hard))  # FEW beyond those open
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _same(fd: int, path: Path) -> bool:
    return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))


def test_a_folder_deeper_than_the_open_file_limit_is_made_and_walked(scratch: Path, few_descriptors: None
                                                                    ) -> None:
    anchor = scratch / "d"
    rel = "/".join(["a"] * LEVELS)
    with NoFollowFolders(anchor) as tree:
        fd = tree.folder(rel)
        assert _same(fd, anchor / rel)
        assert tree.folder(rel) == fd  # the folder it is in: the same descriptor
        assert _same(tree.folder("a"), anchor / "a")  # all the way up
        sibling = "/".join(["a"] * (LEVELS - 1) + ["b"])
        assert _same(tree.folder(sibling), anchor / sibling)  # down again, beside the deepest
        assert _same(tree.folder(""), anchor)
    with NoFollowFolders(anchor) as tree:  # an existing tree is opened, not made
        assert _same(tree.folder(rel, create=False), anchor / rel)
        with pytest.raises(FileNotFoundError):
            tree.folder(f"{rel}/missing", create=False)
    assert chain_of(anchor) == (LEVELS, None)


def test_an_upload_to_a_local_target_moves_a_tree_deeper_than_the_open_file_limit(
        scratch: Path, few_descriptors: None) -> None:
    staging, root = scratch / "staging", scratch / "datastore"
    make_chain(staging / "files", LEVELS)
    (staging / "files" / "a" / "near.txt").write_text("near\n")  # up and down again between files
    make_chain(staging / "empty", LEVELS, leaf=None)
    root.mkdir()
    dest = root / "out"
    UploadStrategy(quiet=True).finalize(
        Target(fs=LocalFileSystem(), path=str(dest), url=f"file://{dest}", is_file=False,
               local_path=dest, local_root=root), staging)
    assert chain_of(dest / "files") == (LEVELS, b"deep\n")
    assert (dest / "files" / "a" / "near.txt").read_text() == "near\n"
    assert chain_of(dest / "empty") == (LEVELS, None)
    assert list(staging.iterdir()) == []


def test_a_link_deep_down_is_refused_with_few_descriptors(scratch: Path, few_descriptors: None) -> None:
    anchor, decoy = scratch / "d", scratch / "decoy"
    decoy.mkdir()
    above = "/".join(["a"] * (LEVELS - 1))
    with NoFollowFolders(anchor) as tree:
        tree.folder(above)
    os.symlink(decoy, anchor / above / "a")
    with NoFollowFolders(anchor) as tree, pytest.raises(LinkNotFollowed, match=re.escape(REFUSED)):
        tree.folder(f"{above}/a/b")
    assert list(decoy.iterdir()) == []


def test_a_folder_moved_to_another_parent_meanwhile_is_left_by_its_path(tmp_path: Path) -> None:
    """Going up from a folder that was moved under another parent does not land beside it: the way is
    opened again from the anchor, by name, with no link followed."""
    anchor, decoy = tmp_path / "d", tmp_path / "decoy"
    decoy.mkdir()
    with NoFollowFolders(anchor) as tree:
        tree.folder("x/y/z")
        (anchor / "elsewhere").mkdir()
        os.rename(anchor / "x" / "y" / "z", anchor / "elsewhere" / "z")  # the folder it is in, moved
        assert _same(tree.folder("x/y/other"), anchor / "x" / "y" / "other")  # not elsewhere/other
        assert not (anchor / "elsewhere" / "other").exists()
        tree.folder("p/q/s")
        os.rename(anchor / "p" / "q" / "s", anchor / "elsewhere" / "s")
        os.rename(anchor / "p", anchor / "moved")
        os.symlink(decoy, anchor / "p")  # a link where the way was
        with pytest.raises(LinkNotFollowed, match=re.escape(REFUSED)):
            tree.folder("p/q/t")
    assert list(decoy.iterdir()) == []
