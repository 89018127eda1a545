"""An error about ``environment_variables`` or ``resources.docker_args`` never echoes what they hold: a
value of the wrong shape is named by its shape (``got a list``), and a ``--set`` of them is named with its
secrets masked by the environment-variable rule (a name that says secret, ``-e NAME=VALUE`` in
docker_args), as ``runner.plan.env_secrets`` masks them in the job's record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.load import set_label

BASE = "command: env\nenvironment: runner/busybox:latest\n"


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _one_error(result: subprocess.CompletedProcess[str]) -> str:
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and result.stdout == "", shown
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2, shown
    assert "Traceback" not in shown and "s3cr3t" not in shown, shown
    return result.stderr


@pytest.mark.parametrize(("fragment", "said"), [
    ('environment_variables: ["API_TOKEN=s3cr3tS"]\n',
     "b.yml:3:1: environment_variables: expected a mapping of 'key: value' lines, got a list"),
    ('environment_variables: "API_TOKEN=s3cr3tS"\n',
     "b.yml:3:1: environment_variables: expected a mapping of 'key: value' lines, got a string"),
    ("environment_variables:\n  API_TOKEN: {a: s3cr3tM}\n",
     "b.yml:4:3: environment_variables.API_TOKEN: expected text (a string), got a mapping"),
    ('resources:\n  docker_args: {"-e": "API_TOKEN=s3cr3tD"}\n',
     "b.yml:4:3: resources.docker_args: expected a list ('- item' lines), got a mapping"),
    ('resources:\n  docker_args: [{"-e": "API_TOKEN=s3cr3tD"}]\n',
     "resources.docker_args.0: expected text (a string), got a mapping"),
])
def test_a_wrong_shape_is_named_not_echoed(tmp_path: Path, fragment: str, said: str) -> None:
    (tmp_path / "b.yml").write_text(BASE + fragment)
    shown = _one_error(_runner(tmp_path, "job", "validate", "--file", "b.yml"))
    assert said in shown, shown


@pytest.mark.parametrize(("given", "said"), [
    ("resources.docker_args=-e API_TOKEN=s3cr3tC --bogus",
     "(from --set resources.docker_args=-e API_TOKEN=*** --bogus)"),
    ('environment_variables.API_TOKEN={"v": "s3cr3tJ"}',
     "environment_variables.API_TOKEN (from --set environment_variables.API_TOKEN=***): expected text "
     "(a string), got a mapping"),
    ('environment_variables=["API_TOKEN=s3cr3tL"]',
     "environment_variables (from --set environment_variables=***): expected a mapping of 'key: value' "
     "lines, got a list"),
])
def test_a_set_of_them_is_named_with_its_secret_masked(tmp_path: Path, given: str, said: str) -> None:
    (tmp_path / "b.yml").write_text(BASE)
    shown = _one_error(_runner(tmp_path, "job", "validate", "--file", "b.yml", "--set", given))
    assert said in shown, shown


@pytest.mark.parametrize(("given", "shown"), [
    ("resources.docker_args=-e API_TOKEN=s3cr3t --bogus",
     "--set resources.docker_args=-e API_TOKEN=*** --bogus"),
    ("resources.docker_args=--env=DB_PASSWORD=s3cr3t", "--set resources.docker_args=--env=DB_PASSWORD=***"),
    ('resources.docker_args=["-e", "HF_TOKEN=s3cr3t", "--cpus", "2"]',
     '--set resources.docker_args=["-e", "HF_TOKEN=***", "--cpus", "2"]'),
    ("resources.docker_args=-e MODE=fast -e CONN=AccountKey=s3cr3t",
     "--set resources.docker_args=-e MODE=fast -e CONN=***"),
    ("resources.docker_args.0=-e API_TOKEN=s3cr3t", "--set resources.docker_args.0=-e API_TOKEN=***"),
    ('resources={"docker_args": ["-e API_TOKEN=s3cr3t"]}',
     '--set resources={"docker_args": ["-e API_TOKEN=***"]}'),
    ("environment_variables.API_TOKEN=s3cr3t", "--set environment_variables.API_TOKEN=***"),
    ("jobs.train.environment_variables.HF_TOKEN=s3cr3t",
     "--set jobs.train.environment_variables.HF_TOKEN=***"),
    ("environment_variables.MODE=fast", "--set environment_variables.MODE=fast"),
    ("environment_variables.STORE=AccountName=a;AccountKey=s3cr3t",
     "--set environment_variables.STORE=***"),
    ('environment_variables={"API_TOKEN": "s3cr3t", "MODE": "fast"}',
     '--set environment_variables={"API_TOKEN": "***", "MODE": "fast"}'),
    ("resources.docker_args=--cpus 2", "--set resources.docker_args=--cpus 2"),
    ("inputs.max_tokens=5", "--set inputs.max_tokens=5"),
])
def test_set_label_masks_by_the_environment_variable_rule(given: str, shown: str) -> None:
    assert set_label(given) == shown


def test_params_override_of_docker_args_is_named_masked() -> None:
    shown = set_label("resources.docker_args=-e API_TOKEN=s3cr3tP --bogus", python=True)
    assert shown == "params_override {'resources.docker_args': '-e API_TOKEN=*** --bogus'}", shown


def test_a_python_built_job_with_a_list_of_variables_is_named_by_shape() -> None:
    from runner import command

    with pytest.raises(SpecError) as caught:
        command(command="env", environment="python:3.11",
                environment_variables=["API_TOKEN=s3cr3tB"])  # type: ignore[arg-type]
    text = f"{caught.value}\n{caught.value.render()}"
    assert "s3cr3t" not in text and "got a list" in text, text
