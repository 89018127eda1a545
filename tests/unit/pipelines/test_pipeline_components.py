"""Command components: the YAML (Azure's spellings), and the registered versions (immutable, the code
snapshot, latest)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import RegistryError, ResolveError, SpecError
from runner.spec.component import load_component_spec
from runner.spec.job_io import AssetInput, LiteralInput
from runner.workspace.components import ComponentStore, parse_component_ref
from runner.workspace.db import Workspace
from runner.workspace.environments import EnvironmentStore
from runner.workspace.schema import SCHEMA_VERSION

TRAIN = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: train
display_name: Train
version: 1
type: command
is_deterministic: true
inputs:
  data: {type: uri_folder, mode: download}
  epochs: {type: integer, default: "10"}
  rate: {type: float, default: 0.1, min: 0, max: 1}
  flag: {type: boolean, default: "true"}
outputs:
  model: {type: mlflow_model}
code: ./src
environment: azureml:sklearn-1.5@latest
command: python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}} --model ${{outputs.model}}
"""


def component(folder: Path, text: str = TRAIN) -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "train.py").write_text("print('v1')\n")
    path = folder / "train.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_azure_spellings(tmp_path: Path) -> None:
    spec = load_component_spec(component(tmp_path))
    assert spec.name == "train" and spec.version == "1" and spec.display_name == "Train"
    epochs, rate, flag = spec.inputs["epochs"], spec.inputs["rate"], spec.inputs["flag"]
    assert isinstance(epochs, LiteralInput) and epochs.effective == 10 and epochs.type == "integer"
    assert isinstance(rate, LiteralInput) and rate.type == "number" and rate.effective == 0.1
    assert isinstance(flag, LiteralInput) and flag.effective is True
    data = spec.inputs["data"]
    assert isinstance(data, AssetInput) and data.path is None and data.mode is not None


def test_mistakes_are_located(tmp_path: Path) -> None:
    path = component(tmp_path, TRAIN.replace("  data: {type: uri_folder, mode: download}",
                                             "  data: {type: uri_folder, path: ./x}"))
    with pytest.raises(SpecError) as caught:
        load_component_spec(path)
    assert "declares a type, not a path" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line == 8  # the data: line
    path = component(tmp_path, TRAIN.replace("${{inputs.epochs}}", "${{inputs.epoch}}"))
    with pytest.raises(SpecError, match="does not contain 'epoch'"):
        load_component_spec(path)
    path = component(tmp_path, TRAIN.replace("type: command\nis_det", "type: parallel\nis_det"))
    with pytest.raises(SpecError, match="component type 'parallel' is not supported"):
        load_component_spec(path)


