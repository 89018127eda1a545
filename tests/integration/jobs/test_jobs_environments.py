"""Environments built for a job (real Docker): a conda file's packages on its base image (one already in
the image, one tiny package from the package index), built once per content and reused; an Azure
environment YAML through ``environment: file:``; a base image that is not local is a clear error."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, show, write_job

from runner.backends.conda_image import TAG_PREFIX, content_hash
from runner.spec.environment import conda_spec
from runner.spec.yamlio import load_yaml

pytestmark = pytest.mark.docker


def _run(ws: Path, job: Path, name: str) -> tuple[dict[str, Any], str]:
    result = cli(ws, "job", "create", "--file", str(job), "--name", name, "--stream", timeout=280)
    record = show(ws, name)
    assert result.returncode == 0 and record["status"] == "Completed", f"{result.stdout}\n{result.stderr}"
    return record, result.stdout


def test_conda_file_builds_once_and_is_reused(workspace_dir: Path, tmp_path: Path,
                                              docker_client: Any) -> None:
    # tomli-w is a small pure-Python package the base image lacks (it comes from the package index);
    # pyyaml is in the image already (pip finds it satisfied)
    conda = write_job(tmp_path, """
        name: tiny
        dependencies:
          - python=3.11
          - pyyaml=6.0
          - pip:
            - tomli-w==1.0.0
        """, name="conda.yml")
    spec = conda_spec(load_yaml(conda).data, base_image="runner/python:3.11", source=str(conda))
    tag = TAG_PREFIX + content_hash(spec, docker_client.images.get("runner/python:3.11").id)[:16] + ":latest"
    with contextlib.suppress(Exception):  # built by an earlier run: this one builds it again
        docker_client.images.remove(tag, force=True)
    job = write_job(tmp_path, """
        command: >-
          python -c "import tomli_w, yaml; print(tomli_w.dumps(dict(built=True)).strip(), yaml.__version__)"
        environment:
          image: runner/python:3.11
          conda_file: conda.yml
        """)
    first, out = _run(workspace_dir, job, "conda-1")
    assert out.splitlines()[0] == "built = true 6.0.2"
    second, out = _run(workspace_dir, job, "conda-2")
    assert out.splitlines()[0] == "built = true 6.0.2"
    assert first["image_id"] == second["image_id"]  # the same content: the same image, not rebuilt
    assert docker_client.images.get(tag).id == first["image_id"]


def test_an_environment_yaml_through_file(workspace_dir: Path, tmp_path: Path) -> None:
    context = tmp_path / "environments" / "marked"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\nRUN echo from-env-yaml > /marker\n")
    (context / "env.yml").write_text(textwrap.dedent("""\
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: marked
        version: 1
        build:
          path: .
        """))
    job = write_job(tmp_path, "command: cat /marker\nenvironment: file:./environments/marked/env.yml\n")
    _record, out = _run(workspace_dir, job, "env-file")
    assert out.splitlines()[0] == "from-env-yaml"  # the job's log, then the summary (stdout, as az ml)


def test_a_base_image_that_is_not_local_is_not_pulled(workspace_dir: Path, tmp_path: Path) -> None:
    write_job(tmp_path, "dependencies:\n  - python=3.8\n", name="conda.yml")
    job = write_job(tmp_path, """
        command: python -V
        environment:
          image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04
          conda_file: conda.yml
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "no-base", "--stream")
    assert result.returncode == 4  # the job could not be started
    error = show(workspace_dir, "no-base")["error"]
    assert "image 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04' is not available locally " \
           "(pulling is disabled)" in error


def test_a_registered_conda_environment(workspace_dir: Path, tmp_path: Path) -> None:
    # six is not in runner/python:3.11: it comes from the conda file's pip list (the package index)
    env_dir = tmp_path / "env"
    write_job(env_dir, "dependencies:\n  - pip\n  - pip:\n    - six==1.17.0\n", name="conda.yml")
    env_file = write_job(env_dir, """
        name: condaenv
        image: runner/python:3.11
        conda_file: conda.yml
        tags: {team: vision}
        """, name="env.yml")
    cli(workspace_dir, "environment", "create", "--file", str(env_file), check=True)
    (env_dir / "conda.yml").unlink()  # registered: a snapshot of the file, which may go away
    job = write_job(tmp_path / "job", """
        command: python -c "import six; print('six', six.__version__)"
        environment: azureml:condaenv@latest
        """)
    _record, out = _run(workspace_dir, job, "registered-conda")
    assert out.splitlines()[0] == "six 1.17.0"
