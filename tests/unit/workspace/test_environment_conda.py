"""A registered environment keeps its conda file (a snapshot of its text), tags and description, and a job
that names it resolves to the image the inline form would build; `runner environment create --file`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import MLClient, load_environment
from runner.cli.main import app
from runner.entities import BuildContext, Environment
from runner.errors import ResolveError, RunnerError, SpecError
from runner.spec.job import InlineEnvironment
from runner.workspace.db import Workspace
from runner.workspace.environments import EnvironmentStore

CONDA = "# the job's packages\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - six==1.17.0\n"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text).lstrip())
    return folder / name


def _env_yaml(folder: Path, extra: str = "") -> Path:
    (folder / "deps").mkdir(parents=True, exist_ok=True)
    (folder / "deps" / "conda.yml").write_text(CONDA)
    return _write(folder, "env.yml", textwrap.dedent("""
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: condaenv
        version: 3
        image: runner/python:3.11
        conda_file: deps/conda.yml
        description: six on the provisioned image
        tags:
          team: vision
        """).lstrip() + extra)


def test_load_environment_keeps_conda_file_tags_and_description(workspace_dir: Path, tmp_path: Path) -> None:
    source = _env_yaml(tmp_path / "src")
    created = MLClient().environments.create_or_update(load_environment(source))
    assert created.conda_text == CONDA  # the text, as written (comments too); conda_file: it loaded
    assert created.tags == {"team": "vision"} and created.description == "six on the provisioned image"
    (tmp_path / "src" / "deps" / "conda.yml").unlink()  # a snapshot: the file may move afterwards
    got = MLClient().environments.get("condaenv", label="latest")
    assert (got.version, got.conda_text, got.tags) == ("3", CONDA, {"team": "vision"})
    store = EnvironmentStore(Workspace(workspace_dir))
    registered = store.resolve_spec_environment("azureml:condaenv@latest", tmp_path)
    assert registered.conda is not None and registered.image == ""
    assert registered.conda.base_image == "runner/python:3.11"
    assert registered.conda.requirements == ("six==1.17.0",) and registered.conda.python == "3.11"
    # the same environment written inline in a job resolves to the same build
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "conda.yml").write_text(CONDA)
    inline = store.resolve_spec_environment(
        InlineEnvironment(image="runner/python:3.11", conda_file="conda.yml"), tmp_path / "job")
    assert inline.conda is not None
    assert (inline.conda.base_image, inline.conda.python, inline.conda.requirements) == \
           (registered.conda.base_image, registered.conda.python, registered.conda.requirements)


def test_environment_entity_with_a_conda_path_or_mapping(workspace_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conda.yml").write_text(CONDA)
    ops = MLClient().environments
    by_path = ops.create_or_update(Environment(name="bypath", image="runner/python:3.11",
                                               conda_file="conda.yml", tags={"k": "v"}))
    assert by_path.conda_text == CONDA and by_path.tags == {"k": "v"}
    mapping = {"name": "m", "dependencies": ["pip", {"pip": ["six==1.17.0"]}]}
    by_map = ops.create_or_update(Environment(name="bymap", image="runner/python:3.11", conda_file=mapping))
    assert by_map.conda_text is not None and "six==1.17.0" in by_map.conda_text
    resolved = EnvironmentStore(Workspace(workspace_dir)).resolve_spec_environment("azureml:bymap:1")
    assert resolved.conda is not None and resolved.conda.requirements == ("six==1.17.0",)
    # a version registered again without a conda file no longer has one
    plain = ops.create_or_update(Environment(name="bypath", version="1", image="runner/python:3.11"))
    assert plain.conda_file is None and ops.get("bypath", "1").conda_file is None
    assert EnvironmentStore(Workspace(workspace_dir)).resolve_spec_environment(
        "azureml:bypath:1").image == "runner/python:3.11"


def test_conda_file_refusals(workspace_dir: Path, tmp_path: Path) -> None:
    ops = MLClient().environments
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM runner/python:3.11\n")
    (tmp_path / "conda.yml").write_text(CONDA)
    with pytest.raises(SpecError, match="conda_file needs an image") as err:
        ops.create_or_update(Environment(name="both", build=BuildContext(path=tmp_path / "ctx"),
                                         conda_file=str(tmp_path / "conda.yml")))
    assert err.value.field == "conda_file"
    (tmp_path / "bad.yml").write_text("dependencies:\n  - 3\n")
    with pytest.raises(SpecError, match="cannot read dependency") as err:
        ops.create_or_update(Environment(name="bad", image="runner/python:3.11",
                                         conda_file=str(tmp_path / "bad.yml")))
    with pytest.raises(ResolveError, match="no conda file at") as gone:  # not there: exit 1, as a job's
        ops.create_or_update(Environment(name="gone", image="runner/python:3.11",
                                         conda_file=str(tmp_path / "missing.yml")))
    assert gone.value.field == "conda_file" and "create the file" in str(gone.value)
    with pytest.raises(SpecError, match="no conda file at"):  # a folder named: a malformed value (exit 2)
        ops.create_or_update(Environment(name="dir", image="runner/python:3.11",
                                         conda_file=str(tmp_path / "ctx")))
    assert [e.name for e in ops.list() if not e.builtin] == []  # nothing half-registered


def test_cli_create_from_file(workspace_dir: Path, tmp_path: Path) -> None:
    source = _env_yaml(tmp_path / "src")
    code, out = cli("environment", "create", "--file", str(source))
    assert code == 0, out
    created = json.loads(out)
    assert (created["name"], created["version"], created["image"]) == ("condaenv", "3", "runner/python:3.11")
    assert created["conda_file"] == CONDA and created["tags"] == {"team": "vision"}
    code, out = cli("environment", "create", "-f", str(source), "--version", "4", "--tags", "stage=dev")
    assert code == 0 and json.loads(out)["version"] == "4" and json.loads(out)["tags"] == {"stage": "dev"}
    code, out = cli("environment", "show", "-n", "condaenv", "-o", "json")
    shown = json.loads(out)
    assert shown["version"] == "4" and shown["conda_file"] == CONDA
    assert shown["description"] == "six on the provisioned image"
    code, out = cli("environment", "show", "-n", "condaenv", "-o", "yaml")
    assert code == 0 and "six==1.17.0" in out and "team" not in out and "stage: dev" in out
    # the existing flags still work, with --conda-file too
    code, out = cli("environment", "create", "-n", "flags", "-i", "runner/python:3.11",
                    "--conda-file", str(tmp_path / "src" / "deps" / "conda.yml"))
    assert code == 0 and json.loads(out)["conda_file"] == CONDA


@pytest.mark.parametrize(("extra", "where", "expected"), [
    ("colour: red\n", ":9:", "unknown field 'colour'"),
    ("build:\n  path: .\n", ":", "give either image or build"),
])
def test_cli_create_from_a_bad_file(workspace_dir: Path, tmp_path: Path, extra: str, where: str,
                                    expected: str) -> None:
    source = _env_yaml(tmp_path / "src", extra)
    code, out = cli("environment", "create", "--file", str(source))
    assert code != 0 and expected in out and "Traceback" not in out
    assert f"{source}{where}" in out


def test_cli_create_from_a_file_with_a_bad_conda_file(workspace_dir: Path, tmp_path: Path) -> None:
    source = _env_yaml(tmp_path / "src")
    source.write_text(source.read_text().replace("deps/conda.yml", "deps/nothere.yml"))
    code, out = cli("environment", "create", "--file", str(source))
    assert code != 0 and "Traceback" not in out
    assert f"{source}:5:" in out and "conda_file" in out and "nothere.yml" in out  # env.yml:line, field
    source.write_text(source.read_text().replace("deps/nothere.yml", "deps/conda.yml"))
    (tmp_path / "src" / "deps" / "conda.yml").write_text("dependencies:\n  - pip\n  - [1, 2]\n")
    code, out = cli("environment", "create", "--file", str(source))
    assert code != 0 and "cannot read dependency" in out and "conda.yml" in out
    source.write_text(source.read_text().replace("name: condaenv\n", ""))
    code, out = cli("environment", "create", "--file", str(source))
    assert code != 0 and "needs a name" in out and str(source) in out
    code, out = cli("environment", "list", "-o", "json")
    assert [e["name"] for e in json.loads(out) if not e["builtin"]] == []
