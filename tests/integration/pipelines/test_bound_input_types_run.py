"""A pipeline run (Docker, runner/busybox): step ``make`` writes a uri_file output without a path (the
file ``.../azureml/<make's job>/out/out``); step ``keep`` reads it through an input with no declared type,
which takes the upstream output's type (uri_file, as in Azure ML), so ``cat`` reads the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli, datastore_file

PIPELINE = """\
type: pipeline
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}
    environment: {image: runner/busybox:latest}
    outputs:
      out: {type: uri_file}
  keep:
    type: command
    command: cat ${{inputs.src}} > ${{outputs.kept}}/copy.txt
    environment: {image: runner/busybox:latest}
    inputs:
      src: ${{parent.jobs.make.outputs.out}}
    outputs:
      kept: {}
"""


@pytest.mark.docker
def test_an_undeclared_input_reads_the_upstream_uri_file(workspace_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yml"
    spec.write_text(PIPELINE)
    result = cli(workspace_dir, "job", "create", "--file", str(spec), "--name", "bt", "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(cli(workspace_dir, "job", "show", "--name", "bt", "-o", "json", check=True).stdout)
    assert record["status"] == "Completed"
    assert datastore_file(workspace_dir, "azureml/bt-make/out/out").read_text() == "made\n"
    assert datastore_file(workspace_dir, "azureml/bt-keep/kept/copy.txt").read_text() == "made\n"
