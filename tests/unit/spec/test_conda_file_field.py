"""A command job whose ``environment.conda_file`` is not there is refused at the ``conda_file`` line and
names that field, as a pipeline step's is; its hint says where the path is read from."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ResolveError
from runner.jobs.submit import plan_job
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace

JOB = """\
command: echo hi
environment:
  image: runner/python:3.11
  conda_file: env/missing.yml
"""


def test_a_missing_conda_file_names_its_own_field_and_line(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "job").mkdir()
    path = tmp_path / "job" / "job.yml"
    path.write_text(JOB)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ResolveError) as refused:  # named, not there: exit 1 (docs/guides/ci.md)
        plan_job(load_job_spec(path), workspace=Workspace(tmp_path / "ws"), job_name="j1")
    err = refused.value
    assert err.field == "environment.conda_file"
    assert err.where is not None and err.where.file == path and err.where.line == 4
    assert str(tmp_path / "job" / "env" / "missing.yml") in err.message
    assert err.hint is not None and "--file" not in err.hint and str(tmp_path / "job") in err.hint


def test_pythons_environment_with_a_missing_conda_file_is_the_same_error_in_python_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``command(environment=Environment(conda_file=<missing>))``: the YAML's error kind (exit 1's) and
    message, its hint in the Python API's words (a keyword, the current folder), no YAML named."""
    from runner import MLClient, command
    from runner.entities import Environment

    monkeypatch.chdir(tmp_path)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    environment = Environment(image="runner/python:3.11", conda_file="nope.yml")
    job = command(command="echo hi", environment=environment)
    with pytest.raises(ResolveError) as refused:
        ml_client.jobs.create_or_update(job)
    err = refused.value
    assert err.field == "environment.conda_file"
    assert err.message == f"conda file '{tmp_path / 'nope.yml'}' does not exist"
    shown = str(err)  # what a Python caller sees
    assert "conda_file=" in shown and str(tmp_path) in shown and "YAML" not in shown, shown
    assert "YAML" in err.render()  # the CLI's words are kept for a job YAML
    assert list(ml_client.jobs.list()) == []  # nothing submitted
