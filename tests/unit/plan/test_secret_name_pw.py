"""``PW``, a password's shortest name, is a secret name as the last word, alone too (``PW``, ``DB_PW``,
``dbPw``, ``PW_2``), so its value is masked wherever the rule masks one: ``job validate``'s plan (table and
JSON), a ``--set`` an error names, the record and ``job show``. ``PW_FILE`` (a path) and words that merely
start with the letters are not. The value here is one no value rule takes (``hunter2secret=1``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

from runner.jobs.submit import submit_job
from runner.plan.env_secrets import MASK, name_is_secret
from runner.spec.load import spec_from_data
from runner.workspace.db import Workspace

VALUE = "hunter2secret=1"
JOB = """\
command: echo hi
environment: {image: 'unused:1'}
environment_variables:
  PLAIN: visible
"""


@pytest.mark.parametrize("name", ["PW", "DB_PW", "dbPw", "smtp.pw", "PW_2", "MYSQL_PW_PROD"])
def test_pw_as_the_last_word_is_a_secret_name(name: str) -> None:
    assert name_is_secret(name)


@pytest.mark.parametrize("name", ["PW_FILE", "PW_HASH_PATH", "POWER", "PWM_CHANNEL", "PWD", "NPW_COUNT"])
def test_other_names_with_the_letters_are_not(name: str) -> None:
    assert not name_is_secret(name)


@pytest.fixture
def job(tmp_path: Path) -> Path:
    path = tmp_path / "job.yml"
    path.write_text(JOB)
    return path


@pytest.mark.parametrize("output", ["table", "json"])
def test_validate_shows_no_value_of_pw(tmp_path: Path, job: Path, output: str) -> None:
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(job), "-o", output,
                 "--set", f"environment_variables.PW={VALUE}")
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "visible" in result.stdout and MASK in result.stdout


def test_a_set_an_error_names_shows_no_value_of_pw(tmp_path: Path, job: Path) -> None:
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(job),
                 "--set", 'environment_variables={"PW": "hunter2secret", "X": {"y": 1}}')
    assert result.returncode == 2 and "environment_variables.X" in result.stderr, result.stderr
    assert '"PW": "***"' in result.stderr and "hunter2" not in result.stdout + result.stderr


def test_pw_is_kept_out_of_the_record_and_job_show(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
                           "environment_variables": {"PW": VALUE, "PW_FILE": "/run/pw"}}, base_dir=tmp_path)
    record = submit_job(ws, spec, name="j1", backend="process")
    assert record.spec["environment_variables"] == {"PW": MASK, "PW_FILE": "/run/pw"}
    assert "hunter2" not in record.model_dump_json()
    shown = cli(ws.root, "job", "show", "--name", "j1", "-o", "json")
    assert shown.returncode == 0 and '"PW": "***"' in shown.stdout and "hunter2" not in shown.stdout
