"""Jobs' outputs on a datastore other than the default one are protected as on the default one. A
pipeline with ``settings.default_datastore`` (here an Azure Blob datastore on Azurite) and a Ray compute's
datastore get jobs' default outputs (``azureml/<job>/``), artifacts (``ExperimentRun/dcid.<job>/``) and the
Ray node's control files (``runner/ray-jobs/<job>/``, whose ``result.json`` the follower records). A job
whose output is aimed at another job's folder there, or at a folder holding them, and a ``direct`` output
in that container (whose credentials reach the whole container) are refused by ``job validate`` and
``job create`` alike, before anything runs, with one error at the output's ``path:`` line.

The review's repro end to end: pipeline ``vp`` writes GENUINE to its step's default output on the Blob
datastore; a plain job aiming FORGED at that output is refused, and ``job download`` and ``model create``
from the step's output still give GENUINE. Everything is this test's own: its workspace in tmp_path, its
container on Azurite (deleted afterwards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, write_job

pytestmark = pytest.mark.azure

BLOB = "azureml://datastores/blob/paths"
OTHERS = {"another job's output": f"{BLOB}/azureml/vp-train/model",
          "another job's artifacts": f"{BLOB}/ExperimentRun/dcid.victimray/outputs",
          "a Ray job's control files": f"{BLOB}/runner/ray-jobs/victimray",
          "a Ray job's result": f"{BLOB}/runner/ray-jobs/victimray/result.json",
          "the folder of every job's outputs": f"{BLOB}/azureml/"}
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
"""


def _blobs(azure_container: Any) -> dict[str, bytes]:
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                      azure_container.name)
    return {b.name: container.download_blob(b.name).readall() for b in container.list_blobs()}


def _job(folder: Path, path: str, mode: str) -> Path:
    kind = "uri_file" if path.endswith(".json") else "uri_folder"
    return write_job(folder, f"""
        command: echo FORGED > /tmp/x
        outputs:
          out: {{type: {kind}, mode: {mode}, path: "{path}"}}
        environment: {{image: runner/busybox:latest}}
        """, name=f"forge-{mode}.yml")


def _refused(ws: Path, job: Path, *expected: str) -> None:
    """``job validate`` and ``job create`` each end with one spec error at the output's path: line."""
    for verb in (("validate",), ("create", "--stream", "--name", "forger")):
        result = cli(ws, "job", *verb, "--file", str(job))
        err = result.stderr
        assert result.returncode == 2, result.stdout + err
        assert err.count("error:") == 1 and "Traceback" not in err, err
        assert f"{job.name}:3:" in err, err
        assert "outputs.out.path: output 'out' cannot be written there" in err, err
        assert "hint:" in err, err
        for words in expected:
            assert words in err, (words, err)
    assert cli(ws, "job", "show", "--name", "forger").returncode != 0  # nothing was recorded


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_another_jobs_folder_on_a_non_default_datastore_is_refused(workspace_dir: Path, tmp_path: Path,
                                                                   azure_container: Any, mode: str) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container, name="blob")
    for what, path in OTHERS.items():
        folder = tmp_path / what.replace(" ", "-").replace("'", "")
        _refused(ws, _job(folder, path, mode), "of datastore 'blob'", "where runner keeps every")
    root = _job(tmp_path / "root", f"{BLOB}/", mode)  # holds the upload folders too: named first
    _refused(ws, root, f"'{BLOB}/' holds LocalUpload/ on datastore 'blob'")
    assert _blobs(azure_container) == {}  # nothing was written


def test_a_direct_output_on_a_ray_computes_datastore_is_refused(workspace_dir: Path, tmp_path: Path,
                                                               azure_container: Any) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container, name="blob")
    job = _job(tmp_path, f"{BLOB}/mine/d", "direct")
    assert cli(ws, "job", "validate", "--file", str(job)).returncode == 0  # no job's outputs there yet
    cli(ws, "compute", "create", "--name", "rc", "--address", "http://127.0.0.2:9", "--datastore", "blob",
        check=True)
    _refused(ws, job, "credentials for the whole container", "Ray compute 'rc' (blob)",
             "mode: upload or rw_mount")
    assert _blobs(azure_container) == {}


@pytest.mark.docker
def test_a_pipeline_steps_output_on_its_default_datastore_cannot_be_forged(
        workspace_dir: Path, tmp_path: Path, azure_container: Any, docker_client: Any) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container, name="blob")
    pipeline = write_job(tmp_path, PIPELINE, name="vp.yml")
    ran = cli(ws, "job", "create", "--file", str(pipeline), "--name", "vp", "--stream", timeout=290)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    written = _blobs(azure_container)
    assert written["azureml/vp-train/model/weights.txt"] == b"GENUINE\n", written

    _refused(ws, _job(tmp_path / "upload", f"{BLOB}/azureml/vp-train/model", "upload"),
             "lies in azureml/ of datastore 'blob'", "a job writes there only under its own name")
    _refused(ws, _job(tmp_path / "direct", f"{BLOB}/elsewhere/d", "direct"),
             "credentials for the whole container",
             f"which holds output 'model' of job 'vp-train' ({BLOB}/azureml/vp-train/model)")
    assert _blobs(azure_container) == written  # nothing changed

    got = tmp_path / "got"
    cli(ws, "job", "download", "--name", "vp-train", "--output-name", "model", "--download-path", str(got),
        check=True)
    [weights] = got.rglob("weights.txt")
    assert weights.read_bytes() == b"GENUINE\n"
