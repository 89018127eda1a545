"""The process backend: what a job's command starts in a session of its own (``setsid``) and leaves
running is killed once the command exits, before the outputs are uploaded, and the job says so."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, show, wait_for_status, write_job


def _alive(pid: int) -> bool:
    """A process that runs (a zombie, ended but not yet reaped, runs no more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] != b"Z"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "background-worker"])
def test_a_setsid_child_left_running_is_killed_before_the_upload(workspace_dir: Path, tmp_path: Path,
                                                                 stream: bool) -> None:
    ws = workspace_dir
    pid_file = tmp_path / "late.pid"
    name = f"leftover-{'s' if stream else 'b'}"
    # the late writer records its pid, then appends to the output after the command has exited
    job = write_job(tmp_path, f"""
        command: >-
          echo early > ${{{{outputs.o}}}}/f &&
          (setsid sh -c 'echo $$ > {pid_file}; sleep 3; echo late >> ${{{{outputs.o}}}}/f'
          > /dev/null 2>&1 &) &&
          while [ ! -s {pid_file} ]; do sleep 0.05; done; echo main-done
        outputs:
          o: {{type: uri_folder, mode: upload}}
        environment:
          image: runner/busybox:latest
        """)
    args = ["job", "create", "--file", str(job), "--backend", "process", "--name", name]
    result = cli(ws, *args, *(["--stream"] if stream else []))
    assert result.returncode == 0, result.stdout + result.stderr
    record = show(ws, name) if stream else wait_for_status(ws, name, {"Completed", "Failed", "Canceled"})
    assert record["status"] == "Completed", record
    late = int(pid_file.read_text())
    try:
        assert not _alive(late), f"the late writer (pid {late}) still runs after its job ended"
    finally:
        if _alive(late):
            os.kill(late, 9)
    assert datastore_file(ws, f"azureml/{name}/o/f").read_text() == "early\n"
    # the late writer and its ``sleep``
    assert any(re.match(r"stopped [12] process\(es\) the command left running", w)
               for w in record["extra"]["warnings"]), record["extra"]
