"""Symbolic links in an output: a link to a file inside the output is uploaded as that file; a link out
of the output (to a host path the job chose), a dangling link or a link to a folder is not followed."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.transfer.uploader import list_local_files
from mounts.upload import UploadStrategy


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    """A staged output with a file, links to it (relative, absolute), and links that must not count."""
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "secret.txt").write_text("HOST SECRET")
    root = tmp_path / "staged"
    (root / "ckpt").mkdir(parents=True)
    (root / "ckpt" / "model.bin").write_bytes(b"weights")
    (root / "latest").symlink_to("ckpt/model.bin")
    (root / "absolute").symlink_to(root / "ckpt" / "model.bin")
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "dangling").symlink_to("nowhere")
    (root / "folder-link").symlink_to("ckpt")
    return root


def test_only_links_to_files_inside_the_output_are_listed(staged: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        files = list_local_files(staged)
    assert [(f.rel, f.link) for f in files] == [("absolute", True), ("ckpt/model.bin", False),
                                                 ("latest", True)]
    assert all(f.path == staged / "ckpt" / "model.bin" for f in files)
    assert {name for name in ("leak.txt", "dangling", "folder-link") if name in caplog.text} == {
        "leak.txt", "dangling", "folder-link"}


def test_a_local_target_gets_copies_of_inner_links_and_nothing_from_outside(staged: Path,
                                                                           tmp_path: Path) -> None:
    dest = tmp_path / "datastore" / "out"
    target = Target(fs=LocalFileSystem(), path=str(dest), url=str(dest), local_path=dest)
    UploadStrategy(quiet=True).finalize(target, staged)
    stored = {p.relative_to(dest).as_posix(): p for p in dest.rglob("*")}
    assert sorted(stored) == ["absolute", "ckpt", "ckpt/model.bin", "latest"]
    assert not any(p.is_symlink() for p in stored.values())  # no link into the cleared staging folder
    assert {rel: p.read_bytes() for rel, p in stored.items() if p.is_file()} == {
        "absolute": b"weights", "ckpt/model.bin": b"weights", "latest": b"weights"}
    assert (tmp_path / "host" / "secret.txt").read_text() == "HOST SECRET"  # untouched


def test_a_remote_target_never_receives_what_a_link_out_of_the_output_names(staged: Path) -> None:
    root = f"/links-{os.urandom(4).hex()}"
    fs = fsspec.filesystem("memory")
    try:
        UploadStrategy(quiet=True).finalize(Target(fs=fs, path=root, url=f"memory://{root}"), staged)
        stored = {p[len(root) + 1:]: fs.cat_file(p) for p in fs.find(root)}
    finally:
        if fs.exists(root):
            fs.rm(root, recursive=True)
    assert stored == {"absolute": b"weights", "ckpt/model.bin": b"weights", "latest": b"weights"}
