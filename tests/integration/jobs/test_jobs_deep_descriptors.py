"""A job run with the usual open-file limit (1,024) writes an ``upload`` output nested 1,500 levels deep
(relative ``mkdir``): the runner moves it into the local datastore whole, holding a few folders open at a
time rather than one per level, and the job completes with no error.

The tree stays inside this test's throwaway workspace, removed with no recursion at the end."""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import chain_of
from jobs_support import RUNNER, datastore_file, show, write_job

from mounts.transfer.tree import remove_tree

pytestmark = pytest.mark.docker

LEVELS = 1500
LIMIT = 1024


@pytest.fixture
def deep_workspace(workspace_dir: Path) -> Iterator[Path]:
    yield workspace_dir
    remove_tree(workspace_dir)


def _usual_limit() -> None:
    """In the runner's process, before it starts: the open-file limit most machines give."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, hard))


def test_an_output_deeper_than_the_open_file_limit_is_moved_whole(deep_workspace: Path,
                                                                 tmp_path: Path) -> None:
    job = write_job(tmp_path, f"""
        command: >-
          cd ${{{{outputs.o}}}} &&
          for i in $(seq {LEVELS}); do mkdir a && cd a || exit 9; done && echo deep > f.txt
        outputs:
          o:
            type: uri_folder
            mode: upload
        environment:
          image: runner/busybox:latest
        """, name="deep-fds.yml")
    result = subprocess.run([*RUNNER, "--workspace", str(deep_workspace), "job", "create", "--file", str(job),
                             "--stream", "--name", "deepfd1"], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ), preexec_fn=_usual_limit, check=False)
    record = show(deep_workspace, "deepfd1")
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    assert record["status"] == "Completed", (record.get("error"), result.stderr[-3000:])
    assert result.returncode == 0
    assert chain_of(datastore_file(deep_workspace, "azureml/deepfd1/o")) == (LEVELS, b"deep\n")
