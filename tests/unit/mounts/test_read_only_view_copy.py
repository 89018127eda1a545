"""``read_only_view`` where FUSE cannot be used: the job gets a private copy of the folder, which may be
an earlier job's output (a registered model, a local datastore path) nested deeper than Python's
recursion limit. It is copied whole (links as links, never followed) and removed whole when the block
exits, with no recursion.

Everything lives in this test's ``tmp_path``; the test removes its deep trees itself."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, chain_of, deep_scratch, make_chain

from mounts import read_only_view as view_module
from mounts.errors import MountFailed
from mounts.read_only_view import read_only_view


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


class _NoFuse:
    """``RoMountStrategy`` on a machine without FUSE: every mount fails."""

    def __init__(self, **_: object) -> None:
        pass

    @contextlib.contextmanager
    def materialize(self, *_: object) -> Iterator[object]:
        raise MountFailed("no /dev/fuse here")
        yield  # pragma: no cover


def test_a_tree_deeper_than_the_recursion_limit_is_copied_and_removed_whole(
        scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view_module, "RoMountStrategy", _NoFuse)
    model, outside = scratch / "model", scratch / "outside"
    deepest = make_chain(model, DEEP, data=b"weights\n")
    outside.mkdir()
    (outside / "secret.txt").write_text("not the model's\n")
    os.symlink(outside, deepest / "out")  # a link an earlier job left: copied as a link
    (model / "top.txt").write_text("top\n")
    workdir = scratch / "work"
    with read_only_view(model, workdir) as seen:
        assert seen == workdir / "copy" / "model"
        assert chain_of(seen) == (DEEP, b"weights\n")
        assert (seen / "top.txt").read_text() == "top\n"
        copied_link = Path(os.path.join(seen, *(["a"] * DEEP), "out"))
        assert os.readlink(copied_link) == str(outside)
    assert not (workdir / "copy").exists()  # removed whole, whatever the depth
    assert sorted(os.listdir(outside)) == ["secret.txt"]  # never followed, never removed through
    assert chain_of(model) == (DEEP, b"weights\n")  # the original is untouched


def test_a_single_file_is_copied_as_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view_module, "RoMountStrategy", _NoFuse)
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    with read_only_view(tmp_path / "weights.bin", tmp_path / "work") as seen:
        assert seen == tmp_path / "work" / "copy" / "weights.bin"
        assert seen.read_bytes() == b"\x00\x01"
    assert not (tmp_path / "work" / "copy").exists()
    assert (tmp_path / "weights.bin").read_bytes() == b"\x00\x01"
