"""A read-write FUSE mount over a folder on this machine (fsspec's local filesystem): a job renames a
folder holding a tree deeper than Python's recursion limit (made through the mount with relative
``mkdir``), a folder holding a link to a folder out of the store, and a folder over an empty one. The
rename is one ``rename(2)`` in the store: the whole tree moves, the link moves as a link (what it points
at is never walked or moved), and the mount lists what is there afterwards.

Everything lives in this test's ``tmp_path``, removed by the test with no recursion."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, chain_of, deep_scratch
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.rw_mount import RwMountStrategy

pytestmark = pytest.mark.fuse


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


def _rw_mount(store: Path, workdir: Path):  # type: ignore[no-untyped-def]
    target = Target(fs=LocalFileSystem(), path=str(store), url=f"x://{store.name}")  # no local_path: FUSE
    return RwMountStrategy().materialize(target, workdir)


def test_a_folder_holding_a_tree_deeper_than_the_recursion_limit_is_renamed_whole(scratch: Path) -> None:
    store = scratch / "store"
    store.mkdir()
    with _rw_mount(store, scratch / "job") as mat:
        mnt = Path(mat.host_path or "")
        nest = f"for i in $(seq {DEEP}); do mkdir a && cd a || exit 9; done && echo deep > f.txt"
        made = subprocess.run(["sh", "-c", f"mkdir top && cd top && {nest}"], cwd=mnt, capture_output=True,
                              text=True, timeout=600, check=False)
        assert made.returncode == 0, made.stderr
        os.rename(mnt / "top", mnt / "moved")
        assert sorted(os.listdir(mnt)) == ["moved"]
        assert os.listdir(mnt / "moved") == ["a"]
    assert chain_of(store / "moved") == (DEEP, b"deep\n")
    assert not (store / "top").exists()


def test_a_link_in_a_renamed_folder_moves_as_a_link(scratch: Path) -> None:
    store, outside = scratch / "store", scratch / "outside"
    (store / "top" / "sub").mkdir(parents=True)
    (store / "top" / "sub" / "x.txt").write_text("x\n")
    outside.mkdir()
    (outside / "secret.txt").write_text("not the store's\n")
    (store / "top" / "link").symlink_to(outside)  # planted before the job: a folder out of the store
    with _rw_mount(store, scratch / "job") as mat:
        mnt = Path(mat.host_path or "")
        os.rename(mnt / "top", mnt / "moved")
    assert os.readlink(store / "moved" / "link") == str(outside)
    assert (store / "moved" / "sub" / "x.txt").read_text() == "x\n"
    assert sorted(os.listdir(outside)) == ["secret.txt"]  # never walked, never moved into the store
    assert not os.path.lexists(store / "top")


def test_a_folder_renamed_over_an_empty_one_is_listed_with_its_files(scratch: Path) -> None:
    store = scratch / "store"
    store.mkdir()
    with _rw_mount(store, scratch / "job") as mat:
        mnt = Path(mat.host_path or "")
        (mnt / "empty").mkdir()
        assert os.listdir(mnt / "empty") == []  # listed once while empty
        (mnt / "full").mkdir()
        (mnt / "full" / "x.txt").write_text("x\n")
        os.rename(mnt / "full", mnt / "empty")
        assert os.listdir(mnt / "empty") == ["x.txt"]
        assert (mnt / "empty" / "x.txt").read_text() == "x\n"
    assert (store / "empty" / "x.txt").read_text() == "x\n"
    assert not (store / "full").exists()
