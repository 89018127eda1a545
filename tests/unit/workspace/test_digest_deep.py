"""Content digests of a local tree deeper than Python's recursion limit: every folder is opened once,
relative to its parent (no link followed), so a chain of N folders costs O(N) opens, not one walk from
the root per folder and per file (N² / 2), and a fixed number of descriptors whatever the depth.

The digest is the one the format defines (each file's relative path, size and SHA-256, a link's target,
names in ``skip`` left out), computed here by hand. Trees live in this test's ``tmp_path`` and are
removed by it (pytest's cleanup recurses)."""

from __future__ import annotations

import hashlib
import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, deep_scratch, descriptor_limit, make_chain

from runner.errors import StorageError
from runner.workspace import digests
from runner.workspace.db import Workspace
from runner.workspace.digests import content_digest, local_tree_digest


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _deep_tree(top: Path, outside: Path) -> tuple[str, str]:
    """A chain ``DEEP`` folders deep with files, a link and skipped names on the way; its digest with
    ``.git`` skipped and with nothing skipped, computed by hand."""
    deepest = make_chain(top, DEEP, data=b"at the bottom\n")
    half = "/".join(["a"] * (DEEP // 2))
    (top / half / "mid.txt").write_bytes(b"half way\n")
    (top / half / "a.txt").write_bytes(b"beside the chain\n")  # sorts before "a/..."
    (top / half / ".git").mkdir()
    (top / half / ".git" / "HEAD").write_bytes(b"ref\n")
    os.symlink(outside / "secret.txt", deepest / "link")
    (top / "top.txt").write_bytes(b"top\n")
    bottom = "/".join(["a"] * DEEP)

    def file(rel: str, data: bytes) -> tuple[str, str]:
        return rel, f"{rel}\0{len(data)}\0{hashlib.sha256(data).hexdigest()}\n"

    target = hashlib.sha256(os.fsencode(outside / "secret.txt")).hexdigest()
    lines = [file(f"{bottom}/f.txt", b"at the bottom\n"), file(f"{half}/mid.txt", b"half way\n"),
             file(f"{half}/a.txt", b"beside the chain\n"), file("top.txt", b"top\n"),
             (f"{bottom}/link", f"{bottom}/link\0link\0{target}\n")]
    git = file(f"{half}/.git/HEAD", b"ref\n")

    def digest(entries: list[tuple[str, str]]) -> str:
        total = hashlib.sha256()
        for _rel, line in sorted(entries):
            total.update(line.encode())
        return f"sha256:{total.hexdigest()}"

    return digest(lines), digest([*lines, git])


def test_a_deep_tree_has_the_digest_the_format_defines(scratch: Path, ws: Workspace) -> None:
    outside = scratch / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"never read\n")
    skipped, whole = _deep_tree(scratch / "t", outside)
    assert local_tree_digest(str(scratch / "t"), skip=(".git",)) == skipped
    assert content_digest(ws, None, str(scratch / "t"), folder=True) == whole
    assert content_digest(ws, None, str(scratch / "t"), folder=True, skip=(".git",)) == skipped


def test_each_folder_is_opened_once_and_few_stay_open(scratch: Path, ws: Workspace,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    outside = scratch / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"never read\n")
    skipped, _whole = _deep_tree(scratch / "t", outside)
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: object, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    monkeypatch.setattr(os, "open", counting_open)
    resource.setrlimit(resource.RLIMIT_NOFILE, (descriptor_limit(64), hard))  # far fewer than one per level
    try:
        assert local_tree_digest(str(scratch / "t")) == skipped  # .git and __pycache__ skipped
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    # listing: each folder once down and once up (".."); hashing: the same again, and each file once
    assert len(opened) <= 4 * DEEP + 50, f"{len(opened)} opens for a tree {DEEP} folders deep"


def test_a_folder_moved_while_its_tree_is_hashed_is_not_read_elsewhere(
        tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between listing and reading, a job moves a folder under another parent and puts a link where
    its parent was: the files are looked for where the listing found them, by name, never through it."""
    root, decoy = tmp_path / "data", tmp_path / "decoy"
    (root / "p" / "q").mkdir(parents=True)
    (root / "p" / "q" / "one.txt").write_bytes(b"one\n")
    (root / "p" / "two.txt").write_bytes(b"two\n")
    decoy.mkdir()
    (decoy / "two.txt").write_bytes(b"decoy\n")
    listed = digests._local_listing

    def listing_then_move(*args: object, **kwargs: object) -> object:
        entries = listed(*args, **kwargs)  # type: ignore[arg-type]
        os.rename(root / "p", tmp_path / "moved")
        os.symlink(decoy, root / "p")
        return entries

    monkeypatch.setattr(digests, "_local_listing", listing_then_move)
    with pytest.raises(StorageError, match="cannot read"):
        content_digest(ws, None, str(root), folder=True)
