"""A workspace named explicitly (``--workspace``/``RUNNER_WORKSPACE``) that does not exist is refused by
the commands that read or change what is in it (a mistyped path in CI must not pass as an empty
workspace), and created, said once on stderr, by the commands that create things in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

JOB = "command: echo hi\nenvironment:\n  image: runner/busybox:latest\n"


def _runner(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "RUNNER_FORKSERVER": "0", **(env or {})})


@pytest.mark.parametrize("command", [["job", "list"], ["model", "list"], ["job", "show", "--name", "x"],
                                     ["datastore", "list"], ["cache", "list"], ["ui", "--port", "0"],
                                     ["job", "download", "--name", "x", "--all"]])
def test_a_missing_workspace_is_refused_by_readers(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "x" / "typo"
    result = _runner(*command, env={"RUNNER_WORKSPACE": str(typo)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: workspace {typo} does not exist"), result.stderr
    assert "RUNNER_WORKSPACE" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not typo.exists() and not typo.parent.exists()


def test_the_option_is_named_when_it_chose_the_workspace(tmp_path: Path) -> None:
    result = _runner("--workspace", str(tmp_path / "typo"), "job", "list")
    assert result.returncode == 1
    assert "--workspace" in result.stderr and "RUNNER_WORKSPACE" not in result.stderr.splitlines()[0]


def test_a_folder_that_is_not_a_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "train.py").write_text("print(1)\n")
    result = _runner("-w", str(tmp_path / "project"), "model", "list")
    assert result.returncode == 1, result.stderr
    assert "is not a runner workspace" in result.stderr and "hint:" in result.stderr
    assert sorted(p.name for p in (tmp_path / "project").iterdir()) == ["train.py"]


def test_an_empty_folder_is_a_new_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()  # `mktemp -d`: made for the workspace, nothing to say
    result = _runner("-w", str(ws), "job", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]" and result.stderr == ""


def test_a_creating_command_creates_it_and_says_so_once(tmp_path: Path) -> None:
    ws = tmp_path / "new" / "ws"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(b"w")
    create = ("model", "create", "--name", "m", "--path", str(tmp_path / "m"), "-o", "json")
    first = _runner("-w", str(ws), *create)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(f"created workspace {ws}") == 1, first.stderr
    assert (ws / "runner.db").exists()
    again = _runner("-w", str(ws), *create)
    assert again.returncode == 0, again.stderr
    assert "created workspace" not in again.stderr
    listed = _runner("-w", str(ws), "model", "list")
    assert listed.returncode == 0 and "m" in listed.stdout


def test_validate_does_not_need_the_workspace_to_exist(tmp_path: Path) -> None:
    (tmp_path / "job.yml").write_text(JOB)
    ws = tmp_path / "fresh"
    result = _runner("-w", str(ws), "job", "validate", "--file", str(tmp_path / "job.yml"), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith("{")


def test_the_created_note_comes_before_the_output(tmp_path: Path) -> None:
    """On a terminal (stdout unbuffered, both streams on one screen) the note is the first line, then the
    command's output; a table (flushed line by line) and a JSON document alike."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(b"w")
    for n, output in enumerate(("table", "json")):
        ws = tmp_path / f"new{n}" / "ws"
        result = subprocess.run(
            [sys.executable, "-m", "runner", "-w", str(ws), "model", "create", "--name", "m", "--path",
             str(tmp_path / "m"), "-o", output], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=60, env={**os.environ, "RUNNER_FORKSERVER": "0", "PYTHONUNBUFFERED": "1"})
        assert result.returncode == 0, result.stdout
        first, rest = result.stdout.split("\n", 1)
        assert first == f"note: created workspace {ws}", result.stdout
        assert "created workspace" not in rest and "m" in rest


def test_a_failed_creating_command_says_only_its_error(tmp_path: Path) -> None:
    ws = tmp_path / "new" / "ws"
    result = _runner("-w", str(ws), "model", "create", "--name", "m", "--path", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert result.stdout == "" and result.stderr.startswith("error: "), result.stderr
    assert "created workspace" not in result.stderr
