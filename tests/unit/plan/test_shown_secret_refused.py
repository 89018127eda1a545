"""A job saved as runner shows it (``job show --query spec -o yaml > j.yml``, a pipeline's record, a
spec built from either in Python) has ``***`` where a secret ``environment_variables`` value was: run as
is, the job would get the literal ``***``. A variable whose name says it is a secret
(``runner.plan.env_secrets.name_is_secret``) with exactly that value is refused, once, located at its
line, with what ``***`` is and how to give the real value: ``job validate``/``create`` (a command job,
a pipeline's steps, a later one too, before anything is queued) and ``ml_client.jobs.create_or_update``/
``validate`` in Python's words. ``***`` under another name, or as part of a value, is a value like any."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import MLClient, command, load_job
from runner.errors import SpecError

JOB = """\
command: echo "$HF_TOKEN"
environment: {image: runner/python:3.11}
compute: local-process
environment_variables:
  MODE: fast
  HF_TOKEN: '***'
  DB_PASSWORD: '***'
"""
PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  first:
    type: command
    command: echo one > ${{outputs.o}}/one.txt
    environment: {image: runner/python:3.11}
    outputs: {o: {type: uri_folder}}
  second:
    type: command
    command: cat ${{inputs.i}}/one.txt
    environment: {image: runner/python:3.11}
    inputs:
      i: ${{parent.jobs.first.outputs.o}}
    environment_variables:
      WANDB_API_KEY: '***'
"""


def _cli(ws: Path, *args: str) -> tuple[int, str]:
    """``runner --workspace ws ARGS`` in its own process (the error as the CLI prints it): exit code, stderr
    (stdout too when it exited 0)."""
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                            text=True, timeout=120, check=False, env=env, cwd=ws.parent)
    return result.returncode, result.stderr if result.returncode else result.stdout + result.stderr


def _refusal(text: str, *said: str, at: str) -> None:
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text
    assert at in errors[0] and all(part in errors[0] for part in said), text
    assert "how runner shows a secret" in text and "hint:" in text and "real value" in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize("verb", [("job", "validate"), ("job", "create", "--dry-run"), ("job", "create")])
def test_a_job_file_with_the_mask_as_a_secret_value_is_refused(tmp_path: Path, verb: tuple[str, ...]) -> None:
    (tmp_path / "j.yml").write_text(JOB)
    code, out = _cli(tmp_path / "ws", *verb, "--file", str(tmp_path / "j.yml"), "--name", "again")
    assert code == 2, out
    _refusal(out, "environment_variables: HF_TOKEN, DB_PASSWORD are ***", at="j.yml:6:")  # the first's line
    assert "--set environment_variables.HF_TOKEN=" in out  # the CLI's way to give it from the shell
    assert not (tmp_path / "ws" / "jobs" / "again").exists()


def test_a_pipeline_step_with_the_mask_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(PIPELINE)
    for verb in (("job", "validate"), ("job", "create")):
        code, out = _cli(tmp_path / "ws", *verb, "--file", str(tmp_path / "p.yml"), "--name", "p1")
        assert code == 2, out
        _refusal(out, "jobs.second.environment_variables.WANDB_API_KEY: ", "the value is ***", at="p.yml:16:")
    assert not (tmp_path / "ws" / "jobs" / "p1").exists()


def test_the_mask_under_another_name_or_within_a_value_is_a_value(tmp_path: Path) -> None:
    text = JOB.replace("HF_TOKEN: '***'", "HF_TOKEN: 'a***b'").replace("DB_PASSWORD", "STARS")
    (tmp_path / "j.yml").write_text(text)
    code, out = _cli(tmp_path / "ws", "job", "validate", "--file", str(tmp_path / "j.yml"))
    assert code == 0, out


def test_python_gets_the_refusal_in_its_words(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    job = command(command="echo $HF_TOKEN", environment="runner/python:3.11", compute="local-process",
                  environment_variables={"HF_TOKEN": "***"}, name="py1")
    with pytest.raises(SpecError) as raised:
        ml_client.jobs.create_or_update(job)
    said = str(raised.value)
    assert "environment_variables.HF_TOKEN: the value is ***" in said and "how runner shows a secret" in said
    assert "os.environ" in said and "--set" not in said
    result = ml_client.jobs.validate(job)
    assert not result.passed and "HF_TOKEN" in str(result.error)
    assert ml_client.jobs.list() == []


def test_a_loaded_job_file_is_refused_at_its_line_in_python(tmp_path: Path) -> None:
    (tmp_path / "j.yml").write_text(JOB)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError) as raised:
        ml_client.jobs.create_or_update(load_job(source=tmp_path / "j.yml"))
    assert f"{tmp_path / 'j.yml'}:6:" in str(raised.value)
    assert ml_client.jobs.list() == []
