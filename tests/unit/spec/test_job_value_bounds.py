"""A job YAML's values past what runner can honour, or short of what names a thing, are one error at
their line: a ``limits.timeout`` past the longest, a model or data reference with no version, Azure's
eval modes on an input that is not an mltable (the hint fits the input's type)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import command
from runner.errors import ModeError, SpecError
from runner.jobs.submit import plan_job
from runner.spec.job import MAX_TIMEOUT_S
from runner.spec.load import load_job_spec
from runner.uris import ModelRef, parse_path
from runner.workspace.db import Workspace


def _job(tmp_path: Path, tail: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"command: echo hi\nenvironment: python:3.11\n{tail}")
    return job


def test_a_timeout_past_the_longest_is_refused_at_its_line(tmp_path: Path) -> None:
    job = _job(tmp_path, "limits:\n  timeout: 99999999999999999999999\n")
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    assert info.value.render().startswith(
        f"{job}:4:3: limits.timeout: 99999999999999999999999 s is longer than the longest timeout, "
        f"{MAX_TIMEOUT_S} s (about 68 years)")
    assert info.value.hint and "leave limits.timeout out for no limit" in info.value.hint


def test_the_longest_timeout_is_accepted(tmp_path: Path) -> None:
    spec = load_job_spec(_job(tmp_path, f"limits:\n  timeout: {MAX_TIMEOUT_S}\n"))
    assert spec.limits.timeout == MAX_TIMEOUT_S


def test_a_timeout_past_the_longest_is_refused_in_python() -> None:
    job = command(command="echo hi", environment="python:3.11")
    with pytest.raises(SpecError, match="longer than the longest timeout"):
        job.set_limits(timeout=MAX_TIMEOUT_S + 1)


@pytest.mark.parametrize("written", ["azureml:sample-mlflow-model", "azureml:sample-mlflow-model:",
                                     "azureml:sample-mlflow-model@"])
def test_a_reference_without_a_version_asks_for_one(written: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(written, field="inputs.my_model.path")
    assert info.value.message == (f"'{written}' names no version of the model or data asset "
                                  "'sample-mlflow-model'")
    assert info.value.hint == ("add a version: azureml:sample-mlflow-model:<version> or "
                               "azureml:sample-mlflow-model@latest")


def test_references_with_a_version_still_parse() -> None:
    assert parse_path("azureml:m:1") == ModelRef("m", version="1")
    assert parse_path("azureml:m@latest") == ModelRef("m", label="latest")


@pytest.mark.parametrize("kind", ["mlflow_model", "uri_folder"])
def test_a_reference_without_a_version_points_at_its_line(tmp_path: Path, kind: str) -> None:
    job = _job(tmp_path, f"inputs:\n  my_model:\n    type: {kind}\n    path: azureml:sample-mlflow-model\n")
    with pytest.raises(SpecError) as info:
        plan_job(load_job_spec(job), workspace=Workspace(tmp_path / "ws"), job_name="j1")
    assert info.value.render().startswith(f"{job}:6:5: inputs.my_model.path: 'azureml:sample-mlflow-model' "
                                          "names no version")


@pytest.mark.parametrize(("kind", "gets"), [
    ("uri_folder", "the folder"), ("uri_file", "the file"), ("custom_model", "the model's files"),
    ("mltable", "the MLTable folder, which mltable.load() reads"),
])
def test_the_eval_mount_hint_fits_the_inputs_type(tmp_path: Path, kind: str, gets: str) -> None:
    job = _job(tmp_path, f"inputs:\n  m:\n    type: {kind}\n    path: x\n    mode: eval_mount\n")
    with pytest.raises(ModeError) as info:
        load_job_spec(job)
    assert info.value.hint == f"set mode: ro_mount (or download): the job gets {gets}"
    if kind != "mltable":
        assert "Azure takes it for mltable inputs only" in info.value.message
        assert "MLTable" not in (info.value.hint or "")
