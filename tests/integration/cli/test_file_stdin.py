"""``--file -`` and ``--file /dev/stdin`` read the job from a pipe; its relative paths are relative to
the current directory (a pipe has no folder; they used to resolve against /proc/<pid>/fd)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JOB = """\
command: cat ${{inputs.data}}/numbers.csv
code: ./src
inputs:
  data: {type: uri_folder, path: ./data, mode: download}
environment:
  image: runner/busybox:latest
"""


def _validate(ws: Path, cwd: Path, file: str, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", "--workspace", str(ws), "job", "validate",
                           "--file", file, "-o", "json"], input=text, capture_output=True, text=True,
                          cwd=cwd, timeout=60, env=dict(os.environ))


@pytest.mark.parametrize("file", ["-", "/dev/stdin"])
def test_a_piped_job_resolves_against_the_current_directory(workspace_dir: Path, tmp_path: Path,
                                                             file: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "numbers.csv").write_text("1\n")
    (tmp_path / "src").mkdir()
    result = _validate(workspace_dir, tmp_path, file, JOB)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["code_source"] == str(tmp_path / "src")
    assert str(tmp_path / "data") in json.dumps(plan["inputs"])


@pytest.mark.parametrize("file", ["-", "/dev/stdin"])
def test_an_error_in_a_piped_job_names_its_line(workspace_dir: Path, tmp_path: Path, file: str) -> None:
    result = _validate(workspace_dir, tmp_path, file, 'command: ""\n')
    assert result.returncode == 2, result.stderr
    assert "/proc/" not in result.stderr and ":1:1: command" in result.stderr
