"""A component's ``environment: file:<env.yml>`` is read from the component's folder, as its ``code:`` and
``conda_file`` are, when a pipeline in another folder uses it as a step (it was read from the pipeline's
folder: 'does not exist', or another file of that name). Everything lives in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path

from jobs_support import cli


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_components_environment_file_is_read_from_the_components_folder(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _write(tmp_path / "components" / "env.yml", "name: e\nimage: runner/python:3.11\n")
    _write(tmp_path / "components" / "comp.yml",
           "name: reader\nversion: 1\ncommand: echo hi\nenvironment: file:env.yml\n")
    pipeline = _write(tmp_path / "pipelines" / "p.yml",
                      "type: pipeline\njobs:\n  s:\n    component: ../components/comp.yml\n")
    result = cli(ws, "job", "validate", "--file", str(pipeline))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "components/env.yml" in result.stdout and "pipelines/env.yml" not in result.stdout, result.stdout
