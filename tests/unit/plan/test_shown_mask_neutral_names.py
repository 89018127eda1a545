"""A value runner keeps out of what it records for what it holds (a connection string's key, a SAS token: a
secret under a name that says nothing, ``runner.plan.env_secrets.value_is_secret``) is shown as
``FOO: ***`` (``-e FOO=***`` in docker_args). A job, a pipeline or a component created again from what
runner showed would get the literal ``***``; a neutral name may hold it on purpose, so it is not refused (a
secret's name with it is: ``test_shown_secret_refused``) but warned once, at its line, naming the
variables and saying how to give the real value: ``job validate``/``create`` (the plan's warnings),
``ml_client.jobs`` in Python's words, a pipeline's steps (its record's warnings, logged in Python),
``component create``. ``***`` within a value, or none, warns nothing."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runner import MLClient, command, load_job
from runner.jobs.operations import JobOperations
from runner.jobs.submit import submit_job
from runner.pipelines import submit
from runner.plan.build import build_plan
from runner.plan.env_secrets import MASK
from runner.spec.job import CommandJobSpec
from runner.spec.load import spec_from_data
from runner.workspace.db import Workspace
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SHOWNKEY0771==;EndpointSuffix=x"
SAS = "https://a.blob.core.windows.net/c?sv=2022-11-02&sig=SHOWNSIG0772"
JOB = """\
command: echo "$STORE"
environment: {image: runner/python:3.11}
compute: local-process
environment_variables:
  MODE: fast
  STORE: '***'
  STARS: 'a***b'
  BLOB_URL: '***'
resources:
  docker_args: -e LEVEL=1 -e CONN=*** --shm-size 1g
