"""``runner environment show -o yaml`` prints a registered conda file as a YAML block (``|``) that reads
as the file did, and loads back to the same text."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from ruamel.yaml import YAML

from runner.cli.main import app

CONDA = ("name: train\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip:\n"
         "    - six==1.16.0\n")


def _cli(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_the_conda_file_is_shown_as_a_block(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "conda.yml").write_text(CONDA)
    _cli(ws, "environment", "create", "--name", "e", "--image", "runner/python:3.11",
         "--conda-file", str(tmp_path / "conda.yml"))
    shown = _cli(ws, "environment", "show", "--name", "e", "-o", "yaml")
    assert "conda_file: |\n  name: train\n  channels:\n    - conda-forge\n" in shown, shown
    assert YAML(typ="safe").load(shown)["conda_file"] == CONDA
    queried = _cli(ws, "environment", "show", "--name", "e", "-o", "yaml", "--query", "{c: conda_file}")
    assert queried.startswith("c: |\n  name: train\n"), queried
