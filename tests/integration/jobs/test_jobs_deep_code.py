"""A job whose ``code`` folder nests deeper than Python's recursion limit (1,200 levels, made with relative
``mkdir``): ``job create`` snapshots it whole (no ``RecursionError``, no traceback), the container sees
the deepest file in its working directory, and the job completes.

The trees live in this test's throwaway folders and are removed by it with no recursion (pytest's own
cleanup of ``tmp_path`` recurses)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, chain_of, make_chain
from jobs_support import cli, show, write_job

from mounts.transfer.tree import remove_tree

pytestmark = pytest.mark.docker


@pytest.fixture
def deep_workspace(workspace_dir: Path, tmp_path: Path) -> Iterator[Path]:
    yield workspace_dir
    for made in (workspace_dir, tmp_path / "src"):
        assert remove_tree(made), f"{made} was not removed"


def test_a_code_folder_deeper_than_the_recursion_limit_is_snapshotted_and_runs(deep_workspace: Path,
                                                                                 tmp_path: Path) -> None:
    ws = deep_workspace
    make_chain(tmp_path / "src", data=b"from the bottom\n")
    (tmp_path / "src" / "__pycache__").mkdir()
    job = write_job(tmp_path, """
        command: >-
          depth=0 && while cd a 2>/dev/null; do depth=$((depth+1)); done &&
          cat f.txt && echo "depth=$depth"
        code: ./src
        environment:
          image: runner/busybox:latest
        """, name="deep-code.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "deepcode1", timeout=600)
    record = show(ws, "deepcode1")
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    assert "RecursionError" not in result.stderr + result.stdout + str(record)
    assert record["status"] == "Completed", (record.get("error"), result.stderr[-3000:])
    assert "from the bottom" in result.stdout and f"depth={DEEP}" in result.stdout
    code = ws / "jobs" / "deepcode1" / "code"
    assert chain_of(code) == (DEEP, b"from the bottom\n") and not (code / "__pycache__").exists()
