"""az ml's common arguments in a ported script (``runner job create -f job.yml -g rg -w ws``): every
command takes ``--resource-group/-g``, ``--workspace-name/-w`` and ``--subscription`` after its name and
ignores them with one warning line saying which workspace folder runner runs against. ``runner -w
<folder>`` before the command is still runner's workspace folder; a folder given to ``-w`` after the
command is refused (it is az's workspace name there), never silently ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JOB = "command: echo hi\nenvironment:\n  image: runner/busybox:latest\n"


def _runner(cwd: Path, *args: str, workspace: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``runner *args`` (as the installed command names itself) in its own process, in ``cwd``."""
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "HOME": str(cwd), "XDG_DATA_HOME": ""}
    env.pop("RUNNER_WORKSPACE", None)
    if workspace is not None:
        env["RUNNER_WORKSPACE"] = str(workspace)
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize("az", [
    ["-g", "rg", "-w", "ws"],
    ["--resource-group", "rg", "--workspace-name", "ws", "--subscription", "0000-sub"],
    ["--resource-group=rg", "--subscription=0000-sub"],
])
def test_job_validate_takes_and_ignores_them_with_one_warning(tmp_path: Path, az: list[str]) -> None:
    (tmp_path / "job.yml").write_text(JOB)
    ws = tmp_path / "project-ws"
    result = _runner(tmp_path, "job", "validate", "-f", "job.yml", *az, "-o", "json", workspace=ws)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["command"] == "echo hi"  # stdout is still the one JSON document
    [warning] = _warnings(result)
    assert "--resource-group" in warning or "--subscription" in warning, warning
    assert "ignored" in warning and str(ws) in warning and "RUNNER_WORKSPACE" in warning, warning
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ws").exists()  # -w after the command is az's name, not a folder


def test_every_verb_takes_them(tmp_path: Path) -> None:
    ws = tmp_path / "ws-folder"
    ws.mkdir()
    (tmp_path / "model.pkl").write_bytes(b"weights")
    created = _runner(tmp_path, "model", "create", "--name", "m", "--path", "model.pkl", "-g", "rg",
                      "-w", "ws", "-o", "json", workspace=ws)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["version"] == "1" and len(_warnings(created)) == 1
    for args in (["model", "list"], ["model", "show", "-n", "m", "-v", "1"], ["job", "list"],
                 ["model", "update", "-n", "m", "-v", "1", "--set", "description=x"], ["datastore", "list"],
                 ["environment", "list"], ["cache", "list"]):
        result = _runner(tmp_path, *args, "--subscription", "s", "-g", "rg", "-w", "ws", workspace=ws)
        assert result.returncode == 0, (args, result.stderr)
        assert len(_warnings(result)) == 1, (args, result.stderr)
    shown = _runner(tmp_path, "model", "show", "-n", "m", "-v", "1", "-o", "json", workspace=ws)
    assert json.loads(shown.stdout)["description"] == "x" and _warnings(shown) == []


def test_without_them_there_is_no_warning(tmp_path: Path) -> None:
    result = _runner(tmp_path, "job", "list", workspace=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_runner_w_before_the_command_is_still_the_workspace_folder(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"weights")
    created = _runner(tmp_path, "-w", "mine", "model", "create", "--name", "m", "--path", "model.pkl",
                      "-o", "json")
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "mine" / "runner.db").is_file() and _warnings(created) == []
    listed = _runner(tmp_path, "-w", "mine", "model", "list", "-o", "json", "-g", "rg")
    assert listed.returncode == 0, listed.stderr
    assert [m["name"] for m in json.loads(listed.stdout)] == ["m"]
    [warning] = _warnings(listed)
    assert str(tmp_path / "mine") in warning, warning


@pytest.mark.parametrize("value", ["./mine", "mine/", "~/mine", "mine"])
def test_a_folder_after_the_command_is_refused_not_ignored(tmp_path: Path, value: str) -> None:
    (tmp_path / "mine").mkdir()
    result = _runner(tmp_path, "model", "list", "-w", value)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert f"runner -w {value} model list" in result.stderr, result.stderr
    assert not (tmp_path / ".local").exists()  # nothing ran against the default workspace
