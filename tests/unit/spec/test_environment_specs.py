"""Environments from conda files and environment YAMLs: what is installed (pure parsing), how a job's
environment resolves (built-ins, file:, build:, conda_file), the plan it makes and the build recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_paths import EXAMPLES

from runner.backends.conda_image import RECIPE_VERSION, content_hash, dockerfile
from runner.errors import SpecError
from runner.jobs.submit import plan_job
from runner.plan.render import render_plan
from runner.plan.stored import plan_from_dict
from runner.spec.environment import CondaSpec, conda_spec, load_environment_file
from runner.spec.load import load_job_spec
from runner.spec.yamlio import load_yaml
from runner.workspace.db import Workspace
from runner.workspace.environments import EnvironmentStore


@pytest.mark.examples
def test_the_dask_examples_conda_file() -> None:
    path = EXAMPLES / "cli/jobs/single-step/dask/nyctaxi/conda.yaml"
    spec = conda_spec(load_yaml(path).data, base_image="runner/python:3.11", source=str(path))
    assert spec.python == "3.8" and spec.name == "dask"
    assert spec.requirements[:3] == ("dask==2022.2.1", "distributed==2022.2.1", "jupyterlab")
    assert "fastparquet==0.8.0" in spec.requirements and "pandas==1.5.3" in spec.requirements
    assert not any(r.startswith(("pip", "python")) for r in spec.requirements)  # conda's own


@pytest.mark.parametrize(("dependency", "requirement"), [
    ("numpy=1.22", "numpy==1.22.*"), ("conda-forge::scipy==1.7.1", "scipy==1.7.1"),
    ("pytorch=1.12=py3.8_cuda11", "torch==1.12.*"), ("pandas>=1.3", "pandas>=1.3"), ("mkl", None),
    ("cudatoolkit=11.3", None), ("scikit-learn=1.0.*", "scikit-learn==1.0.*"),
])
def test_conda_pins_become_pip_requirements(dependency: str, requirement: str | None) -> None:
    spec = conda_spec({"dependencies": ["python=3.10.4", dependency]}, base_image="b", source="inline")
    assert spec.python == "3.10.4" and spec.requirements == ((requirement,) if requirement else ())


def test_unreadable_conda_files_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="must be a mapping"):
        conda_spec(["numpy"], base_image="b", source="c.yml")
    with pytest.raises(SpecError, match="cannot read dependency"):
        conda_spec({"dependencies": [3]}, base_image="b", source="c.yml")


def test_the_recipe_and_its_cache_key() -> None:
    spec = CondaSpec("runner/python:3.11", "3.8", ("tomli-w==1.0.0",), "conda.yml")
    text = dockerfile(spec, "sha256:abc", "pip-23.2.1-py3-none-any.whl", ca_bundle=True)
    assert text.startswith("FROM sha256:abc\n") and "command -v python3.8" in text
    assert "pip-23.2.1-py3-none-any.whl/pip install" in text
    assert "--cert /tmp/runner-conda/ca-bundle.pem" in text
    assert "--break-system-packages" in text and "rm -rf /tmp/runner-conda" in text
    key = content_hash(spec, "sha256:abc")
    assert key == content_hash(CondaSpec("other-name", "3.8.1", ("tomli-w==1.0.0",), "x.yml"), "sha256:abc")
    assert key != content_hash(spec, "sha256:def") and RECIPE_VERSION in ("1",)
    assert key != content_hash(CondaSpec("b", "3.8", ("tomli-w==1.0.1",), "c"), "sha256:abc")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_conda_file_job_plans_an_image_build(tmp_path: Path) -> None:
    _write(tmp_path, "env/conda.yml", "dependencies:\n  - python=3.11\n  - pip:\n    - tomli-w==1.0.0\n")
    job = _write(tmp_path, "job.yml", "command: python -V\nenvironment:\n  image: runner/python:3.11\n"
                                      "  conda_file: env/conda.yml\n")
    plan = plan_job(load_job_spec(job), workspace=Workspace(tmp_path / "ws"), job_name="j")
    assert plan.image == "" and plan.conda is not None
    assert plan.conda.base_image == "runner/python:3.11" and plan.conda.requirements == ("tomli-w==1.0.0",)
    assert plan.conda.source == str(tmp_path / "env" / "conda.yml")
    assert "conda        python 3.11, pip: tomli-w==1.0.0" in render_plan(plan)
    assert plan_from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert load_job_spec(job).warnings == []  # conda_file is used now, not ignored


def test_environment_file_and_folder_references(tmp_path: Path) -> None:
    _write(tmp_path, "envs/gpu/Dockerfile", "FROM runner/python:3.11\n")
    env_yml = _write(tmp_path, "envs/gpu/env.yml", "$schema: https://azuremlschemas.azureedge.net/latest/"
                                                   "environment.schema.json\nname: e\nversion: 1\nbuild:\n"
                                                   "  path: .\n")
    assert load_environment_file(env_yml).build.path == str(env_yml.parent)  # type: ignore[union-attr]
    store = EnvironmentStore(Workspace(tmp_path / "ws"))
    from_file = store.resolve_spec_environment("file:./envs/gpu/env.yml", tmp_path)
    assert from_file.build_context == str(tmp_path / "envs" / "gpu") and from_file.dockerfile == "Dockerfile"
    from_folder = store.resolve_spec_environment("file:envs/gpu", tmp_path)
    assert from_folder.build_context == str(tmp_path / "envs" / "gpu")
    bad = _write(tmp_path, "envs/bad.yml", "name: e\nimage: x\nsecrets: y\n")
    with pytest.raises(SpecError) as info:
        store.resolve_spec_environment("file:envs/bad.yml", tmp_path)
    assert f"{bad}:3:" in info.value.render() and "unknown field 'secrets'" in info.value.render()


def test_curated_environments_resolve_in_a_fresh_workspace(tmp_path: Path) -> None:
    store = EnvironmentStore(Workspace(tmp_path / "ws"))
    for reference in ("azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
                      "azureml:AzureML-sklearn-1.5@latest", "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:9",
                      "azureml://registries/azureml/environments/sklearn-1.0/labels/latest"):
        assert store.resolve_spec_environment(reference).image == "runner/python:3.11", reference
    assert store.resolve_spec_environment("python:3.11").image == "python:3.11"
    with pytest.raises(Exception, match="is not mapped"):
        store.resolve_spec_environment("azureml:AzureML-lightgbm-3.3@latest")


def test_build_progress_logs_each_step_off_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    from runner.backends.conda_image import BuildProgress

    with caplog.at_level("INFO", logger="runner.backends.conda_image"), \
            BuildProgress("building x", quiet=False) as progress:
        progress.line("Step 1/3 : FROM base\n")
        progress.line("runner: warning: the conda file asks for Python 3.8; the image has Python 3.11\n")
        progress.line("   ")
    messages = [r.getMessage() for r in caplog.records]
    assert "building x: Step 1/3 : FROM base" in messages
    assert "the conda file asks for Python 3.8; the image has Python 3.11" in messages  # a warning
    assert progress.tail[-1].startswith("runner: warning:") and len(progress.tail) == 2


def test_environment_tags_take_numbers_and_flags_as_every_other_tags_field_does(tmp_path: Path) -> None:
    """``tags: {a: 1}`` is accepted by Azure (tags are text): an inline environment, an environment file,
    the job, a model and a data asset all turn a scalar into its text, None into ''."""
    from runner.spec.data import Data
    from runner.spec.model import Model

    tags_yaml = "{a: 1, b: 2.5, c: true, d: x, e: }"
    expected = {"a": "1", "b": "2.5", "c": "True", "d": "x", "e": ""}
    job = _write(tmp_path, "job.yml", f"command: echo\ntags: {tags_yaml}\n"
                                      f"environment: {{image: python:3.11, tags: {tags_yaml}}}\n")
    spec = load_job_spec(job)
    assert spec.environment.tags == expected and spec.tags == expected  # type: ignore[union-attr]
    env_yml = _write(tmp_path, "env.yml", f"name: e\nversion: 1\nimage: python:3.11\ntags: {tags_yaml}\n")
    assert load_environment_file(env_yml).tags == expected
    raw = {"a": 1, "b": 2.5, "c": True, "d": "x", "e": None}
    assert Model(name="m", path="x", tags=raw).tags == expected == Data(name="d", path="x", tags=raw).tags
    bad = _write(tmp_path, "bad.yml", "command: echo\nenvironment: {image: python:3.11, tags: {a: [1, 2]}}\n")
    with pytest.raises(SpecError) as info:  # a list is not a tag value: one error, where it is
        load_job_spec(bad)
    assert f"{bad}:2:" in info.value.render() and "environment.tags.a" in info.value.render()
