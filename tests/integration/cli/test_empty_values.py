"""Values given explicitly but empty are refused, naming where they were given, instead of silently
meaning something else: ``--workspace ""`` and ``RUNNER_WORKSPACE=`` (which used the default workspace)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.workspace.db import Workspace


def _runner(*args: str, env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True,
                          timeout=60, cwd=home,
                          env={**os.environ, "HOME": str(home), "XDG_DATA_HOME": "", **env})


@pytest.mark.parametrize("option", ["--workspace", "-w"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_workspace_option_is_refused(tmp_path: Path, option: str, value: str) -> None:
    result = _runner(option, value, "model", "list", env={"RUNNER_WORKSPACE": str(tmp_path / "ws")},
                     home=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and "--workspace" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / ".local").exists() and not (tmp_path / "ws").exists()


def test_an_empty_workspace_variable_is_refused(tmp_path: Path) -> None:
    result = _runner("model", "list", env={"RUNNER_WORKSPACE": ""}, home=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "RUNNER_WORKSPACE" in result.stderr and "hint:" in result.stderr
    assert not (tmp_path / ".local").exists()  # the default workspace was not created
    (tmp_path / "ws").mkdir()  # (a missing one is refused by model list: tests/.../test_workspace_exists.py)
    ok = _runner("--workspace", str(tmp_path / "ws"), "model", "list", env={"RUNNER_WORKSPACE": ""},
                 home=tmp_path)
    assert ok.returncode == 0, ok.stderr  # an explicit --workspace wins over the empty variable


def test_an_empty_workspace_dir_is_refused_in_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("RUNNER_WORKSPACE", "")
    with pytest.raises(SpecError, match="RUNNER_WORKSPACE"):
        Workspace()
    with pytest.raises(SpecError, match="empty"):
        Workspace(" ")
    assert not (tmp_path / ".local").exists()
