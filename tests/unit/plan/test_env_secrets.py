"""Which ``environment_variables`` are secrets (``runner.plan.env_secrets``: by name or by value), and
the plan that keeps their values out: ``env``/``host_env`` show ``***``, ``secret_env`` names them, the
JSON a record stores and the text ``job validate`` prints hold no value, one warning names them (never a
value), and the run puts the real values back (one error naming what is missing when they are not
there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.errors import JobError
from runner.plan.build import build_plan
from runner.plan.env_secrets import (
    MASK,
    is_secret,
    masked_spec,
    name_is_secret,
    secret_values,
    value_is_secret,
    with_secret_env,
    with_spec_values,
)
from runner.plan.render import render_plan
from runner.plan.stored import plan_from_dict
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.load import load_job_spec, spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SUPERSECRET==;EndpointSuffix=core.windows.net"
SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=SECRETSIG"
SECRETS = ("SUPERSECRET", "SECRETSIG", "hf_tokenvalue", "pem-body")


@pytest.mark.parametrize("name", [
    "WANDB_API_KEY", "AZURE_STORAGE_KEY", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "HF_TOKEN",
    "GITHUB_TOKEN", "DB_PASSWORD", "MYSQLPASSWORD", "client_secret", "clientSecret",
    "AZURE_STORAGE_CONNECTION_STRING",
    "ServiceBusConnectionString", "MY_SAS", "AZURE_STORAGE_SAS_TOKEN", "SSH_PRIVATE_KEY", "PASSWD",
    "GPG_PASSPHRASE", "GOOGLE_APPLICATION_CREDENTIALS", "apikey", "key",
])
def test_a_name_that_says_secret(name: str) -> None:
    assert name_is_secret(name)


@pytest.mark.parametrize("name", [
    "PATH", "PWD", "TOKENIZERS_PARALLELISM", "MAX_TOKENS", "KEY_VAULT_NAME", "AWS_ACCESS_KEY_ID",
    "MONKEY_COUNT", "KANSAS_CITY", "CANVAS_SIZE", "OMP_NUM_THREADS", "GIVEN_CRED", "SESSION_NAME",
    "AZUREML_RUN_ID", "KEYS",
])
def test_a_name_that_does_not(name: str) -> None:
    assert not name_is_secret(name)


@pytest.mark.parametrize("value", [
    CONN, SAS, "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=abc=",
    "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2022&sig=abc",
    "sv=2022-11-02&ss=b&srt=co&sp=rl&sig=abc%3D", "https://user:hunter2@example.com/x",
    "postgresql://me:pw@db:5432/app", "Server=db;Database=x;Uid=me;Pwd=hunter2;",
    "-----BEGIN RSA PRIVATE KEY-----\npem-body\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\npem-body", "https://b.s3.amazonaws.com/k?X-Amz-Signature=abc",
])
def test_a_value_that_looks_secret(value: str) -> None:
    assert value_is_secret(value)


@pytest.mark.parametrize("value", [
    "", "1", "/opt/tool", "https://example.com/x?page=2", "https://me@example.com/x", "info",
    "key=value", "signal=TERM", "AccountName=a;EndpointSuffix=core.windows.net",
    "-----BEGIN PUBLIC KEY-----\nabc",
])
def test_a_value_that_does_not(value: str) -> None:
    assert not value_is_secret(value)


def test_an_empty_value_is_nothing_to_hide() -> None:
    assert not is_secret("DB_PASSWORD", "") and is_secret("DB_PASSWORD", "x") and is_secret("X", CONN)


def _plan(spec: CommandJobSpec) -> RunPlan:
    return build_plan(spec, job_name="j1", job_dir=JobDir(Path("/ws/jobs/j1")), inputs={}, outputs={},
                      environment=ResolvedEnvironment("python:3.11"), experiment_name="exp")


def _job(tmp_path: Path) -> CommandJobSpec:
    yml = tmp_path / "job.yml"
    yml.write_text(f"command: env\nenvironment: python:3.11\nenvironment_variables:\n  CONN: '{CONN}'\n"
                   f"  SAS: '{SAS}'\n  HF_TOKEN: hf_tokenvalue\n  MODE: fast\n  EMPTY_KEY: ''\n"
                   "  AZUREML_RUN_ID: 'x;AccountKey=stale'\n")
    return load_job_spec(yml)


def test_the_plan_keeps_their_values_out_and_names_them(tmp_path: Path) -> None:
    plan = _plan(_job(tmp_path))
    assert plan.secret_env == ("CONN", "SAS", "HF_TOKEN")
    for env in (plan.env, plan.host_env):
        assert env["CONN"] == env["SAS"] == env["HF_TOKEN"] == MASK
        assert env["MODE"] == "fast" and env["EMPTY_KEY"] == ""  # nothing to hide in an empty value
        assert env["AZUREML_RUN_ID"] == "j1"  # the job's own (replaced, with its own warning): not masked
    stored = json.dumps(plan.to_dict())
    shown = render_plan(plan)
    for secret in SECRETS:
        assert secret not in stored and secret not in shown
    said = [w for w in plan.warnings if "CONN" in w]
    assert len(said) == 1, plan.warnings
    assert "environment_variables" in said[0] and "SAS" in said[0] and "HF_TOKEN" in said[0]
    assert "job.yml:" in said[0] and "datastore" in said[0]
    assert not any(secret in w for w in plan.warnings for secret in SECRETS)
    assert plan_from_dict(json.loads(stored)) == plan


def test_a_plan_without_secrets_has_no_warning_about_them() -> None:
    plan = _plan(spec_from_data({"command": "env", "environment": "python:3.11",
                                 "environment_variables": {"MODE": "fast"}}))
    assert plan.secret_env == () and plan.env["MODE"] == "fast"
    assert not any("secret" in w for w in plan.warnings)


def test_the_run_puts_the_real_values_back(tmp_path: Path) -> None:
    spec = _job(tmp_path)
    plan = _plan(spec)
    values = secret_values(spec.environment_variables, plan.secret_env)
    assert values == {"CONN": CONN, "SAS": SAS, "HF_TOKEN": "hf_tokenvalue"}
    running = with_secret_env(plan, values)
    for env in (running.env, running.host_env):
        assert env["CONN"] == CONN and env["SAS"] == SAS and env["MODE"] == "fast"
    assert with_secret_env(_plan(spec_from_data({"command": "env", "environment": "python:3.11"})), {}).env


def test_missing_values_are_one_error_naming_the_variables(tmp_path: Path) -> None:
    plan = _plan(_job(tmp_path))
    with pytest.raises(JobError) as caught:
        with_secret_env(plan, {"CONN": CONN})
    said = caught.value.render()
    assert "SAS" in caught.value.message and "HF_TOKEN" in caught.value.message
    assert "CONN" not in caught.value.message  # its value is there
    assert caught.value.hint and "again" in caught.value.hint
    assert not any(secret in said for secret in SECRETS)


def test_a_spec_as_recorded_masks_them_at_any_depth() -> None:
    pipeline: dict[str, Any] = {"type": "pipeline", "jobs": {
        "train": {"environment_variables": {"CONN": CONN, "MODE": "fast"},
                  "component": {"environment_variables": {"HF_TOKEN": "hf_tokenvalue", "N": "1"}}}},
        "environment_variables": {"SAS": SAS}}
    shown = masked_spec(pipeline)
    assert shown["jobs"]["train"]["environment_variables"] == {"CONN": MASK, "MODE": "fast"}
    assert shown["jobs"]["train"]["component"]["environment_variables"] == {"HF_TOKEN": MASK, "N": "1"}
    assert shown["environment_variables"] == {"SAS": MASK}
    assert pipeline["jobs"]["train"]["environment_variables"]["CONN"] == CONN  # a copy: the input kept
    step: dict[str, Any] = {"command": "env", "environment_variables": {"CONN": CONN, "MODE": "fast"}}
    kept = secret_values(step["environment_variables"])
    assert kept == {"CONN": CONN}
    assert with_spec_values(masked_spec(step), kept) == step
