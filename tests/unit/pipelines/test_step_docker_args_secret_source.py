"""A pipeline step whose ``resources.docker_args`` set a secret is refused before anything is queued (its
pipeline keeps a step's secrets by ``environment_variables`` only: ``runner.plan.env_secrets``), and the
refusal says what to change where the docker_args were written: the step's own (move the variable to its
environment_variables), its inline component's (``jobs.<step>.component.resources.docker_args``), its
component file's (that file's line), or a REGISTERED component's (``azureml:<name>:<version>``,
``<name>@latest``: the user wrote none in the pipeline). For a registered one it points at the step's
``component:`` line, names the component, and says to register a version without the secret and give it
in the step's environment_variables; in Python's words for ``ml_client``. A step's own docker_args replace
its component's, so they are the step's even when it runs a registered component. Never the value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import MLClient, load_component
from runner.dsl import pipeline
from runner.errors import SpecError

SECRET = "SECRETTOKEN0881"
COMPONENT = f"""\
name: train
version: "1"
command: echo hi
environment: {{image: runner/python:3.11}}
resources:
  docker_args: -e MODE=fast -e API_TOKEN={SECRET}
"""
REGISTERED = """\
type: pipeline
settings: {{default_compute: local-process}}
jobs:
  a:
    component: {ref}
"""
INLINE = f"""\
type: pipeline
settings: {{default_compute: local-process}}
jobs:
  a:
    component:
      command: echo hi
      environment: {{image: runner/python:3.11}}
      resources:
        docker_args: -e API_TOKEN={SECRET}
"""
OWN = f"""\
type: pipeline
settings: {{default_compute: local-process}}
jobs:
  a:
    component: azureml:train:1
    resources:
      docker_args: -e API_TOKEN={SECRET}
"""


def _cli(ws: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                            text=True, timeout=120, check=False, env=env, cwd=ws.parent)
    return result.returncode, result.stdout + result.stderr


def _refused(ws: Path, pipeline_file: Path) -> tuple[str, str]:
    """The one error line and the hint ``job validate`` prints (``job create`` the same, nothing queued)."""
    for verb in (("job", "validate"), ("job", "create")):
        code, out = _cli(ws, *verb, "--file", str(pipeline_file), "--name", "p1")
        assert code == 2, out
        assert SECRET not in out and "Traceback" not in out, out
    assert not (ws / "jobs" / "p1").exists()
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    hints = [line for line in out.splitlines() if line.strip().startswith("hint:")]
    assert len(errors) == 1 and len(hints) == 1 and "API_TOKEN" in errors[0], out
    return errors[0], hints[0]


@pytest.fixture
def registered(tmp_path: Path) -> Path:
    (tmp_path / "train.yml").write_text(COMPONENT)
    code, out = _cli(tmp_path / "ws", "component", "create", "--file", str(tmp_path / "train.yml"))
    assert code == 0, out
    return tmp_path / "ws"


@pytest.mark.parametrize("ref", ["azureml:train:1", "azureml:train@latest"])
def test_a_registered_components_secret_is_refused_at_the_steps_component_line(
        tmp_path: Path, registered: Path, ref: str) -> None:
    (tmp_path / "p.yml").write_text(REGISTERED.format(ref=ref))
    error, hint = _refused(registered, tmp_path / "p.yml")
    assert "p.yml:5:" in error and "jobs.a.component:" in error, error  # where the step names it
    assert "azureml:train:1" in error and "registered" in error and "MODE" not in error, error
    assert "the step's docker_args" not in error + hint, hint  # the user wrote none there
    assert "component create" in hint and "version" in hint, hint
    assert "jobs.a.environment_variables.API_TOKEN" in hint, hint


def test_an_inline_components_secret_says_its_own_field(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(INLINE)
    error, hint = _refused(tmp_path / "ws", tmp_path / "p.yml")
    assert "p.yml:9:" in error and "jobs.a.component.resources.docker_args" in error, error
    assert "the step's docker_args" not in hint and "component create" not in hint, hint
    assert "jobs.a.component.resources.docker_args" in hint and "jobs.a.environment_variables" in hint, hint


def test_a_component_files_secret_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "train.yml").write_text(COMPONENT)
    (tmp_path / "p.yml").write_text(REGISTERED.format(ref="./train.yml"))
    error, hint = _refused(tmp_path / "ws", tmp_path / "p.yml")
    assert "train.yml:6:" in error, error
    assert "the step's docker_args" not in hint and "train.yml" in hint, hint
    assert "jobs.a.environment_variables" in hint, hint


def test_the_steps_own_docker_args_over_a_registered_component_are_the_steps(
        tmp_path: Path, registered: Path) -> None:
    (tmp_path / "p.yml").write_text(OWN)
    error, hint = _refused(registered, tmp_path / "p.yml")
    assert "p.yml:7:" in error and "jobs.a.resources.docker_args" in error, error
    assert "the step's docker_args" in hint and "component create" not in hint, hint


def test_python_is_told_in_its_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.yml").write_text(COMPONENT)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    ml_client.components.create_or_update(load_component(source=tmp_path / "train.yml"))
    train = ml_client.components.get("train", version="1")

    @pipeline(default_compute="local-process")
    def built():  # type: ignore[no-untyped-def]
        train()

    with pytest.raises(SpecError) as raised:
        ml_client.jobs.create_or_update(built(), name="p2")
    said = str(raised.value)
    assert "azureml:train:1" in said and "API_TOKEN" in said and SECRET not in said, said
    assert "ml_client.components.create_or_update" in said and "environment_variables" in said, said
    assert "--set" not in said and "the step's docker_args" not in said, said
    assert ml_client.jobs.list() == []
