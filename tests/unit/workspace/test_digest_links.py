"""Content digests never open a file through a link below the path they are given: a link contributes
its target as written (what a code snapshot keeps and a bind mount shows), not the content it points at.
Digests of link-free trees are unchanged (pinned values, computed before links were treated so)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import fsspec
import pytest

from runner.errors import StorageError
from runner.workspace.db import Workspace
from runner.workspace.digests import _listing, _local_listing, content_digest, local_tree_digest

FILES = {"a.txt": b"alpha\n", "sub/b.txt": b"beta\n", "sub/deeper/c.bin": bytes(range(256)) * 3,
         ".git/HEAD": b"ref\n"}
# computed by the runner before this change, for FILES (plus an empty folder)
PINNED_TREE = "sha256:b79eb67b95655bd84d485f04b24122c644549bdc2c8249ee8d8391952fb67c83"  # .git skipped
PINNED_WITH_GIT = "sha256:4fbe98a406910eef36f60bb810d27fbf3fa14495fe819127ba8d8019c616d0ac"
PINNED_FILE = "sha256:ea18eb161ec2758cbdcbb61646c52df3e021195c5827d395888379fe58188b1f"  # a.txt alone


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for rel, content in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    (root / "empty").mkdir()
    return root


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    """A folder of this test's own that a planted link points at (never a real host file)."""
    folder = tmp_path / "decoy"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"decoy secret\n")
    return folder


def test_link_free_digests_are_unchanged(ws: Workspace, data: Path) -> None:
    local = fsspec.filesystem("file")
    assert local_tree_digest(str(data)) == PINNED_TREE
    assert content_digest(ws, None, str(data), folder=True) == PINNED_WITH_GIT
    assert content_digest(ws, local, str(data), folder=True, skip=(".git",)) == PINNED_TREE
    assert content_digest(ws, None, str(data / "a.txt"), folder=False) == PINNED_FILE


def test_a_link_free_listing_is_fsspecs(data: Path) -> None:
    """The signature a cached digest is found by: the same entries and stamps as fsspec's local
    listing gives, so digests recorded before stay valid."""
    fs = fsspec.filesystem("file")
    ours = [(e[0], e[2], e[3]) for e in _local_listing(str(data), folder=True, skip=())]
    theirs = [(e[0], e[2], e[3]) for e in _listing(fs, str(data), folder=True, skip=())]
    assert ours == theirs


def test_a_link_counts_by_its_target_not_the_targets_content(ws: Workspace, data: Path, decoy: Path) -> None:
    (data / "sub" / "evil").symlink_to(decoy / "secret.txt")
    before = content_digest(ws, None, str(data), folder=True)
    assert before != PINNED_WITH_GIT  # the link is part of the tree
    (decoy / "secret.txt").write_bytes(b"changed, and never read by the runner\n")
    assert content_digest(ws, None, str(data), folder=True) == before
    assert local_tree_digest(str(data)) == local_tree_digest(str(data))
    (data / "sub" / "evil").unlink()
    (data / "sub" / "evil").symlink_to(decoy / "elsewhere.txt")  # re-pointed: another tree
    assert content_digest(ws, None, str(data), folder=True) != before


def test_a_link_and_a_file_holding_its_target_differ(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "x").symlink_to("target")
    (two / "x").write_bytes(b"target")
    assert local_tree_digest(str(one)) != local_tree_digest(str(two))


@pytest.mark.parametrize("kind", ["fifo", "folder", "dangling", "file"])
def test_no_link_is_opened(ws: Workspace, data: Path, decoy: Path, tmp_path: Path, kind: str) -> None:
    """A FIFO would block the runner, a folder fail it, a file be read for the job: none is opened."""
    where = {"fifo": tmp_path / "pipe", "folder": decoy, "dangling": tmp_path / "missing",
             "file": decoy / "secret.txt"}[kind]
    if kind == "fifo":
        os.mkfifo(where)
    (data / "link").symlink_to(where)
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(content_digest(ws, None, str(data), folder=True)),
                              daemon=True)  # a FIFO opened would block it: the test fails, never hangs
    reader.start()
    reader.join(20)
    assert found and found[0].startswith("sha256:"), "the digest opened the link"
    digest = found[0]
    assert content_digest(ws, fsspec.filesystem("file"), str(data), folder=True) == digest
    assert local_tree_digest(str(data)).startswith("sha256:")


def test_a_file_swapped_for_a_link_after_the_listing_is_not_followed(
        ws: Workspace, data: Path, decoy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between listing and reading, a job may replace a listed file with a link: reading fails rather
    than follow it."""
    from runner.workspace import digests

    listed = digests._local_listing

    def listing_then_swap(*args: object, **kwargs: object) -> object:
        entries = listed(*args, **kwargs)  # type: ignore[arg-type]
        (data / "sub" / "b.txt").unlink()
        (data / "sub" / "b.txt").symlink_to(decoy / "secret.txt")
        return entries

    monkeypatch.setattr(digests, "_local_listing", listing_then_swap)
    with pytest.raises(StorageError, match="cannot read"):
        content_digest(ws, None, str(data), folder=True)


def test_a_folder_swapped_for_a_link_after_the_listing_is_not_followed(
        ws: Workspace, data: Path, decoy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.workspace import digests

    listed = digests._local_listing

    def listing_then_swap(*args: object, **kwargs: object) -> object:
        entries = listed(*args, **kwargs)  # type: ignore[arg-type]
        (data / "sub").rename(decoy / "sub")  # the same files, now outside the tree
        (data / "sub").symlink_to(decoy / "sub")
        return entries

    monkeypatch.setattr(digests, "_local_listing", listing_then_swap)
    with pytest.raises(StorageError, match="cannot read"):
        content_digest(ws, None, str(data), folder=True)
