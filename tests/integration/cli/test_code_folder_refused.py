"""``runner job validate`` and ``runner job create`` refuse a ``code`` folder holding a FIFO or a socket
with one error at the ``code:`` line (exit 2, a hint, no traceback), before anything is queued, and
never block on the FIFO (the subprocess would time out). Everything is made in ``tmp_path``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

JOB = """\
command: python train.py
code: ./src
environment:
  image: runner/busybox:latest
"""


def _runner(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", "--workspace", str(ws), *args],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_a_fifo_and_a_socket_in_code_are_one_clear_error(workspace_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "train.py").write_text("print(1)\n")
    os.mkfifo(source / "sub" / "pipe")
    with monkeypatch.context() as patch:
        patch.chdir(source)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind("sock")
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    for verb in ("validate", "create"):
        result = _runner(workspace_dir, "job", verb, "--file", str(job), "--name", "badcode")
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        first, hint = result.stderr.strip().splitlines()
        assert first == (f"error: {job}:2:1: code: the folder '{source}' holds 2 entries a code snapshot "
                         "cannot take: 'sock' (a socket), 'sub/pipe' (a FIFO)")
        assert hint.startswith("  hint: ") and "remove" in hint
    assert _runner(workspace_dir, "job", "show", "--name", "badcode").returncode != 0  # nothing queued
