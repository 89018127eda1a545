"""``runner job create --stream`` of a pipeline whose steps name an unregistered compute prints one
warning about it, in the runner's style, naming the steps: no second, differently worded one per step
(``WARNING runner.jobs.operations: ...``). Steps run as host processes (``--backend process``); everything
in this test's workspace."""

from __future__ import annotations

from pathlib import Path

from jobs_support import cli, write_job

PIPELINE = """
type: pipeline
settings:
  default_compute: azureml:cpu-cluster
jobs:
  one:
    type: command
    command: echo one
    environment: {image: unused:1}
  two:
    type: command
    command: echo two
    environment: {image: unused:1}
"""


def test_one_compute_warning_for_the_pipeline(workspace_dir: Path, tmp_path: Path) -> None:
    yml = write_job(tmp_path, PIPELINE, "pipeline.yml")
    result = cli(workspace_dir, "job", "create", "--file", str(yml), "--name", "cw1", "--stream",
                 "--backend", "process", check=True)
    printed = (result.stdout + result.stderr).splitlines()
    about = [line for line in printed if "cpu-cluster" in line]
    assert len(about) == 1, printed
    assert about[0].startswith(f"[pipeline] warning: {yml}:3:3: compute 'cpu-cluster' is not registered")
    assert about[0].endswith("(steps one, two)"), about
    assert not [line for line in printed if line.startswith("WARNING ")], printed
