"""``runner -w myws <creating command>`` for a folder that does not exist creates it and says so; a name
with no ``/`` looks like an Azure ML workspace name (az's ``-w``), so the note adds that ``-w`` before the
command is runner's workspace folder here, and that az's ``--workspace-name`` (after the command) is
taken and ignored. A path (with a ``/``) gets the plain note. Each run in its own process, in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "HOME": str(cwd), "XDG_DATA_HOME": ""}
    env.pop("RUNNER_WORKSPACE", None)
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _create(cwd: Path, workspace: str) -> str:
    (cwd / "f.txt").write_text("x\n")
    result = _runner(cwd, "-w", workspace, "model", "create", "--name", "m", "--path", "f.txt")
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_bare_name_that_was_created_says_w_is_the_folder(tmp_path: Path) -> None:
    said = _create(tmp_path, "myws")
    note = [line for line in said.splitlines() if line.startswith("note: created workspace")]
    assert len(note) == 1, said
    assert note[0].startswith(f"note: created workspace {tmp_path / 'myws'}")
    assert "-w is the workspace folder here" in note[0]
    assert "--workspace-name" in note[0] and "ignored" in note[0]
    assert (tmp_path / "myws").is_dir()
    again = _create(tmp_path, "myws")  # it exists now: no note at all
    assert "created workspace" not in again


def test_a_path_gets_the_plain_note(tmp_path: Path) -> None:
    said = _create(tmp_path, "./new-ws")
    assert f"note: created workspace {tmp_path / 'new-ws'}\n" in said
    assert "workspace folder here" not in said
