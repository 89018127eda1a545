"""A job in a real container prints escape sequences meant to drive the terminal of whoever follows it
(the window title, the clipboard by OSC 52, a hyperlink, a cursor moved up over earlier lines, concealed
text, an 8-bit CSI), thousands of times so they straddle the chunks the log is read in. ``runner job
create --stream`` and ``runner job stream`` print each as harmless text (``\\x1b]0;...``), keep its
colours, carriage returns and UTF-8 text whole; the job's stored log keeps what it printed, byte for byte."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jobs_support import RUNNER, write_job

pytestmark = pytest.mark.docker

REPEAT = 3000  # ~250 KB of log: several 64 KiB reads, sequences cut at their edges
JOB = f"""\
command: |
  i=0
  while [ $i -lt {REPEAT} ]; do
    printf '\\033]0;pwned\\007\\033]52;c;cm0gLXJmIH4=\\007\\033[1A\\033[2K\\033[31mred\\033[0m '
    printf '\\033]8;;https://evil.example/\\033\\\\link\\033]8;;\\033\\\\ '
    printf '\\033[8mhidden\\033[0m \\302\\233 caf\\303\\251 10%%\\r\\n'
    i=$((i+1))
  done
environment:
  image: runner/busybox:latest
"""
LINE_RAW = ("\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[1A\x1b[2K\x1b[31mred\x1b[0m "
            "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ \x1b[8mhidden\x1b[0m \x9b café 10%\r\n")
LINE_SHOWN = ("\\x1b]0;pwned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[1A\\x1b[2K\x1b[31mred\x1b[0m "
              "\\x1b]8;;https://evil.example/\\x1b\\link\\x1b]8;;\\x1b\\ "
              "\\x1b[8mhidden\x1b[0m \\x9b café 10%\r\n")


def _runner(ws: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*RUNNER, "--workspace", str(ws), *args], capture_output=True, timeout=240,
                          check=False, env={**os.environ})


def _log_part(stdout: bytes) -> str:
    text = stdout.decode("utf-8")  # strict: every character arrived whole
    return text[:text.index("\nExecution Summary\n")]


def test_streamed_log_cannot_drive_the_terminal(workspace_dir: Path, tmp_path: Path,
                                                docker_client: Any) -> None:
    job = write_job(tmp_path / "job", JOB)
    created = _runner(workspace_dir, "job", "create", "--file", str(job), "--name", "esc", "--stream")
    assert created.returncode == 0, created.stderr.decode(errors="replace")
    stored = (workspace_dir / "jobs" / "esc" / "user_logs" / "std_log.txt").read_bytes()
    # the log keeps what the job printed (compared as counts: a failed diff of 250 KB takes minutes)
    assert stored.count(LINE_RAW.encode()) == REPEAT and len(stored) == len(LINE_RAW.encode()) * REPEAT

    streamed = _runner(workspace_dir, "job", "stream", "--name", "esc")
    assert streamed.returncode == 0, streamed.stderr.decode(errors="replace")
    assert streamed.stdout.startswith(b"RunId: esc\n")
    for stdout in (created.stdout, streamed.stdout.removeprefix(b"RunId: esc\n")):
        log = _log_part(stdout)
        assert log[:log.index("\n") + 1] == LINE_SHOWN
        assert log.count(LINE_SHOWN) == REPEAT and len(log) == len(LINE_SHOWN) * REPEAT
        assert log.replace("\x1b[31m", "").replace("\x1b[0m", "").count("\x1b") == 0
        assert "\x07" not in log and "\x9b" not in log
