"""A Queued job's stored plan names datastores looked up again after it was queued
(``runner.jobs.stored_datastores``):

- one deleted since fails the job when it starts with one error naming the binding (``inputs.<n>`` /
  ``outputs.<n>``), its location and the fix, wherever it is looked up (resolved again, its direct
  credentials, its store endpoints);
- a job Queued by a runner that recorded no ``store_endpoints`` shows, in ``runner job show`` and the UI's
  job page, the network it will get when it starts (the relay to its loopback store), found read-only
  (no credential made, no record written); its datastore gone, the page says the network is decided when
  it starts, and why, and does not fail.

No Docker, no Azurite: records only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli

from runner.errors import ResolveError
from runner.jobs.direct_creds import with_direct_credentials
from runner.jobs.operations import JobOperations
from runner.jobs.run import run_job
from runner.jobs.stored_datastores import DECIDED, queued_network, shown_network
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.stored import plan_from_dict
from runner.plan.types import Binding, RunPlan
from runner.ui.jobs import job_view
from runner.workspace.azure_datastore import AzureDatastore
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.resolved import ResolvedPath

KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy"  # base64, a stand-in
AZURITE = {"name": "az", "type": "azure_blob", "account_name": "devstoreaccount1", "container_name": "c",
           "account_url": "http://127.0.0.1:10000/devstoreaccount1", "credentials": {"account_key": KEY}}
RELAYED = "relayed to 127.0.0.1:10000 only: "


def _binding(name: str, direction: Direction = Direction.INPUT, datastore: str = "az") -> Binding:
    uri = f"azureml://datastores/{datastore}/paths/{name}"
    return Binding(name, direction, AssetType.URI_FOLDER, Mode.DIRECT, uri, PathKind.FOLDER, "", "",
                   f"abfs://c/{name}", f"abfs://c/{name}")


def _plan(job_name: str, inputs: tuple[Binding, ...] = (), outputs: tuple[Binding, ...] = (), *,
          older: bool = True) -> dict[str, Any]:
    """A stored plan (JSON); ``older``: as a runner from before ``store_endpoints`` recorded it."""
    plan = RunPlan(job_name=job_name, image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir=f"/ws/jobs/{job_name}/code",
                   working_dir="/mnt/runner/code", inputs=inputs, outputs=outputs, literals={},
                   timeout_s=None)
    stored = json.loads(json.dumps(plan.to_dict()))
    if older:
        del stored["store_endpoints"]
    return stored


def _queue(ws: Workspace, name: str, stored: dict[str, Any]) -> None:
    ws.create_job(JobRecord(name=name, backend="docker", job_dir=str(ws.job_dir(name).root),
                            runner_pid=os.getpid(), inputs={b["name"]: b["uri"] for b in stored["inputs"]},
                            outputs={b["name"]: b["uri"] for b in stored["outputs"]}, extra={"plan": stored}))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    DatastoreStore(workspace).save(datastore_from_dict(AZURITE))
    return workspace


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Showing a job makes no credential: making one fails the test."""
    def refused(*_: object, **__: object) -> dict[str, str]:
        raise AssertionError("a credential was made to show a job")
    monkeypatch.setattr(AzureDatastore, "direct_env", refused)


def test_a_queued_job_whose_output_datastore_is_gone_names_the_output(ws: Workspace) -> None:
    _queue(ws, "out1", _plan("out1", outputs=(_binding("o", Direction.OUTPUT, datastore="gone"),)))
    record = run_job(ws, "out1", quiet=True)
    assert record.status is JobStatus.FAILED and record.error is not None
    assert record.error.startswith("outputs.o: datastore 'gone' of this output (azureml://datastores/gone/"
                                   "paths/o) is not in this workspace any more: it was deleted after the job "
                                   "was queued; datastores in this workspace: az, workspaceblobstore\n  "
                                   "hint: create datastore 'gone' again "), record.error
    assert "submit the job again (`runner job create --file <job.yml>`)" in record.error
    assert "Traceback" not in record.error and "network" not in record.extra


def test_a_datastore_gone_between_resolving_and_credentials_names_the_binding(ws: Workspace) -> None:
    direct = _binding("d", datastore="gone")
    found = {"d": ResolvedPath(uri=direct.uri, fs=None, path="c/d", url=direct.value, kind=PathKind.FOLDER,
                               datastore="gone")}
    with pytest.raises(ResolveError) as caught:
        with_direct_credentials((direct,), (), found, {}, DatastoreStore(ws))
    assert caught.value.field == "inputs.d" and "datastore 'gone' of this input" in caught.value.message
    assert caught.value.python_hint and "ml_client.datastores.create_or_update" in caught.value.python_hint


def test_an_older_queued_job_shows_the_relay_it_will_get(ws: Workspace, no_credentials: None) -> None:
    stored = _plan("old1", inputs=(_binding("d"),))
    _queue(ws, "old1", stored)
    before = ws.get_job("old1").model_dump_json()
    assert queued_network(ws, stored, plan_from_dict(stored)) is not None
    view = job_view(JobOperations(ws), "old1")
    assert f"network      {RELAYED}" in view["plan"], view["plan"]  # not the engine's default network
    table = cli(ws.root, "job", "show", "--name", "old1", check=True).stdout
    assert [line for line in table.splitlines() if line.split()[:1] == ["network"] and RELAYED in line], table
    assert KEY not in json.dumps(view, default=str) + table
    assert ws.get_job("old1").model_dump_json() == before  # nothing written


def test_an_older_queued_job_whose_datastore_is_gone_is_shown_not_failed(
        ws: Workspace, no_credentials: None) -> None:
    stored = _plan("old2", inputs=(_binding("d"),), outputs=(_binding("o", Direction.OUTPUT, datastore="x"),))
    _queue(ws, "old2", stored)
    view = job_view(JobOperations(ws), "old2")
    said = (f"network      {DECIDED} (datastore 'x' that outputs.o uses is not in this workspace any more: "
            "the job fails when it starts unless a datastore of that name is created again)")
    assert said in view["plan"], view["plan"]
    assert "`runner" not in view["plan"] and "--" not in said  # a page's words: no CLI command
    table = cli(ws.root, "job", "show", "--name", "old2", check=True).stdout
    assert f"{DECIDED} (datastore 'x' that outputs.o uses" in table, table
    assert ws.get_job("old2").status is JobStatus.QUEUED


def test_what_is_shown_for_a_job_that_recorded_its_endpoints_or_its_network(ws: Workspace) -> None:
    current = _plan("new1", inputs=(_binding("d"),), older=False)  # store_endpoints recorded (empty here)
    plan = plan_from_dict(current)
    assert queued_network(ws, current, plan) is None  # its plan's own network is shown
    assert shown_network(ws, {"plan": current, "network": "what it got"}, plan, terminal=True,
                         in_container=True) == "what it got"
    older = _plan("old3", inputs=(_binding("d", datastore="gone"),))
    assert shown_network(ws, {"plan": older}, plan_from_dict(older), terminal=True, in_container=True) is None
    assert shown_network(ws, {"plan": older}, plan_from_dict(older), terminal=False,
                         in_container=False).startswith("the host's network")
