"""``NoFollowFolders`` walks a path of any depth one name at a time, with no Python recursion per level.

A staged output can be deeper than Python's recursion limit; each folder on the way is still opened
relative to its parent without following a link. One-letter names keep the deepest path under PATH_MAX
(4096), so the tree is made for real, deeper than ``sys.getrecursionlimit()`` levels.
"""

from __future__ import annotations

import os
import re
import resource
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mounts.errors import LinkNotFollowed
from mounts.transfer.nofollow import NoFollowFolders

REFUSED = "is a symbolic link (a job may have made it): not followed"


@pytest.fixture
def depth() -> Iterator[int]:
    """Deeper than the recursion limit; enough descriptors for every folder on the path to stay open
    (the walk keeps its ancestors' descriptors), raised within the hard limit for this test only."""
    levels = sys.getrecursionlimit() + 50
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = levels + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        assert hard == resource.RLIM_INFINITY or hard >= wanted, f"open files hard limit {hard} < {wanted}"
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield levels
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _remove_chain(top: Path, depth: int) -> None:
    """Remove ``top/a/a/...`` (at most ``depth`` levels) bottom up, with no recursion (``shutil.rmtree``
    recurses per level in Python 3.11) and no link followed."""
    fds = [os.open(top, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for _ in range(depth - 1):
            try:
                fds.append(os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
            except (FileNotFoundError, NotADirectoryError):
                break  # made only this far
        for fd in reversed(fds):
            for entry in os.listdir(fd):
                if stat.S_ISDIR(os.stat(entry, dir_fd=fd, follow_symlinks=False).st_mode):
                    os.rmdir(entry, dir_fd=fd)
                else:
                    os.unlink(entry, dir_fd=fd)
    finally:
        for fd in fds:
            os.close(fd)


def test_a_folder_deeper_than_the_recursion_limit_is_made_and_opened(tmp_path: Path, depth: int) -> None:
    anchor = tmp_path / "d"
    rel = "/".join(["a"] * depth)
    assert len(str(anchor / rel)) < 4096
    try:
        with NoFollowFolders(anchor) as tree:
            fd = tree.folder(rel)
            assert os.path.samestat(os.fstat(fd), os.stat(anchor / rel))
            assert tree.folder(rel) == fd  # kept open: the same descriptor
        with NoFollowFolders(anchor) as tree:  # an existing tree is opened, not made
            assert os.path.samestat(os.fstat(tree.folder(rel, create=False)), os.stat(anchor / rel))
    finally:
        _remove_chain(anchor, depth)


def test_a_link_deep_down_is_still_refused(tmp_path: Path, depth: int) -> None:
    anchor = tmp_path / "d"
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    above = "/".join(["a"] * (depth - 1))
    try:
        with NoFollowFolders(anchor) as tree:
            tree.folder(above)
        os.symlink(decoy, anchor / above / "a")
        with NoFollowFolders(anchor) as tree, pytest.raises(LinkNotFollowed, match=re.escape(REFUSED)):
            tree.folder(f"{above}/a/b")
        assert list(decoy.iterdir()) == []
    finally:
        _remove_chain(anchor, depth)
