"""A ``direct`` job on Azurite Queued across an upgrade: its record's plan, written by a runner from before
``RunPlan.store_endpoints``, lacks that field. Run by this runner (the worker's entry, ``run_job``), its
container still gets the relay to the store alone (no network of its own but ``lo``), not the engine's
default network (the host's here), which would reach every loopback service of the machine. The
endpoint comes from the datastore's record; its account key is shown nowhere.

Real containers, real Azurite, driven through the jobs layer (no CLI)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers

from runner.jobs.run import run_job
from runner.jobs.submit import submit_job
from runner.spec.load import load_job_spec
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import JobStatus, Workspace

pytestmark = [pytest.mark.docker, pytest.mark.azure]


def test_an_older_queued_direct_job_on_azurite_gets_the_relay(
        workspace_dir: Path, tmp_path: Path, docker_client: Any, azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    azurite, name = azure_container.azurite, "relayolder"
    ContainerClient.from_connection_string(azurite.connection_string, azure_container.name
                                           ).upload_blob("in/in.txt", b"from azurite")
    ws = Workspace(workspace_dir)
    DatastoreStore(ws).save(datastore_from_dict({
        "name": "az", "type": "azure_blob", "account_name": azurite.account,
        "container_name": azure_container.name, "account_url": azurite.blob_endpoint,
        "credentials": {"account_key": azurite.key}}))
    spec = tmp_path / "job.yml"
    spec.write_text(textwrap.dedent("""
        command: echo "NET $(ls /sys/class/net | tr '\\n' ' ')" # ${{inputs.d}}
        inputs:
          d: {type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/in"}
        environment:
          image: runner/python:3.11
        """).lstrip())
    submit_job(ws, load_job_spec(spec), name=name, backend="docker")
    queued = ws.get_job(name)
    endpoint = f"{azurite.host}:{azurite.port}"
    assert queued.extra["plan"]["store_endpoints"] == [endpoint]  # as this runner plans it
    older = {key: value for key, value in queued.extra["plan"].items() if key != "store_endpoints"}
    ws.update_job(name, extra={**queued.extra, "plan": older})  # as a runner before the field stored it
    record = run_job(ws, name, quiet=True)
    assert record.status is JobStatus.COMPLETED, record.error
    assert record.extra["network"].startswith(f"relayed to {endpoint} only: "), record.extra["network"]
    log = ws.job_dir(name).std_log.read_text()
    assert "NET lo \n" in log, log  # no network of its own beyond loopback
    assert azurite.key not in json.dumps(record.extra, default=str) + log
    assert_no_leftovers(docker_client, workspace_dir, name)  # neither its container nor its network holder


def test_an_older_queued_direct_job_shows_its_relay_then_names_its_output_whose_datastore_is_gone(
        workspace_dir: Path, tmp_path: Path, docker_client: Any, azure_container: Any) -> None:
    """Before it starts, `runner job show` shows the relay it will get (not the engine's network); its
    output's datastore deleted meanwhile (`runner datastore delete`), it shows that the network is decided
    when it starts, and the run fails naming ``outputs.o`` and how to fix it, with no container made."""
    from azure.storage.blob import ContainerClient
    from jobs_support import cli

    azurite, name = azure_container.azurite, "relaygone"
    ContainerClient.from_connection_string(azurite.connection_string, azure_container.name
                                           ).upload_blob("in/in.txt", b"from azurite")
    ws = Workspace(workspace_dir)
    for store in ("az", "az2"):
        DatastoreStore(ws).save(datastore_from_dict({
            "name": store, "type": "azure_blob", "account_name": azurite.account,
            "container_name": azure_container.name, "account_url": azurite.blob_endpoint,
            "credentials": {"account_key": azurite.key}}))
    spec = tmp_path / "job.yml"
    spec.write_text(textwrap.dedent("""
        command: echo ${{inputs.d}} ${{outputs.o}}
        inputs:
          d: {type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/in"}
        outputs:
          o: {type: uri_folder, mode: direct, path: "azureml://datastores/az2/paths/out"}
        environment:
          image: runner/python:3.11
        """).lstrip())
    submit_job(ws, load_job_spec(spec), name=name, backend="docker")
    queued = ws.get_job(name)
    older = {key: value for key, value in queued.extra["plan"].items() if key != "store_endpoints"}
    ws.update_job(name, extra={**queued.extra, "plan": older})  # as a runner before the field stored it
    endpoint = f"{azurite.host}:{azurite.port}"
    shown = cli(workspace_dir, "job", "show", "--name", name, check=True).stdout
    assert f"relayed to {endpoint} only: " in shown, shown
    cli(workspace_dir, "datastore", "delete", "--name", "az2", check=True)
    shown = cli(workspace_dir, "job", "show", "--name", name, check=True).stdout
    assert "decided when the job starts (datastore 'az2' that outputs.o uses is not in this workspace any " \
           "more" in shown, shown
    record = run_job(ws, name, quiet=True)
    assert record.status is JobStatus.FAILED and record.error is not None
    assert record.error.startswith("outputs.o: datastore 'az2' of this output (azureml://datastores/az2/paths/"
                                   "out) is not in this workspace any more"), record.error
    assert "create datastore 'az2' again (`runner datastore create --file <datastore.yml>`" in record.error
    assert azurite.key not in json.dumps(record.extra, default=str) + shown + record.error
    assert "network" not in record.extra and record.container_id is None
    assert_no_leftovers(docker_client, workspace_dir, name)
