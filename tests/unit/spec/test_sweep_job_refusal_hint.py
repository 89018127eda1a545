"""A sweep job is refused with one message and a hint that says what to do instead: run its ``trial:`` as a
command job, once per setting (``--set inputs.<name>=<value>``; in Python ``params_override``); runner
does no hyperparameter search. The YAML's check (``runner.spec.kinds``) and the command job's own type
check (``runner.spec.job``, the Python builder's path) say the same. Files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

from runner.errors import SpecError
from runner.spec.load import load_job_spec, spec_from_data

SWEEP = """\
type: sweep
trial:
  command: python train.py --lr ${{search_space.lr}}
  environment: {image: runner/python:3.11}
search_space:
  lr: {type: choice, values: [0.01, 0.1]}
objective: {goal: maximize, primary_metric: accuracy}
"""
MESSAGE = "this job type is not supported (yet): sweep (runner runs command and pipeline jobs)"


def _sweep(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yml"
    path.write_text(SWEEP)
    return path


def test_a_sweep_yaml_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_job_spec(_sweep(tmp_path))
    err = caught.value
    assert err.message == MESSAGE
    assert err.hint is not None and "trial:" in err.hint and "--set inputs." in err.hint, err.hint
    assert err.python_hint is not None and "params_override" in err.python_hint, err.python_hint
    assert "--set" not in str(err), str(err)


def test_the_builders_type_check_says_the_same(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as yaml_error:
        load_job_spec(_sweep(tmp_path))
    with pytest.raises(SpecError) as built:
        spec_from_data({"type": "sweep", "command": "echo", "environment": "python:3.11"}, base_dir=tmp_path)
    assert built.value.message == MESSAGE and built.value.hint == yaml_error.value.hint


def test_other_types_keep_one_message_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "automl.yml"
    path.write_text("type: automl\ntask: classification\n")
    with pytest.raises(SpecError) as caught:
        load_job_spec(path)
    assert caught.value.message.startswith("this job type is not supported (yet): automl")
    assert caught.value.hint, caught.value.render()


def test_job_validate_prints_the_hint(tmp_path: Path) -> None:
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(_sweep(tmp_path)))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].endswith(MESSAGE) and lines[1].startswith("  hint: run its trial:"), \
        result.stderr
