"""A pipeline whose second step has a ``direct`` output on the Blob datastore (Azurite) its first step's
default output goes to (``settings.default_datastore``) is refused by ``job validate`` and ``job create``
before any step runs, with one error at the output's ``path:`` line naming the other step's output: the
direct output's credentials reach the whole container. Before, both passed and the pipeline failed at the
second step's start, after the first had run and written its output. Everything is this test's own: its
workspace in tmp_path, its container on Azurite (deleted afterwards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, write_job

pytestmark = pytest.mark.azure

PIPELINE = """
type: pipeline
settings:
  default_datastore: azureml:blob
jobs:
  train:
    type: command
    command: echo GENUINE > ${{outputs.model}}/weights.txt
    environment: {image: runner/busybox:latest}
    outputs:
      model: {type: uri_folder, mode: upload}
  score:
    type: command
    command: cp ${{inputs.m}}/weights.txt ${{outputs.scored}}/
    environment: {image: runner/busybox:latest}
    inputs:
      m: ${{parent.jobs.train.outputs.model}}
    outputs:
      scored: {type: uri_folder, mode: direct, path: azureml://datastores/blob/paths/elsewhere/scored}
"""


def _blobs(azure_container: Any) -> list[str]:
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                      azure_container.name)
    return [b.name for b in container.list_blobs()]


def test_validate_and_create_refuse_it_before_any_step_runs(workspace_dir: Path, tmp_path: Path,
                                                           azure_container: Any) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container, name="blob")
    pipeline = write_job(tmp_path, PIPELINE, name="vp.yml")
    line = next(i for i, text in enumerate(pipeline.read_text().splitlines(), 1) if "scored:" in text)
    for verb in (("validate",), ("create", "--stream")):
        result = cli(ws, "job", *verb, "--file", str(pipeline), "--name", "vp")
        err = result.stderr
        assert result.returncode == 2, result.stdout + err
        assert err.count("error:") == 1 and "Traceback" not in err, err
        assert err.startswith(f"error: {pipeline}:{line}:"), err
        assert "jobs.score.outputs.scored.path: step 'score': output 'scored' cannot be written there" in err
        assert "credentials for the whole container" in err and \
            "which holds output 'model' of job 'vp-train'" in err, err
        assert "hint: use mode: upload or rw_mount" in err, err
    for job in ("vp", "vp-train", "vp-score"):
        assert cli(ws, "job", "show", "--name", job).returncode != 0  # nothing was recorded
    assert _blobs(azure_container) == []  # no step ran
