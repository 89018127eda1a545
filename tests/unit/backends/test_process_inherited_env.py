"""What a ``process`` job (a host process) inherits from the runner's environment: everything a user's
tools need (PATH, HOME, LANG, another CI's ``RUNNER_TEMP``...), but not another run's ``AZUREML_*`` (so an
emptied one stays out of the job), not another job's ``AZURE_ML_INPUT_*``/``AZURE_ML_OUTPUT_*``, not the
storage credentials runner itself reads, and not runner's own ``RUNNER_*`` settings. What the job's spec
or its run sets (``environment_variables``, a direct binding's credentials) still reaches it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from runner.backends.base import RunSpec
from runner.backends.inherited_env import CREDENTIALS, KEPT_OUT_PREFIXES, RUNNER_OWN, inherited, kept_out
from runner.backends.process import host_env
from runner.plan.build import build_plan
from runner.plan.types import RunPlan
from runner.spec.load import spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

REPO = Path(__file__).resolve().parents[3]

EXPORTED = {  # fake values, as a user's shell or a CI job would export them for runner's own access
    "AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=mine;AccountKey=S3CRET",
    "AZURE_STORAGE_KEY": "S3CRET", "AZURE_STORAGE_ACCOUNT_KEY": "S3CRET",
    "AZURE_STORAGE_SAS_TOKEN": "sv=S3CRET",
    "AZURE_STORAGE_ACCOUNT": "mine", "AZURE_STORAGE_ACCOUNT_NAME": "mine",
    "AZURE_CLIENT_ID": "app", "AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_SECRET": "S3CRET",
    "AZURE_CLIENT_CERTIFICATE_PATH": "/home/me/sp.pem", "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token",
    "AZURE_USERNAME": "me", "AZURE_PASSWORD": "S3CRET",
    "IDENTITY_ENDPOINT": "http://127.0.0.1:40342/msi/token", "IDENTITY_HEADER": "S3CRET",
    "MSI_ENDPOINT": "http://127.0.0.1:40342/msi/token", "MSI_SECRET": "S3CRET",
    "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "S3CRET", "AWS_SESSION_TOKEN": "S3CRET",
    "GOOGLE_APPLICATION_CREDENTIALS": "/home/me/gcp.json",
    "FSSPEC_S3": '{"key": "AKIA", "secret": "S3CRET"}', "FSSPEC_S3_SECRET": "S3CRET",
    "RUNNER_UI_TOKEN": "S3CRET-ui-token", "RUNNER_WORKSPACE": "/home/me/ws", "RUNNER_CACHE_DIR": "/home/me/c",
    "AZUREML_RUN_ID": "outer-run", "AZUREML_RUN_TOKEN": "S3CRET", "AZUREML_ARM_SUBSCRIPTION": "sub",
    "AZURE_ML_INPUT_other": "/mnt/azureml/other",
    "AZURE_ML_INPUT_other_STORAGE_OPTIONS": '{"account_key": "S3CRET"}',
}
USERS_OWN = {"PATH": "/usr/bin:/bin", "HOME": "/home/me", "LANG": "C.UTF-8", "HTTPS_PROXY": "http://proxy:3128",
             "CUDA_VISIBLE_DEVICES": "0", "RUNNER_TEMP": "/home/runner/work/_temp", "RUNNER_OS": "Linux",
             "AWS_PROFILE": "dev", "AZURE_CONFIG_DIR": "/home/me/.azure", "MY_TOOL_HOME": "/opt/tool"}


def _plan(variables: dict[str, str] | None = None) -> RunPlan:
    spec = spec_from_data({"command": "env", "environment": "python:3.11", "experiment_name": "exp",
                           "environment_variables": variables or {}})
    return build_plan(spec, job_name="j1", job_dir=JobDir(Path("/ws/jobs/j1")), inputs={}, outputs={},
                      environment=ResolvedEnvironment("python:3.11"), experiment_name="exp")


@pytest.fixture
def runner_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**EXPORTED, **USERS_OWN}.items():
        monkeypatch.setenv(key, value)


@pytest.mark.usefixtures("runner_env")
def test_an_emptied_azureml_variable_stays_out_though_the_runner_has_it() -> None:
    env = host_env(RunSpec(plan=_plan({"AZUREML_RUN_ID": ""}), mounts=()))
    assert "AZUREML_RUN_ID" not in env  # absent, not the runner's "outer-run"
    assert env["AZUREML_ROOT_RUN_ID"] == "j1" and env["AZUREML_EXPERIMENT_NAME"] == "exp"


@pytest.mark.usefixtures("runner_env")
def test_the_job_gets_its_own_run_id_and_no_other_azureml_variable_of_the_runner() -> None:
    env = host_env(RunSpec(plan=_plan(), mounts=()))
    assert env["AZUREML_RUN_ID"] == "j1"
    assert "AZUREML_RUN_TOKEN" not in env and "AZUREML_ARM_SUBSCRIPTION" not in env


@pytest.mark.usefixtures("runner_env")
def test_no_credential_or_runner_setting_is_handed_to_the_job_and_the_users_own_pass() -> None:
    env = host_env(RunSpec(plan=_plan(), mounts=()))
    assert not set(EXPORTED) - {"AZUREML_RUN_ID"} & set(env), sorted(set(EXPORTED) & set(env))
    assert not any("S3CRET" in value for value in env.values())
    assert {key: env.get(key) for key in USERS_OWN} == USERS_OWN


@pytest.mark.usefixtures("runner_env")
def test_what_the_spec_or_the_run_sets_reaches_the_job() -> None:
    plan = _plan({"AZURE_STORAGE_ACCOUNT_NAME": "given", "RUNNER_WORKSPACE": "/given/ws",
                  "AZUREML_ARTIFACTS_DEFAULT_TIMEOUT": "30", "AWS_SECRET_ACCESS_KEY": ""})
    direct = {"AZURE_STORAGE_SAS_TOKEN": "sv=direct", "AZURE_ML_INPUT_d_STORAGE_OPTIONS": "{}"}
    env = host_env(RunSpec(plan=plan, mounts=(), env=direct))
    assert env["AZURE_STORAGE_ACCOUNT_NAME"] == "given" and env["RUNNER_WORKSPACE"] == "/given/ws"
    assert env["AZUREML_ARTIFACTS_DEFAULT_TIMEOUT"] == "30" and env["AWS_SECRET_ACCESS_KEY"] == ""
    assert env["AZURE_STORAGE_SAS_TOKEN"] == "sv=direct" and env["AZURE_ML_INPUT_d_STORAGE_OPTIONS"] == "{}"
    # the runner's connection string would take precedence over the run's SAS in adlfs: it stays out
    assert "AZURE_STORAGE_CONNECTION_STRING" not in env and "AZURE_STORAGE_ACCOUNT_KEY" not in env


def test_inherited_filters_a_mapping_without_changing_it() -> None:
    environ = {"PATH": "/bin", "AZURE_CLIENT_SECRET": "S3CRET", "azure_client_secret": "lower"}
    assert inherited(environ) == {"PATH": "/bin", "azure_client_secret": "lower"}  # names are exact
    assert environ["AZURE_CLIENT_SECRET"] == "S3CRET"


def _runner_variables() -> set[str]:
    """Every ``RUNNER_*`` name runner's and mounts' code writes as a string (but the list's own module,
    which names other tools' ``RUNNER_*`` too): the variables runner reads."""
    found = set()
    for package in ("runner", "mounts"):
        for path in (REPO / package).rglob("*.py"):
            if path == REPO / "runner" / "backends" / "inherited_env.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.update(re.findall(r"\bRUNNER_[A-Z0-9_]*[A-Z0-9]\b", node.value))
    return found


def test_every_runner_variable_runner_reads_is_kept_out() -> None:
    read = _runner_variables()
    assert {"RUNNER_WORKSPACE", "RUNNER_UI_TOKEN", "RUNNER_FORKSERVER", "RUNNER_CACHE_DIR"} <= read
    assert read <= RUNNER_OWN, f"add to runner.backends.inherited_env.RUNNER_OWN: {sorted(read - RUNNER_OWN)}"
    assert all(kept_out(name) for name in RUNNER_OWN)
    assert not kept_out("RUNNER_TEMP") and not kept_out("RUNNER_OS")  # GitHub Actions' own


def test_the_reference_names_every_variable_kept_out() -> None:
    page = (REPO / "docs" / "reference" / "job-environment.md").read_text(encoding="utf-8")
    section = page.split("## The process backend's environment", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]*\*?)`", section))
    assert named >= CREDENTIALS | RUNNER_OWN, sorted(CREDENTIALS | RUNNER_OWN - named)
    assert {f"{prefix}*" for prefix in KEPT_OUT_PREFIXES} <= named
