"""A job that writes a folder tree deeper than Python's recursion limit (1,500 levels, made with relative
``mkdir``) in an ``upload`` output and in ./outputs: the job ends with a clear status and no traceback,
the output is moved into its datastore whole, ./outputs is kept, and the job's folders are cleaned up.

The tree stays inside this test's throwaway workspace, removed with ``rm -rf`` at the end (pytest's own
cleanup of ``tmp_path`` is recursive)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, show, write_job

pytestmark = pytest.mark.docker

LEVELS = 1500


@pytest.fixture
def deep_workspace(workspace_dir: Path) -> Iterator[Path]:
    yield workspace_dir
    subprocess.run(["rm", "-rf", str(workspace_dir)], check=False)


def _deepest(root: Path, levels: int) -> Path:
    """The folder ``levels`` levels of ``a`` below ``root``, reached one level at a time (no long path)."""
    path = root
    for _ in range(levels):
        path = path / "a"
    return path


def _depth_and_file(root: Path) -> tuple[int, str | None]:
    """How many ``a`` folders nest under ``root`` and the text of ``f.txt`` in the deepest one, read
    with descriptors relative to each level (a path this long is still below PATH_MAX here, but the
    walk must not rely on it)."""
    import os
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    depth = 0
    try:
        while True:
            try:
                child = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                break
            os.close(fd)
            fd, depth = child, depth + 1
        try:
            text = os.read(os.open("f.txt", os.O_RDONLY, dir_fd=fd), 100).decode()
        except FileNotFoundError:
            text = None
        return depth, text
    finally:
        os.close(fd)


def test_a_tree_deeper_than_the_recursion_limit_is_kept_whole(deep_workspace: Path, tmp_path: Path) -> None:
    ws = deep_workspace
    nest = f"for i in $(seq {LEVELS}); do mkdir a && cd a || exit 9; done && echo deep > f.txt"
    job = write_job(tmp_path, f"""
        command: >-
          (cd ${{{{outputs.o}}}} && {nest}) &&
          (cd outputs && {nest}) &&
          echo top > ${{{{outputs.o}}}}/top.txt
        outputs:
          o:
            type: uri_folder
            mode: upload
        environment:
          image: runner/busybox:latest
        """, name="deep.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "deep1", timeout=600)
    record = show(ws, "deep1")
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    assert "RecursionError" not in result.stderr + result.stdout + str(record)
    assert record["status"] == "Completed", (record.get("error"), result.stderr[-3000:])
    assert result.returncode == 0

    target = datastore_file(ws, "azureml/deep1/o")
    assert (target / "top.txt").read_text() == "top\n"
    assert _depth_and_file(target) == (LEVELS, "deep\n")
    staging = ws / "jobs" / "deep1" / "outputs" / "o"
    assert not staging.exists() or not any(staging.iterdir())  # uploaded, so the staged copy is gone

    # ./outputs: in the artifacts as deep as they go, and whole in the job's own folder
    code_outputs = ws / "jobs" / "deep1" / "code" / "outputs"
    assert _depth_and_file(code_outputs) == (LEVELS, "deep\n")
    artifacts = datastore_file(ws, "ExperimentRun/dcid.deep1/outputs")
    assert _depth_and_file(artifacts)[0] >= 1

    # ``job download`` copies at most MAX_DEPTH folders down: one clear error, no traceback
    got = cli(ws, "job", "download", "--name", "deep1", "--output-name", "o", "--download-path",
              str(tmp_path / "dl"))
    assert got.returncode != 0 and "Traceback" not in got.stderr
    assert "folders deep" in got.stderr and "cp -r" in got.stderr
