"""Azure's expressions in an output's path: ``${{name}}``, ``${{output_name}}`` and
``${{default_datastore}}`` (a pipeline's ``settings.default_datastore`` when it sets one) are
substituted, so every run writes its own folder; any other expression in a path is refused."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, show, write_job

pytestmark = pytest.mark.docker

PATH = "azureml://datastores/${{default_datastore}}/paths/custom/${{name}}/${{ output_name }}"


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    return workspace_dir


def test_a_command_job_writes_where_its_path_expressions_say(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, f"""
        command: echo p > ${{{{outputs.p}}}}/p.txt
        outputs:
          p:
            type: uri_folder
            path: {PATH}
            mode: upload
        environment:
          image: runner/busybox:latest
        """)
    for name in ("expr1", "expr2"):
        result = cli(ws, "job", "create", "--file", str(job), "--name", name, "--stream")
        assert result.returncode == 0, result.stdout + result.stderr
        expected = f"azureml://datastores/workspaceblobstore/paths/custom/{name}/p"
        assert show(ws, name)["outputs"]["p"] == expected
        assert (datastore_file(ws, f"custom/{name}/p") / "p.txt").read_text() == "p\n"
    assert not any("${{" in str(path) for path in datastore_file(ws, "custom").rglob("*"))


def test_an_unknown_expression_in_a_path_is_refused(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: echo p > ${{outputs.p}}/p.txt
        outputs:
          p:
            type: uri_folder
            path: azureml://datastores/workspaceblobstore/paths/${{inputs.x}}
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "validate", "--file", str(job))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown expression '${{inputs.x}}' in an output path" in result.stderr
    assert "outputs.p.path" in result.stderr and "Traceback" not in result.stderr


def test_a_pipeline_step_uses_the_pipelines_datastore_and_its_own_job_name(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "share").mkdir()
    store = write_job(tmp_path, "name: team_share\ntype: local\npath: ./share\n", name="store.yml")
    cli(ws, "datastore", "create", "--file", str(store), check=True)
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(textwrap.dedent(f"""
        type: pipeline
        settings:
          default_datastore: azureml:team_share
        jobs:
          make:
            type: command
            command: echo made > ${{{{outputs.out}}}}/made.txt
            environment:
              image: runner/busybox:latest
            outputs:
              out:
                type: uri_folder
                path: {PATH}
        """))
    result = cli(ws, "job", "create", "--file", str(pipeline), "--name", "pexpr", "--stream", timeout=290)
    assert result.returncode == 0, result.stdout + result.stderr
    step = json.loads(cli(ws, "job", "show", "--name", "pexpr-make", "-o", "json", check=True).stdout)
    assert step["outputs"]["out"] == "azureml://datastores/team_share/paths/custom/pexpr-make/out"
    assert (tmp_path / "share" / "custom" / "pexpr-make" / "out" / "made.txt").read_text() == "made\n"
