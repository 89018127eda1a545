"""A step's inline ``conda_file`` is read from the folder of the YAML that wrote it, not from the current
directory: reuse compares the packages it lists, and ``job validate`` of the pipeline checks it, from any
folder the command is run in."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.pipelines.reuse import fingerprint
from runner.pipelines.submit import validate_pipeline
from runner.spec.load import spec_from_data
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

CONDA = "dependencies:\n  - pip:\n    - six=={version}\n"
PIPELINE = """\
type: pipeline
jobs:
  s:
    command: echo hi
    environment:
      image: runner/python:3.11
      conda_file: env/conda.yml
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "job"
    (root / "env").mkdir(parents=True)
    (root / "env" / "conda.yml").write_text(CONDA.format(version="1.16.0"))
    return root


def test_the_conda_file_is_read_from_the_jobs_folder(folder: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no env/conda.yml here
    ws = Workspace(tmp_path / "ws")
    data = {"command": "echo hi", "parent_job_name": "p1",
            "environment": {"image": "runner/python:3.11", "conda_file": "env/conda.yml"}}
    before = fingerprint(ws, spec_from_data(data, base_dir=folder))
    assert fingerprint(ws, spec_from_data(data, base_dir=folder)) == before
    (folder / "env" / "conda.yml").write_text(CONDA.format(version="1.17.0"))
    assert fingerprint(ws, spec_from_data(data, base_dir=folder)) != before  # other packages: not reused


def test_a_pipeline_with_an_inline_conda_file_validates_from_another_folder(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "pipeline.yml").write_text(PIPELINE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_pipeline_spec(folder / "pipeline.yml")
    graph, _, reuse = validate_pipeline(Workspace(tmp_path / "ws"), spec, name="p1")
    assert list(graph.steps) == ["s"]
    assert reuse["s"].startswith("would run (no earlier")  # compared, not "reuse not checked"