"""


def _cli(ws: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                            text=True, timeout=120, check=False, env=env, cwd=ws.parent)
    return result.returncode, result.stdout + result.stderr


def _plan_warnings(spec: CommandJobSpec, tmp_path: Path) -> tuple[str, ...]:
    plan = build_plan(spec, job_name="j1", job_dir=JobDir(tmp_path / "jobs" / "j1"), inputs={}, outputs={},
                      environment=ResolvedEnvironment("runner/python:3.11"))
    return plan.warnings


def _about(warnings: list[str] | tuple[str, ...], words: str) -> list[str]:
    return [w for w in warnings if words in w]


def _says_how(warning: str) -> None:
    assert MASK in warning and "real value" in warning and "how runner shows" in warning, warning


@pytest.mark.parametrize("verb", [("job", "validate"), ("job", "create", "--dry-run")])
def test_a_job_file_warns_once_for_each_field_at_its_line(tmp_path: Path, verb: tuple[str, ...]) -> None:
    (tmp_path / "j.yml").write_text(JOB)
    code, out = _cli(tmp_path / "ws", *verb, "--file", str(tmp_path / "j.yml"), "--name", "j1")
    assert code == 0, out
    assert "error:" not in out and "Traceback" not in out
    variables = _about(out.splitlines(), "environment_variables STORE, BLOB_URL are ***")
    assert len(variables) == 1 and "j.yml:6:" in variables[0], out  # the first one's line
    _says_how(variables[0])
    assert "MODE" not in variables[0] and "STARS" not in variables[0]
    docker = _about(out.splitlines(), f"docker_args set CONN={MASK}")
    assert len(docker) == 1 and "j.yml:10:" in docker[0] and "LEVEL" not in docker[0], out
    _says_how(docker[0])
    assert not (tmp_path / "ws" / "jobs" / "j1").exists()


def test_a_job_created_again_from_its_record_is_warned(tmp_path: Path) -> None:
    """The real case: a value kept out for its content, the record shows ``***``, a job made from it."""
    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({"command": "echo", "environment": {"image": "runner/python:3.11"},
                           "environment_variables": {"STORE": CONN, "LINK": SAS, "MODE": "fast"},
                           "resources": {"docker_args": [f"-e BLOB={SAS}"]}}, base_dir=tmp_path)
    assert not _about(_plan_warnings(spec, tmp_path), "how runner shows")  # the real values: nothing
    record = submit_job(ws, spec, name="first", backend="process")
    again = spec_from_data(dict(record.spec), base_dir=tmp_path)
    assert again.environment_variables == {"STORE": MASK, "LINK": MASK, "MODE": "fast"}
    warnings = _plan_warnings(again, tmp_path)
    assert len(_about(warnings, "environment_variables STORE, LINK are ***")) == 1, warnings
    assert len(_about(warnings, f"docker_args set BLOB={MASK}")) == 1, warnings
    assert not any("SHOWN" in w for w in warnings)


def test_none_for_a_value_like_any(tmp_path: Path) -> None:
    spec = spec_from_data({"command": "echo", "environment": {"image": "runner/python:3.11"},
                           "environment_variables": {"STARS": "a***b", "EMPTY": "", "MODE": "**"},
                           "resources": {"docker_args": "-e X=a*** -e Y=**"}}, base_dir=tmp_path)
    assert not _about(_plan_warnings(spec, tmp_path), "how runner shows")


def test_the_last_value_docker_gets_is_the_one_said(tmp_path: Path) -> None:
    spec = spec_from_data({"command": "echo", "environment": {"image": "runner/python:3.11"},
                           "resources": {"docker_args": "-e X=*** -e X=real -e Y=real -e Y=***"}},
                          base_dir=tmp_path)
    said = _about(_plan_warnings(spec, tmp_path), "how runner shows")
    assert len(said) == 1 and f"set Y={MASK}" in said[0] and "X" not in said[0].split("how runner")[0], said


def test_python_is_told_once_in_its_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(JobOperations, "start_worker", lambda self, name, **_: 0)  # queued, not run
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    job = command(command="echo $STORE", environment="runner/python:3.11", compute="local-process",
                  environment_variables={"STORE": MASK, "MODE": "fast"}, name="py1")
    result = ml_client.jobs.validate(job)
    assert result.passed and len(_about(result.plan.warnings, "environment_variables STORE is ***")) == 1
    with caplog.at_level(logging.WARNING):
        assert ml_client.jobs.create_or_update(job).status == "Queued"
    told = _about([r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING], "STORE is ***")
    assert len(told) == 1 and not CLI_FORMS.search(told[0]), told
    _says_how(told[0])


PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  first:
    type: command
    command: echo one
    environment: {image: runner/python:3.11}
    environment_variables:
      STORE: '***'
"""


def test_a_pipeline_step_is_warned_in_its_record_and_in_python(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(submit, "start_orchestrator", lambda ws, name: 0)  # queued, not run
    (tmp_path / "p.yml").write_text(PIPELINE)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with caplog.at_level(logging.WARNING):
        ml_client.jobs.create_or_update(load_job("p.yml"), name="p1")
    told = _about([r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING], "STORE is ***")
    assert len(told) == 1 and "jobs.first.environment_variables" in told[0], told
    assert not CLI_FORMS.search(told[0]), told
    recorded = _about(ml_client.workspace.get_job("p1").extra["warnings"], "STORE is ***")
    assert len(recorded) == 1 and "p.yml:9:" in recorded[0], recorded


def test_component_create_warns_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text("name: train\ncommand: echo\nenvironment: {image: runner/python:3.11}\n"
                                    "environment_variables:\n  STORE: '***'\n"
                                    "resources:\n  docker_args: -e CONN=***\n")
    code, out = _cli(tmp_path / "ws", "component", "create", "--file", str(tmp_path / "c.yml"))
    assert code == 0, out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    variables = _about(warnings, "environment_variables STORE is ***")
    docker = _about(warnings, f"docker_args set CONN={MASK}")
    assert len(variables) == 1 and "c.yml:5:" in variables[0], out
    assert len(docker) == 1 and "c.yml:7:" in docker[0], out
    assert len(warnings) == 2, out
