"""A stored plan whose ``secret_env`` is not a list of names (``5``, a string, a mapping, a list holding a
number or null: a shape no runner writes) is read as the one masking of old records repairs one
(``runner.workspace.old_job_secrets``): ``secret_env`` names the plan's secrets (its ``env``/``host_env``
variables and the docker_args variables that are secrets by the one rule, or show ``***``), each such value
is ``***``, and one warning says so (the job and what was wrong, never a value). So the UI's job page
(``job_view``) reads such a record without an error and without a secret, and its run stops with one
clear error (its values are not in the secrets folder) rather than a crash."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from runner.errors import JobError
from runner.jobs.operations import JobOperations
from runner.jobs.submit import submit_job
from runner.plan.env_secrets import DOCKER_KEY, MASK, with_secret_env
from runner.plan.stored import plan_from_dict
from runner.plan.types import Resources, RunPlan
from runner.spec.load import spec_from_data
from runner.ui.jobs import job_view
from runner.workspace.db import JobStatus, Workspace

TOKEN = "plaintoken0495"
CONN = "AccountName=a;AccountKey=PLAINKEY0496=="
DOCKER = "dockervalue0497"
SECRETS = (TOKEN, "PLAINKEY0496", DOCKER)
ENV = {"HF_TOKEN": TOKEN, "STORE": CONN, "MODE": "fast", "OLD_PASSWORD": MASK}
MALFORMED = [5, 2.5, True, "HF_TOKEN", ["HF_TOKEN", 1], {"HF_TOKEN": 1}, [None]]


def _plan_data(name: str, secret_env: Any) -> dict[str, Any]:
    plan = RunPlan(job_name=name, image="img", build_context=None, dockerfile=None, command="env",
                   host_command="env", env={**ENV, "AZUREML_RUN_ID": name}, code_dir=None,
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None,
                   resources=Resources(docker_args=("-e", f"API_TOKEN={DOCKER}", "--ipc=host")),
                   host_env=dict(ENV))
    data = json.loads(json.dumps(plan.to_dict()))
    data["secret_env"] = secret_env
    return data


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("secret_env", MALFORMED, ids=[repr(m) for m in MALFORMED])
def test_a_malformed_secret_env_names_the_plans_secrets_and_masks_them(
        secret_env: Any, caplog: pytest.LogCaptureFixture) -> None:
    name = f"bad-{type(secret_env).__name__}-{len(json.dumps(secret_env))}"
    with caplog.at_level(logging.WARNING):
        plan = plan_from_dict(_plan_data(name, secret_env))
    assert plan.secret_env == ("HF_TOKEN", "STORE", "OLD_PASSWORD", DOCKER_KEY + "API_TOKEN")
    for env in (plan.env, plan.host_env):
        assert env["HF_TOKEN"] == env["STORE"] == env["OLD_PASSWORD"] == MASK and env["MODE"] == "fast"
    assert plan.resources.docker_args == ("-e", f"API_TOKEN={MASK}", "--ipc=host")
    assert not [s for s in SECRETS if s in json.dumps(plan.to_dict())]
    warned = _warnings(caplog)
    assert len(warned) == 1 and name in warned[0] and "secret_env" in warned[0], warned
    assert not [s for s in SECRETS if s in warned[0]]
    with pytest.raises(JobError) as info:  # its run: one clear error, its values were never kept
        with_secret_env(plan, {})
    assert "secrets folder" in info.value.render() and not [s for s in SECRETS if s in info.value.render()]


@pytest.mark.parametrize("secret_env", [["HF_TOKEN", "STORE"], [], None])
def test_a_well_formed_plan_is_read_as_stored(secret_env: Any, caplog: pytest.LogCaptureFixture) -> None:
    data = _plan_data("good", secret_env)
    with caplog.at_level(logging.WARNING):
        plan = plan_from_dict(data)
    assert plan.secret_env == tuple(secret_env or ())
    assert plan.env["HF_TOKEN"] == TOKEN and plan.resources.docker_args[1] == f"API_TOKEN={DOCKER}"
    assert _warnings(caplog) == []


def test_the_ui_reads_a_record_with_a_malformed_secret_env(tmp_path: Path) -> None:
    """A record written after the workspace's one masking (so never repaired by it) whose plan holds a
    secret's value and a ``secret_env`` of ``5``: the job page shows it, masked."""
    root = tmp_path / "ws"
    ws = Workspace(root)
    job = {"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
           "environment_variables": {"HF_TOKEN": TOKEN, "MODE": "fast"}}
    submit_job(ws, spec_from_data(job, base_dir=tmp_path), name="bad", backend="process")
    ws.update_job("bad", status=JobStatus.COMPLETED)
    JobOperations(ws)  # the one masking of old records: done
    ws._forget_connection()
    with sqlite3.connect(root / "runner.db") as conn:
        (text,) = conn.execute("SELECT record FROM jobs WHERE name = 'bad'").fetchone()
        record = json.loads(text)
        record["extra"]["plan"]["secret_env"] = 5
        record["extra"]["plan"]["env"]["HF_TOKEN"] = TOKEN
        conn.execute("UPDATE jobs SET record = ? WHERE name = 'bad'", (json.dumps(record),))
    view = job_view(JobOperations(Workspace(root)), "bad")
    assert view["job"]["name"] == "bad" and view["plan"] and "HF_TOKEN" in view["plan"]
    assert TOKEN not in json.dumps(view, default=str)
