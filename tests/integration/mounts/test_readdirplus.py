"""READDIRPLUS through a real FUSE mount (``mounts.fuse.plus``): a listing carries every entry's
attributes, so the ``lstat``s after it are answered by the kernel, never by a ``getattr`` callback."""

from __future__ import annotations

import os
import stat
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from mounts.fuse.lifecycle import MountOptions, fuse_mount
from mounts.fuse.readahead import Prefetcher, fsspec_range_fetch
from mounts.fuse.ro import FsspecReadOnly

pytestmark = [pytest.mark.fuse]
FILES = 600  # ~25 READDIRPLUS replies of 4 KiB: the offsets must resume where each reply stopped


class Counting(FsspecReadOnly):
    """Counts the ``getattr`` callbacks per path (each one is a kernel LOOKUP or GETATTR)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.getattrs: Counter[str] = Counter()

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        self.getattrs[path] += 1
        return super().getattr(path, fh)


class NamesOnly(Counting):
    """The listing without attributes, as mfusepy gives it (the control: one LOOKUP per ``lstat``)."""

    readdir_plus = None


@pytest.fixture
def folder() -> Iterator[tuple[str, dict[str, int]]]:
    fs = fsspec.filesystem("memory")
    root = f"/plus-{uuid.uuid4().hex[:8]}"
    sizes = {f"file-with-a-longish-name-{i:05d}.bin": i % 7 for i in range(FILES)}
    for name, size in sizes.items():
        fs.pipe_file(f"{root}/data/{name}", b"x" * size)
    fs.pipe_file(f"{root}/data/sub/inner.txt", b"inner")
    sizes["sub"] = -1
    yield root, sizes
    fs.rm(root, recursive=True)


def mount_and_walk(kind: type[Counting], root: str,
                   tmp_path: Path) -> tuple[Counting, dict[str, os.stat_result]]:
    fs = fsspec.filesystem("memory")
    prefetcher = Prefetcher(fsspec_range_fetch(fs))
    operations = kind(fs, root, prefetcher)
    mountpoint = tmp_path / "mnt"
    options = MountOptions(read_only=True, extra={"entry_timeout": 3600, "attr_timeout": 3600})
    try:
        with fuse_mount(operations, mountpoint, options):
            data = mountpoint / "data"
            names = [entry.name for entry in os.scandir(data)]  # the whole listing first, as os.walk does
            operations.getattrs.clear()
            stats = {name: os.lstat(data / name) for name in names}
    finally:
        prefetcher.close()
    return operations, stats


def test_a_listing_answers_every_lstat_after_it(folder: tuple[str, dict[str, int]], fuse_available: bool,
                                                tmp_path: Path) -> None:
    root, sizes = folder
    operations, stats = mount_and_walk(Counting, root, tmp_path)
    assert sorted(stats) == sorted(sizes)  # every name once, across all the replies
    for name, size in sizes.items():
        mode = stats[name].st_mode
        if size < 0:
            assert stat.S_ISDIR(mode) and stat.S_IMODE(mode) == 0o555
        else:
            assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o444
            assert stats[name].st_size == size
    asked = {path: n for path, n in operations.getattrs.items() if path.startswith("/data/")}
    assert asked == {}, f"{len(asked)} lstats went to the filesystem: {sorted(asked)[:5]}"


def test_without_the_attributes_every_lstat_is_a_callback(folder: tuple[str, dict[str, int]],
                                                          fuse_available: bool, tmp_path: Path) -> None:
    """The control for the test above: the count it asserts to be zero is one per entry without plus."""
    root, sizes = folder
    operations, stats = mount_and_walk(NamesOnly, root, tmp_path)
    assert sorted(stats) == sorted(sizes)
    asked = [path for path in operations.getattrs if path.startswith("/data/")]
    assert len(asked) == len(sizes)
