"""``runner job validate`` refuses a build context holding a link to a FIFO (made in ``tmp_path``,
outside the context) with one error at the ``environment.build.path`` line naming the link (exit 2, a
hint, no traceback), before anything is built or packaged, and never opens the FIFO (the subprocess
would time out)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JOB = """\
command: echo hello
environment:
  build:
    path: ./ctx
"""


def test_validate_refuses_a_link_to_a_fifo_in_the_build_context(workspace_dir: Path, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\n")
    os.mkfifo(tmp_path / "pipe")
    (context / "to-pipe").symlink_to(tmp_path / "pipe")
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(workspace_dir), "job",
                             "validate", "--file", str(job)], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    first, hint = result.stderr.strip().splitlines()
    assert first == (f"error: {job}:4:5: environment.build.path: the folder '{context}' holds an entry a "
                     "Docker build context cannot take: 'to-pipe' (a link to a FIFO)")
    assert hint.startswith("  hint: ") and "remove" in hint
    assert "a Ray job's package takes what a link names" in hint
