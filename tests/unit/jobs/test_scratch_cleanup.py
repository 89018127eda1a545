"""The job's ``inputs/`` and ``outputs/`` scratch folders left empty are removed after the job, at any
depth (a job can nest folders deeper than Python's recursion limit), with staged data and links kept
and nothing raised. Everything is made in this test's ``tmp_path`` and removed by it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.jobs.run import _remove_empty_scratch
from runner.workspace.jobdir import JobDir

DEEP = sys.getrecursionlimit() + 500


def _chain(top: Path, depth: int, leaf: str | None = None) -> None:
    """``top/a/a/...`` made one level at a time relative to its parent (no long path)."""
    top.mkdir(parents=True, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            child = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        if leaf is not None:
            os.close(os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)


@pytest.fixture
def job_dir(tmp_path: Path) -> Iterator[JobDir]:
    folder = JobDir(tmp_path / "jobs" / "j1")
    folder.make_private()
    yield folder
    os.system(f"rm -rf '{folder.root}'")  # noqa: S605 - a path this test made


def test_empty_scratch_deeper_than_the_recursion_limit_is_removed(job_dir: JobDir) -> None:
    _chain(job_dir.outputs / "o", DEEP)
    _chain(job_dir.inputs / "i", DEEP)
    _remove_empty_scratch(job_dir)
    assert not job_dir.outputs.exists() and not job_dir.inputs.exists()


def test_staged_data_and_links_stay_whatever_the_depth(job_dir: JobDir, tmp_path: Path) -> None:
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    _chain(job_dir.outputs / "kept", DEEP, leaf="f.txt")  # a failed upload's staged data
    _chain(job_dir.outputs / "empty", DEEP)
    (job_dir.outputs / "link").symlink_to(decoy)
    _remove_empty_scratch(job_dir)
    assert sorted(os.listdir(job_dir.outputs)) == ["kept", "link"]
    assert (job_dir.outputs / "link").is_symlink() and decoy.is_dir()
    depth, fd = 0, os.open(job_dir.outputs / "kept", os.O_RDONLY | os.O_DIRECTORY)
    while True:
        try:
            child = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        except FileNotFoundError:
            break
        os.close(fd)
        fd, depth = child, depth + 1
    assert depth == DEEP and "f.txt" in os.listdir(fd)
    os.close(fd)
