"""A sweep job met through the Python API is refused in the Python API's words: the command job's own
type check (``runner.spec.job``: ``load_job(..., params_override=[{'type': 'sweep'}])``, a job built from
data) says what to do with ``ml_client.jobs.create_or_update(load_job(..., params_override=...))``, never
``runner job create`` or ``--set``; the CLI (``--set type=sweep``) keeps its words. Files in tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jobs_support import cli

from runner import load_job
from runner.errors import SpecError
from runner.spec.load import spec_from_data

MESSAGE = "this job type is not supported (yet): sweep (runner runs command and pipeline jobs)"
CLI_FORMS = re.compile(r"`runner [a-z]|(?<![\w/-])--[a-z]")
JOB = "command: echo hi\nenvironment: {image: runner/python:3.11}\n"


def _python_words(err: SpecError) -> None:
    text = str(err)  # what a Python caller's traceback shows
    assert MESSAGE in text and "hint:" in text, text
    assert "create_or_update" in text and "params_override" in text, text
    assert not CLI_FORMS.search(text) and "search_space" not in text, text


def test_a_sweep_type_given_as_params_override(tmp_path: Path) -> None:
    (tmp_path / "job.yml").write_text(JOB)
    with pytest.raises(SpecError) as info:
        load_job(tmp_path / "job.yml", params_override=[{"type": "sweep"}])
    _python_words(info.value)
    assert "--set" not in (info.value.field or ""), info.value.field


def test_a_sweep_job_built_from_data() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_data({"type": "sweep", "command": "echo", "environment": "python:3.11"})
    _python_words(info.value)
    assert info.value.hint is not None and "runner job create" in info.value.hint  # the CLI's, kept


def test_the_cli_keeps_its_words(tmp_path: Path) -> None:
    (tmp_path / "job.yml").write_text(JOB)
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(tmp_path / "job.yml"),
                 "--set", "type=sweep")
    assert result.returncode == 2, result.stderr
    assert MESSAGE in result.stderr and "`runner job create --file <trial job> --set" in result.stderr, \
        result.stderr
    assert "ml_client" not in result.stderr, result.stderr
