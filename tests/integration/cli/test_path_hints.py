"""A local ``--path`` that does not exist (``model create``, ``data create``) is named with a hint for the
command line (relative to the current directory), not for a job YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli


@pytest.mark.parametrize("kind", ["model", "data"])
def test_a_missing_local_path_gets_a_command_line_hint(workspace_dir: Path, tmp_path: Path,
                                                       kind: str) -> None:
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "model.pkl").write_text("m")
    result = cli(workspace_dir, kind, "create", "--name", "m", "--path", str(tmp_path / "here" / "modle.pkl"))
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: --path: '{tmp_path / 'here' / 'modle.pkl'}' does not exist")
    assert "job YAML" not in result.stderr
    assert "relative to the current directory" in result.stderr and "model.pkl" in result.stderr


@pytest.mark.parametrize("kind", ["model", "data"])
def test_a_missing_relative_path_in_an_asset_yaml_names_that_yaml(workspace_dir: Path, tmp_path: Path,
                                                                   kind: str) -> None:
    """A relative ``path:`` in a model (data) YAML is relative to that YAML's folder: the hint says so,
    naming the model (data) YAML, not a job YAML."""
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / f"{kind}.yml"
    spec.write_text(f"name: a\npath: ./missing\n{'type: uri_folder' if kind == 'data' else ''}\n")
    result = cli(workspace_dir, kind, "create", "--file", str(spec))
    assert result.returncode == 1, result.stderr
    assert f"'{tmp_path / 'specs' / 'missing'}' does not exist" in result.stderr
    assert f"relative local paths are relative to the {kind} YAML's folder" in result.stderr, result.stderr
    assert "job" not in result.stderr and f"{kind}.yml" in result.stderr  # the folder's listing
