"""A job on a real Ray cluster whose output upload fails (its datastore's container is deleted while the job
runs: one missing from the start fails the job before it runs, with nothing staged): runner on
the node keeps that output's staged data on the node, owner-only, in a keep folder of the job (nothing else
of its workspace: no datastore credentials), and the record on the submitting side says where ("kept on
Ray node <host> at <path>"), in its error, ``job show`` and ``job download``'s refusal, which copies
nothing (the path is the node's: never read here). The cluster's nodes are this machine, so the kept data
is checked there; the test removes the keep folder it made the node write."""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, wait_for_status, write_job

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.ray]

JOB = "r-kept-on-node"  # unique on the session's cluster (Ray ids)


@pytest.fixture
def ws(workspace_dir: Path, ray_cluster: Any, azure_container: Any, docker_client: Any,
       tmp_path: Path) -> Path:
    """A workspace with an Azure datastore ``az`` (the compute ``ray``'s), and ``gone``: the same account,
    a container the test deletes while its job runs (every upload there fails then)."""
    ray_cluster.wait_idle()
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    azurite = azure_container.azurite
    gone = write_job(tmp_path, f"""
        name: gone
        type: azure_blob
        account_name: {azurite.account}
        container_name: {azure_container.name}-gone
        account_url: {azurite.blob_endpoint}
        credentials:
          account_key: {azurite.key}
        """, name="datastore-gone.yml")
    cli(workspace_dir, "datastore", "create", "--file", str(gone), check=True)
    _service(azure_container).create_container(f"{azure_container.name}-gone")
    cli(workspace_dir, "compute", "create", "--name", "ray", "--type", "ray",
        "--address", ray_cluster.address, "--datastore", "az", check=True)
    return workspace_dir


def _service(azure_container: Any) -> Any:
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)


@pytest.fixture
def kept_folders() -> Iterator[list[Path]]:
    """The keep folders the test's job made a node write (removed at the end)."""
    found: list[Path] = []
    yield found
    for folder in found:
        if folder.name.startswith(f"runner-kept-{JOB}-") and not folder.is_symlink():
            shutil.rmtree(folder)  # links in it are removed, never followed


def test_an_output_whose_upload_failed_is_kept_on_the_node(ws: Path, tmp_path: Path, azure_container: Any,
                                                           kept_folders: list[Path]) -> None:
    job = write_job(tmp_path, """
        command: >-
          echo started && sleep 8 && echo one > ${{outputs.u}}/one.txt && mkdir ${{outputs.u}}/sub &&
          echo two > ${{outputs.u}}/sub/two.txt && echo fine > ${{outputs.k}}/fine.txt
        environment: runner/busybox:latest
        compute: azureml:ray
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/gone/paths/u"}
          k: {type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/k"}
        resources:
          properties:
            ray: {resources: {worker_tag: 1}}
        """)
    cli(ws, "job", "create", "--file", str(job), "--name", JOB, check=True)  # in the background
    wait_for_status(ws, JOB, {"Running"})
    log, deadline = ws / "jobs" / JOB / "user_logs" / "std_log.txt", time.monotonic() + 120
    while "started" not in (log.read_text() if log.exists() else ""):  # its command runs (resolved there)
        assert time.monotonic() < deadline, "the job's command did not start"
        time.sleep(0.2)
    _service(azure_container).delete_container(f"{azure_container.name}-gone")  # while its command sleeps
    wait_for_status(ws, JOB, {"Completed", "Failed", "Canceled"}, timeout=300)
    record = show(ws, JOB)
    assert record["status"] == "Failed" and record["exit_code"] == 0, record["error"]
    kept = record["extra"]["outputs_kept_on_node"]
    assert set(kept) == {"u"}, kept  # k was uploaded: nothing of it is kept
    entry = kept["u"]
    folder = Path(entry["path"]).parent
    kept_folders.append(folder)
    assert entry["files"] == 2 and entry["ip"] == "127.0.0.3" and entry["host"]
    # on the node (this machine): the staged data whole, owner-only, and nothing else of the workspace
    assert (Path(entry["path"]) / "one.txt").read_text() == "one\n"
    assert (Path(entry["path"]) / "sub" / "two.txt").read_text() == "two\n"
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700 and os.listdir(folder) == ["u"]
    assert not list(folder.parent.glob(f"runner-ray-{JOB}-*"))  # the node workspace is gone
    assert azure_container.azurite.key not in "".join(
        p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    # the submitting side says where, and never reads the node's path as its own
    where = f"kept on Ray node {entry['host']} (127.0.0.3) at {entry['path']}"
    assert entry["path"] in record["error"], record["error"]  # its error names the kept folder
    # and what to do: on that node, never the verb that refuses a Ray job's data kept there
    assert f"the staged data is kept on Ray node {entry['host']} (the folder named below)" in record["error"]
    assert "`runner job finalize` cannot upload it: on that node, copy it" in record["error"]
    assert "runner job finalize --name" not in record["error"], record["error"]
    refused_finalize = cli(ws, "job", "finalize", "--name", JOB)
    assert refused_finalize.returncode != 0 and "Traceback" not in refused_finalize.stderr
    assert f"is kept on Ray node {entry['host']}" in refused_finalize.stderr, refused_finalize.stderr
    assert "with the storage's own tools" in refused_finalize.stderr and "run the job again" in \
        refused_finalize.stderr
    log = (ws / "jobs" / JOB / "user_logs" / "std_log.txt").read_text()  # and the node said so in Ray's log
    assert f"output 'u' was not uploaded; its staged data is kept at {entry['path']}" in log, log
    refused = cli(ws, "job", "download", "--name", JOB, "--output-name", "u", "-p", str(tmp_path / "dl"))
    assert refused.returncode != 0 and where + " (2 files)" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "dl" / "named-outputs" / "u").exists()
    table = cli(ws, "job", "show", "--name", JOB, check=True).stdout
    assert f"on Ray node {entry['host']} (127.0.0.3) at {entry['path']} (2 files)" in table, table
    staged = ws / "jobs" / JOB / "outputs" / "u"
    assert not staged.exists() or not any(staged.rglob("*"))  # here: nothing staged, nothing counted
