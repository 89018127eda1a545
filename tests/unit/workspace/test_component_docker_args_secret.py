"""A secret a component's ``resources.docker_args`` set (``-e NAME=VALUE``; ``runner.plan.env_secrets``'
rule) is registered as written, as its ``environment_variables``' are: ``component create`` (and
``ml_client.components.create_or_update``) warns once, at the docker_args line, naming the variables
(never a value) and saying the registry keeps them in plain text; what runner prints of the component
(``component create``'s record, ``component show``, ``component list``, JSON and YAML) shows ``NAME=***``;
the registry keeps the value. A component with secrets in both gets one warning for each, at its line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import MLClient, load_component
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace

TOKEN = "hf_DOCKERSECRET0491"
CONN = "AccountName=a;AccountKey=DOCKERKEY0492=="
SECRETS = ("DOCKERSECRET0491", "DOCKERKEY0492")
COMPONENT = f"""\
name: train
command: echo "$HF_TOKEN"
environment: {{image: runner/python:3.11}}
resources:
  docker_args: "-e MODE=fast -e HF_TOKEN={TOKEN} --env=STORE='{CONN}'"
"""
MASKED = ["-e", "MODE=fast", "-e", "HF_TOKEN=***", "--env=STORE=***"]


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                          text=True, timeout=120, check=False, env=env, cwd=ws.parent)


def _clean(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


def test_the_cli_warns_once_and_shows_them_masked(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "train.yml").write_text(COMPONENT)
    created = _cli(ws, "component", "create", "--file", str(tmp_path / "train.yml"), "-o", "json")
    assert created.returncode == 0, created.stderr
    warnings = [line for line in created.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, created.stderr
    assert f"{tmp_path / 'train.yml'}:5:" in warnings[0]  # the docker_args line
    assert "HF_TOKEN, STORE" in warnings[0] and "plain text" in warnings[0] and "MODE" not in warnings[0]
    assert json.loads(created.stdout)["resources"]["docker_args"] == MASKED
    shown = _cli(ws, "component", "show", "--name", "train", "-o", "json")
    listed = _cli(ws, "component", "list", "-o", "json")
    versions = _cli(ws, "component", "list", "--name", "train", "-o", "json")
    yaml_shown = _cli(ws, "component", "show", "--name", "train", "-o", "yaml")
    table = _cli(ws, "component", "list")
    assert json.loads(shown.stdout)["resources"]["docker_args"] == MASKED
    assert json.loads(listed.stdout)[0]["resources"]["docker_args"] == MASKED
    assert json.loads(versions.stdout)[0]["resources"]["docker_args"] == MASKED
    assert "HF_TOKEN=***" in yaml_shown.stdout
    for done in (created, shown, listed, versions, yaml_shown, table):
        assert done.returncode == 0 and _clean(done.stdout) and _clean(done.stderr), done.stderr
    resources = ComponentStore(Workspace(ws)).load("train", "1").resources
    assert resources is not None and f"HF_TOKEN={TOKEN}" in resources.docker_args  # the registry: as written


def test_python_warns_once_with_both_fields_one_each(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.yml").write_text(COMPONENT + "environment_variables:\n  API_TOKEN: apitoken0493\n")
    with caplog.at_level(logging.WARNING):
        made = MLClient(workspace_dir=tmp_path / "ws").components.create_or_update(
            load_component(source=tmp_path / "c.yml"))
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 2, said
    variables, docker = sorted(said, key=lambda message: "docker_args" in message)
    assert "API_TOKEN" in variables and "HF_TOKEN" not in variables
    assert f"{tmp_path / 'c.yml'}:6:" in variables  # the environment_variables line
    assert "HF_TOKEN, STORE" in docker and "API_TOKEN" not in docker
    assert f"{tmp_path / 'c.yml'}:5:" in docker  # the docker_args line
    assert all(_clean(message) and "apitoken0493" not in message for message in said)
    assert f"HF_TOKEN={TOKEN}" in made.resources.docker_args  # the object: as registered


def test_docker_args_without_a_secret_get_no_warning(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.yml").write_text(COMPONENT.replace(f" -e HF_TOKEN={TOKEN} --env=STORE='{CONN}'",
                                                      " -e TOKENIZERS_PARALLELISM=false"))
    with caplog.at_level(logging.WARNING):
        MLClient(workspace_dir=tmp_path / "ws").components.create_or_update(
            load_component(source=tmp_path / "c.yml"))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
