"""A password under its common short names is a secret too: ``MYSQL_PWD`` (the variable MySQL's clients
read their password from), ``DB_PWD``, ``SMTP_PASS``, ``REDIS_PASS`` (``PWD``/``PASS`` as the last of two
or more words). The shell's own ``PWD`` and ``OLDPWD``, and ``PASS`` as a word elsewhere in a name, are
not. Masked in the job's record like any other secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.submit import submit_job
from runner.plan.env_secrets import MASK, name_is_secret
from runner.spec.load import spec_from_data


@pytest.mark.parametrize("name", ["MYSQL_PWD", "DB_PWD", "dbPwd", "SMTP_PASS", "REDIS_PASS", "ftp.pass"])
def test_a_short_password_name_is_a_secret(name: str) -> None:
    assert name_is_secret(name)


@pytest.mark.parametrize("name", ["PWD", "OLDPWD", "PASS", "PASS_COUNT", "BYPASS", "COMPASS_DIR"])
def test_the_shells_folders_and_other_words_are_not(name: str) -> None:
    assert not name_is_secret(name)


def test_mysql_pwd_is_kept_out_of_the_record(tmp_path: Path) -> None:
    from runner.workspace.db import Workspace

    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
                           "environment_variables": {"MYSQL_PWD": "hunter2-secret", "PWD_HINT": "x"}},
                          base_dir=tmp_path)
    record = submit_job(ws, spec, name="j1", backend="process")
    assert record.spec["environment_variables"] == {"MYSQL_PWD": MASK, "PWD_HINT": "x"}
    assert "hunter2-secret" not in record.model_dump_json()


def test_mysql_pwd_in_docker_args_is_kept_out_of_the_record(tmp_path: Path) -> None:
    from runner.workspace.db import Workspace

    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
                           "resources": {"docker_args": "-e MYSQL_PWD=hunter2-secret -e PWD=/work"}},
                          base_dir=tmp_path)
    record = submit_job(ws, spec, name="j1", backend="process")
    assert record.spec["resources"]["docker_args"] == ["-e", f"MYSQL_PWD={MASK}", "-e", "PWD=/work"]
    assert "hunter2-secret" not in record.model_dump_json()
