"""Progress bars: a job's transfer that runs longer than a second draws one on stderr when it is a
terminal (a pseudo-terminal here), and `--quiet` turns it off."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from jobs_support import RUNNER, create_azure_datastore, write_job

pytestmark = pytest.mark.azure

BAR = "━"  # rich's bar glyph


def _run_on_a_terminal(ws: Path, *args: str) -> tuple[int, str]:
    """``runner ARGS`` with stderr on a pseudo-terminal; returns its exit code and what it drew there."""
    controller, terminal = os.openpty()
    proc = subprocess.Popen([*RUNNER, "--workspace", str(ws), *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=terminal, env={**os.environ, "COLUMNS": "120"})
    os.close(terminal)
    drawn = bytearray()

    def drain() -> None:  # read as it comes: a full terminal buffer would block the writer
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO once every writer has closed the terminal
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        code = proc.wait(timeout=300)
    finally:
        reader.join(timeout=30)
        os.close(controller)
    return code, drawn.decode(errors="replace")


def test_a_long_upload_draws_a_progress_bar_unless_quiet(workspace_dir: Path, tmp_path: Path,
                                                         azure_container: Any) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container)
    # 192 MiB to Azurite takes seconds here (its uploads run at tens of MB/s), past the bar's 1 s delay
    job = write_job(tmp_path, """
        command: head -c 201326592 /dev/urandom > ${{outputs.big}}/big.bin
        outputs:
          big:
            type: uri_folder
            mode: upload
            path: azureml://datastores/az/paths/progress/${{name}}
        compute: local-process
        environment:
          image: runner/busybox:latest
        """)
    code, drawn = _run_on_a_terminal(ws, "job", "create", "--file", str(job), "--stream", "--name", "bar1")
    assert code == 0, drawn
    assert "upload" in drawn and BAR in drawn, drawn[-2000:]

    code, drawn = _run_on_a_terminal(ws, "--quiet", "job", "create", "--file", str(job), "--stream",
                                     "--name", "bar2")
    assert code == 0, drawn
    assert BAR not in drawn, drawn[-2000:]
