"""A job's ``user_logs/std_log.txt`` keeps what its command wrote to stdout and stderr in the order it was
written, in a real container as with the process backend (one stream: the container's stderr is its
stdout, so Docker's two log pipes cannot reorder them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, write_job

pytestmark = pytest.mark.docker

INTERLEAVED = """\
command: for i in $(seq 1 40); do echo out$i; echo err$i >&2; done; echo "shell=$0"
environment:
  image: runner/busybox:latest
"""


def test_stdout_and_stderr_keep_their_order_in_a_container(workspace_dir: Path, docker_client: Any) -> None:
    job = write_job(workspace_dir.parent, INTERLEAVED)
    expected = [f"{kind}{i}" for i in range(1, 41) for kind in ("out", "err")]
    for attempt in range(3):
        name = f"order{attempt}"
        result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", name, "--stream")
        assert result.returncode == 0, result.stderr
        lines = (workspace_dir / "jobs" / name / "user_logs" / "std_log.txt").read_text().splitlines()
        assert lines[:80] == expected
        assert lines[80] == "shell=/bin/sh"  # the command still runs as `sh -c COMMAND`
        assert result.stdout.splitlines()[:80] == expected
