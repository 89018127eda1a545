"""A component's secret ``environment_variables`` (``runner.plan.env_secrets``: by name or by value) are
kept in the workspace's component registry as written: a step that runs the component needs them. So
``component create`` (``ml_client.components.create_or_update`` too) warns once, naming them (never a
value) and saying the registry keeps them in plain text; what runner prints of a component
(``component create``'s record, ``component show``, ``component list -o json``) shows ``***``; the
registry, a step, and the Python object ``create_or_update`` returns hold the values as registered. A file
saved from ``component show`` holds ``***`` for a secret named as one: registered as is, a step would
get the literal ``***``, so it is refused at its line, as a job's is."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import MLClient, load_component
from runner.errors import SpecError
from runner.pipelines.submit import plan_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SUPERSECRET0461==;EndpointSuffix=x"
TOKEN = "hf_SECRETTOKEN0462"
SECRETS = ("SUPERSECRET0461", "SECRETTOKEN0462")
COMPONENT = f"""\
name: train
command: echo "$HF_TOKEN"
environment: {{image: runner/python:3.11}}
environment_variables:
  MODE: fast
  HF_TOKEN: {TOKEN}
  CONN: {json.dumps(CONN)}
"""
MASKED = {"MODE": "fast", "HF_TOKEN": "***", "CONN": "***"}
PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  t:
    component: azureml:train:1
"""


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                          text=True, timeout=120, check=False, env=env, cwd=ws.parent)


def _clean(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


def test_the_registry_keeps_the_values_and_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    (tmp_path / "train.yml").write_text(COMPONENT)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with caplog.at_level(logging.WARNING):
        made = ml_client.components.create_or_update(load_component(source=tmp_path / "train.yml"))
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1, said
    assert "HF_TOKEN, CONN" in said[0] and "plain text" in said[0] and _clean(said[0])
    assert f"{tmp_path / 'train.yml'}:4:" in said[0]  # where they were written
    real = {"MODE": "fast", "HF_TOKEN": TOKEN, "CONN": CONN}
    assert made.id == "azureml:train:1" and made.environment_variables == real  # the object: as registered
    store = ComponentStore(Workspace(tmp_path / "ws"))
    assert store.load("train", "1").environment_variables == real  # what a step runs
    (tmp_path / "p.yml").write_text(PIPELINE)
    graph, _ = plan_pipeline(Workspace(tmp_path / "ws"), load_pipeline_spec(tmp_path / "p.yml"), name="p1")
    assert graph.steps["t"].spec.environment_variables["HF_TOKEN"] == TOKEN


def test_a_component_without_secrets_gets_no_warning(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.yml").write_text(COMPONENT.replace(f"  HF_TOKEN: {TOKEN}\n", "").replace(
        f"  CONN: {json.dumps(CONN)}\n", "  TOKENIZERS_PARALLELISM: 'false'\n"))
    with caplog.at_level(logging.WARNING):
        component = load_component(source=tmp_path / "c.yml")
        MLClient(workspace_dir=tmp_path / "ws").components.create_or_update(component)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_cli_warns_once_and_shows_them_masked(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "train.yml").write_text(COMPONENT)
    created = _cli(ws, "component", "create", "--file", str(tmp_path / "train.yml"), "-o", "json")
    assert created.returncode == 0, created.stderr
    warnings = [line for line in created.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, created.stderr
    assert "HF_TOKEN, CONN" in warnings[0] and "plain text" in warnings[0]
    assert json.loads(created.stdout)["environment_variables"] == MASKED
    shown = _cli(ws, "component", "show", "--name", "train", "-o", "json")
    listed = _cli(ws, "component", "list", "-o", "json")
    assert json.loads(shown.stdout)["environment_variables"] == MASKED
    assert json.loads(listed.stdout)[0]["environment_variables"] == MASKED
    yaml_shown = _cli(ws, "component", "show", "--name", "train", "-o", "yaml").stdout
    for text in (created.stdout, created.stderr, shown.stdout, listed.stdout, yaml_shown):
        assert _clean(text)
    (tmp_path / "shown.yml").write_text(yaml_shown)  # saved as shown, registered again: refused
    again = _cli(ws, "component", "create", "--file", str(tmp_path / "shown.yml"), "--version", "2")
    assert again.returncode == 2, again.stdout + again.stderr
    errors = [line for line in again.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "shown.yml:" in errors[0], again.stderr
    assert "environment_variables.HF_TOKEN: the value is ***" in errors[0] and "Traceback" not in again.stderr
    assert "hint:" in again.stderr and "warning: " not in again.stderr
    versions = json.loads(_cli(ws, "component", "list", "-n", "train", "-o", "json").stdout)
    assert [r["version"] for r in versions] == ["1"]


def test_python_registering_the_mask_is_refused_in_its_words(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(COMPONENT.replace(TOKEN, "'***'"))
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError) as raised:
        ml_client.components.create_or_update(load_component(source=tmp_path / "c.yml"))
    said = str(raised.value)
    assert f"{tmp_path / 'c.yml'}:6:" in said and "environment_variables.HF_TOKEN: the value is ***" in said
    assert "os.environ" in said
    assert list(ml_client.components.list()) == []