def test_register_versions(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    store = ComponentStore(ws)
    path = component(tmp_path / "c")
    first = store.create(load_component_spec(path))
    assert first.reference == "azureml:train:1"
    snapshot = Path(first.spec["code"])
    assert snapshot.is_relative_to(ws.root) and (snapshot / "train.py").read_text() == "print('v1')\n"
    assert store.create(load_component_spec(path)).created_at == first.created_at  # same content: itself
    (tmp_path / "c" / "src" / "train.py").write_text("print('v2')\n")
    with pytest.raises(RegistryError, match="exists already with other content"):
        store.create(load_component_spec(path))
    second = store.create(load_component_spec(path, ["version=2"]))
    assert (Path(second.spec["code"]) / "train.py").read_text() == "print('v2')\n"
    assert (snapshot / "train.py").read_text() == "print('v1')\n"  # the registered code never changes
    assert store.get("train").version == "2" and store.get("train", "1").version == "1"
    assert [r.version for r in store.list("train")] == ["2", "1"]
    assert [r.reference for r in store.list()] == ["azureml:train:2"]
    loaded = store.load("train", "1")
    assert loaded.base_dir == ws.root / "components" / "train" / "1"
    with pytest.raises(ResolveError, match="has no version 9"):
        store.get("train", "9")
    with pytest.raises(ResolveError, match="unknown component 'nope'"):
        store.get("nope")


def test_references() -> None:
    assert parse_component_ref("azureml:train:1") == ("train", "1")
    assert parse_component_ref("azureml:train@latest") == ("train", None)
    assert parse_component_ref("azureml://registries/azureml/components/train/versions/3") == ("train", "3")
    assert parse_component_ref("./train.yml") is None
    with pytest.raises(SpecError, match="the only label is 'latest'"):
        parse_component_ref("azureml:train@prod")


def test_an_older_workspace_gets_the_pipeline_tables(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with ws.transaction() as conn:  # as a workspace written before the pipelines' tables existed
        for table in ("components", "step_reuse", "content_digests"):
            conn.execute(f"DROP TABLE {table}")
    with ws.reading() as conn:
        conn.execute("PRAGMA user_version=4")
    reopened = Workspace(tmp_path / "ws")
    with reopened.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8
    assert ComponentStore(reopened).list() == []
    store = ComponentStore(reopened)
    store.create(load_component_spec(component(tmp_path / "c")))
    assert [r.reference for r in store.list()] == ["azureml:train:1"]


def test_an_identical_component_without_a_version_is_the_newest_version(tmp_path: Path) -> None:
    store = ComponentStore(Workspace(tmp_path / "ws"))
    path = component(tmp_path / "c", TRAIN.replace("version: 1\n", ""))
    first = store.create(load_component_spec(path), reuse_newest=True)
    assert first.version == "1" and not first.unchanged
    again = store.create(load_component_spec(path), reuse_newest=True)  # a CI submitting it again
    assert again.version == "1" and again.unchanged and again.created_at == first.created_at
    assert [r.version for r in store.list("train")] == ["1"]
    (tmp_path / "c" / "src" / "train.py").write_text("print('v2')\n")  # other code: a new version
    assert store.create(load_component_spec(path), reuse_newest=True).version == "2"
    changed = load_component_spec(path, ["description=other"])  # another spec: a new version
    assert store.create(changed, reuse_newest=True).version == "3"
    assert store.create(load_component_spec(path, ["description=other"]), reuse_newest=True).version == "3"
    (tmp_path / "c" / "src" / "train.py").write_text("print('v1')\n")  # as version 1, not the newest
    assert store.create(load_component_spec(path), reuse_newest=True).version == "4"
    assert store.create(load_component_spec(path)).version == "5"  # the Python API: always the next


BUILT = """\
name: comp
type: command
command: echo hi
environment:
  build:
    path: ./ctx
    dockerfile_path: {dockerfile}
"""


def test_other_build_settings_are_a_new_version(tmp_path: Path) -> None:
    """Every ``environment.build`` key counts (not only the context's files): a component that names
    another Dockerfile in the same context is a new version that keeps its dockerfile_path."""
    store = ComponentStore(Workspace(tmp_path / "ws"))
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM python:3.11\n")
    (tmp_path / "ctx" / "Dockerfile.gpu").write_text("FROM python:3.12\n")
    for name, dockerfile in (("c1.yml", "Dockerfile"), ("c2.yml", "Dockerfile.gpu")):
        (tmp_path / name).write_text(BUILT.format(dockerfile=dockerfile))
    assert store.create(load_component_spec(tmp_path / "c1.yml"), reuse_newest=True).version == "1"
    gpu = store.create(load_component_spec(tmp_path / "c2.yml"), reuse_newest=True)
    assert gpu.version == "2" and not gpu.unchanged
    assert gpu.spec["environment"]["build"]["dockerfile_path"] == "Dockerfile.gpu"
    loaded = store.load("comp", "2").environment
    assert not isinstance(loaded, str) and loaded.build is not None
    assert loaded.build.dockerfile_path == "Dockerfile.gpu"
    again = store.create(load_component_spec(tmp_path / "c2.yml"), reuse_newest=True)
    assert again.version == "2" and again.unchanged
    (tmp_path / "ctx" / "Dockerfile.gpu").write_text("FROM python:3.13\n")  # the context's files count
    assert store.create(load_component_spec(tmp_path / "c2.yml"), reuse_newest=True).version == "3"


CONDA = "name: x\ndependencies:\n  - python=3.11\n  - pip:\n    - {package}\n"


@pytest.mark.parametrize("environment", ["{image: python:3.11, conda_file: conda.yml}", "file:env.yml"])
def test_a_conda_file_is_kept_and_compared_by_content(tmp_path: Path, environment: str) -> None:
    """A conda file (inline, or through an environment YAML) is copied with the component, so the
    registered version still has it, and a change to its text is a new version."""
    ws = Workspace(tmp_path / "ws")
    store = ComponentStore(ws)
    (tmp_path / "env.yml").write_text("name: e\nimage: python:3.11\nconda_file: conda.yml\n")
    (tmp_path / "conda.yml").write_text(CONDA.format(package="numpy"))
    path = tmp_path / "c.yml"
    path.write_text(f"name: comp\ntype: command\ncommand: echo hi\nenvironment: {environment}\n")
    first = store.create(load_component_spec(path), reuse_newest=True)
    assert first.version == "1"
    assert store.create(load_component_spec(path), reuse_newest=True).unchanged
    (tmp_path / "conda.yml").write_text(CONDA.format(package="pandas"))
    assert store.create(load_component_spec(path), reuse_newest=True).version == "2"
    (tmp_path / "conda.yml").unlink()
    (tmp_path / "env.yml").unlink()
    for version, package in (("1", "numpy"), ("2", "pandas")):  # each version kept its own conda file
        spec = store.load("comp", version)
        resolved = EnvironmentStore(ws).resolve_spec_environment(spec.environment, spec.base_dir)
        assert resolved.conda is not None and resolved.conda.requirements[-1] == package
