"""A pipeline whose steps run on the Ray cluster (issue 19 on issue 17's computes): each step is a normal
job submitted through ``JobOperations``, so a step naming the Ray compute becomes a Ray Job; independent
steps spread over the two nodes at once (they take no local slot), a step on ``local-process`` runs here,
and outputs flow between them through the compute's Azure datastore."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, spawn, write_job
from ray_overlap import WAIT_FOR_GO, WAIT_S, release_together

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.ray]

PIPELINE = """
type: pipeline
settings:
  default_compute: azureml:ray
  default_datastore: azureml:az
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}/m.txt
    environment: runner/busybox:latest
    resources: {properties: {ray: {resources: {'node:127.0.0.2': 0.01}}}}
    outputs:
      out: {mode: upload}
  left:
    type: command
    command: WAIT; cat ${{inputs.src}}/m.txt > ${{outputs.out}}/l.txt && echo left
    environment: runner/busybox:latest
    resources: {properties: {ray: {resources: {'node:127.0.0.2': 0.01}}}}
    inputs:
      src: {path: "${{parent.jobs.make.outputs.out}}", mode: download}
    outputs:
      out: {mode: upload}
  right:
    type: command
    command: WAIT; cat ${{inputs.src}}/m.txt > ${{outputs.out}}/r.txt && echo right
    environment: runner/busybox:latest
    resources: {properties: {ray: {resources: {worker_tag: 1}}}}
    inputs:
      src: {path: "${{parent.jobs.make.outputs.out}}", mode: download}
    outputs:
      out: {mode: upload}
  join:
    type: command
    compute: local-process
    command: cat ${{inputs.l}}/l.txt ${{inputs.r}}/r.txt
    environment: runner/busybox:latest
    inputs:
      l: {path: "${{parent.jobs.left.outputs.out}}", mode: download}
      r: {path: "${{parent.jobs.right.outputs.out}}", mode: download}
"""


def test_steps_on_the_cluster_and_here(workspace_dir: Path, ray_cluster: Any, azure_container: Any,
                                       docker_client: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace_dir
    monkeypatch.setenv("RUNNER_PIPELINE_MAX_PARALLEL", "1")  # one local slot: the cluster's steps need none
    ray_cluster.wait_idle()
    create_azure_datastore(ws, tmp_path, azure_container)
    cli(ws, "compute", "create", "--name", "ray", "--type", "ray", "--address", ray_cluster.address,
        "--datastore", "az", check=True)
    yml = write_job(tmp_path, PIPELINE.replace("WAIT;", f"{WAIT_FOR_GO};"), "pipeline.yml")
    pipeline = spawn(ws, "job", "create", "--file", str(yml), "--name", "rp", "--stream")
    try:  # left and right end well only once released together: they ran at once
        release_together(docker_client, ["rp-left", "rp-right"], timeout=WAIT_S + 60)
    finally:
        out, err = pipeline.communicate(timeout=280)
    result = SimpleNamespace(returncode=pipeline.returncode, stdout=out, stderr=err)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[join] made\n[join] made" in result.stdout.replace("\r", "")
    assert "[left] left" in result.stdout and "[right] right" in result.stdout
    left, right, join = (show(ws, f"rp-{step}") for step in ("left", "right", "join"))
    assert {left["extra"]["ray"]["node_ip"], right["extra"]["ray"]["node_ip"]} == {"127.0.0.2", "127.0.0.3"}
    assert "ray" not in join["extra"] and join["backend"] == "process"
    assert all(r["spec"]["parent_job_name"] == "rp" for r in (left, right, join))
    assert left["outputs"]["out"].startswith("azureml://datastores/az/paths/azureml/rp-left/out")
