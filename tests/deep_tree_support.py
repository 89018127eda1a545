"""Folder trees deeper than Python's recursion limit, for the tests of the code that walks or copies a
user's tree (a code snapshot, a registration's source, a job package).

A chain ``top/a/a/.../a`` is made one level at a time relative to its parent (``dir_fd``: no call takes a
long path), read back the same way, and removed with no recursion (``mounts.transfer.tree.remove_tree``):
pytest's own cleanup of ``tmp_path`` recurses, so a test that makes one removes it itself
(``deep_scratch``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from mounts.transfer.tree import remove_tree

DEEP = sys.getrecursionlimit() + 200  # 1,200 levels: "a/" each stays below PATH_MAX from any tmp_path
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def make_chain(top: Path, depth: int = DEEP, *, leaf: str | None = "f.txt", data: bytes = b"deep\n") -> Path:
    """``top/a/.../a`` (``depth`` folders) with ``leaf`` holding ``data`` in the deepest one; returns the
    deepest folder's path (below PATH_MAX for ``DEEP``: usable by name)."""
    top.mkdir(parents=True, exist_ok=True)
    fd = os.open(top, _FOLDER)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            child = os.open("a", _FOLDER, dir_fd=fd)
            os.close(fd)
            fd = child
        if leaf is not None:
            out = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
            os.write(out, data)
            os.close(out)
    finally:
        os.close(fd)
    return Path(os.path.join(top, *(["a"] * depth)))


def chain_of(top: Path, leaf: str = "f.txt") -> tuple[int, bytes | None]:
    """How many ``a`` folders nest under ``top`` (no link followed), and what ``leaf`` in the deepest one
    holds (None: not there)."""
    fd = os.open(top, _FOLDER)
    depth = 0
    try:
        while True:
            try:
                child = os.open("a", _FOLDER, dir_fd=fd)
            except FileNotFoundError:
                break
            os.close(fd)
            fd, depth = child, depth + 1
        try:
            found = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            return depth, None
        with open(found, "rb") as handle:
            return depth, handle.read()
    finally:
        os.close(fd)


def deep_scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder for deep trees (``yield from`` it in a fixture), removed whole at the end."""
    folder = tmp_path / "deep"
    folder.mkdir()
    try:
        yield folder
    finally:
        assert remove_tree(folder), f"{folder} was not removed"


def descriptor_limit(extra: int) -> int:
    """An open-file limit that leaves this process ``extra`` descriptors beyond those it holds now (the
    highest open one, after collecting garbage): what a "few descriptors" test allows, whatever earlier
    tests in the same process left open (a test suite's process holds some: clients, pipes)."""
    import gc

    gc.collect()
    return max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1 + extra
