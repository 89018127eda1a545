"""``runner model restore --name x`` (and ``data restore``) without ``--version`` restores the whole asset
but leaves archived a version archived on its own: its one line says which versions stay archived and how
to restore them (``--version``), rather than "(every version)"; with none left, "(every version)"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app


def _run(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.mark.parametrize(("group", "noun", "type_"), [("model", "model", "custom_model"),
                                                       ("data", "data asset", "uri_file")])
def test_a_whole_restore_names_the_versions_that_stay_archived(tmp_path: Path, group: str, noun: str,
                                                               type_: str) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "f.txt").write_text("x\n")
    for version in ("1", "2", "3"):
        _run(ws, group, "create", "--name", "m", "--version", version, "--type", type_,
             "--path", str(tmp_path / "f.txt"))
    _run(ws, group, "archive", "--name", "m", "--version", "1")  # archived on its own
    _run(ws, group, "archive", "--name", "m")
    said = _run(ws, group, "restore", "--name", "m")
    assert "every version" not in said
    assert said.startswith(f"restored {noun} 'm'")
    assert "version 1 stays archived" in said
    assert f"runner {group} restore --name m --version 1" in said
    _run(ws, group, "archive", "--name", "m", "--version", "3")
    _run(ws, group, "archive", "--name", "m")
    said = _run(ws, group, "restore", "--name", "m")
    assert "versions 1, 3 stay archived" in said  # oldest first, each with its own --version
    assert f"runner {group} restore --name m --version <version>" in said
    _run(ws, group, "restore", "--name", "m", "--version", "1")
    _run(ws, group, "restore", "--name", "m", "--version", "3")
    _run(ws, group, "archive", "--name", "m")
    assert _run(ws, group, "restore", "--name", "m") == f"restored {noun} 'm' (every version)"
