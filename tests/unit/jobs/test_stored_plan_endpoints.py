"""A job Queued across an upgrade: its stored plan, made by a runner from before ``RunPlan.store_endpoints``,
has none, so a direct binding on a loopback store (Azurite) would get the engine's default network (the
host's) instead of its relay. The run finds them from the datastores' records by the plan-time rule
(``runner.jobs.direct_creds.with_stored_endpoints``; no credential made, no secret shown), or, the
datastore gone, fails the job with one clear error. No Docker, no Azurite: records only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runner.errors import ResolveError
from runner.jobs.direct_creds import with_stored_endpoints
from runner.jobs.run import run_job
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.network import DEFAULT, NONE, RELAYED, plan_network
from runner.plan.stored import plan_from_dict
from runner.plan.types import Binding, RunPlan
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.resolved import ResolvedPath

KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy"  # base64, a stand-in
AZURITE = {"name": "az", "type": "azure_blob", "account_name": "devstoreaccount1", "container_name": "c",
           "account_url": "http://127.0.0.1:10000/devstoreaccount1", "credentials": {"account_key": KEY}}


def _binding(name: str, mode: Mode, datastore: str = "az") -> Binding:
    uri = f"azureml://datastores/{datastore}/paths/{name}"
    return Binding(name, Direction.INPUT, AssetType.URI_FOLDER, mode, uri, PathKind.FOLDER, "", "",
                   f"abfs://c/{name}", f"abfs://c/{name}")


def _older_plan(*inputs: Binding, job_name: str = "j1") -> dict[str, Any]:
    """A plan as a runner from before ``store_endpoints`` recorded it (JSON, the field absent)."""
    plan = RunPlan(job_name=job_name, image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir=f"/ws/jobs/{job_name}/code",
                   working_dir="/mnt/runner/code", inputs=inputs, outputs=(), literals={}, timeout_s=None)
    stored = json.loads(json.dumps(plan.to_dict()))
    del stored["store_endpoints"]
    return stored


def _resolved(*inputs: Binding, datastore: str = "az") -> dict[str, ResolvedPath]:
    return {b.name: ResolvedPath(uri=b.uri, fs=None, path=f"c/{b.name}", url=b.value, kind=PathKind.FOLDER,
                                 datastore=datastore) for b in inputs}


@pytest.fixture
def datastores(tmp_path: Path) -> DatastoreStore:
    store = DatastoreStore(Workspace(tmp_path / "ws"))
    store.save(datastore_from_dict(AZURITE))
    return store


def test_an_older_plan_on_azurite_gets_its_relay_from_the_datastore_record(
        datastores: DatastoreStore) -> None:
    direct = _binding("d", Mode.DIRECT)
    stored = _older_plan(direct)
    plan = plan_from_dict(stored)
    assert plan_network(plan).kind == DEFAULT  # as read back: the engine's default network (the bug)
    repaired = with_stored_endpoints(stored, plan, _resolved(direct), {}, datastores)
    assert repaired.store_endpoints == ("127.0.0.1:10000",)
    network = plan_network(repaired)
    assert network.kind == RELAYED and network.endpoints == (("127.0.0.1", 10000),)
    assert KEY not in json.dumps(repaired.to_dict()) + network.reason  # the endpoint only, no secret
    assert repaired == plan_from_dict({**stored, "store_endpoints": ["127.0.0.1:10000"]})  # as planned now


def test_a_plan_that_recorded_its_endpoints_or_needs_no_network_is_left_alone(
        datastores: DatastoreStore) -> None:
    direct = _binding("d", Mode.DIRECT)
    recorded = {**_older_plan(direct), "store_endpoints": []}  # this runner's: the field says "none"
    plan = plan_from_dict(recorded)
    assert with_stored_endpoints(recorded, plan, _resolved(direct), {}, datastores) is plan
    mounted = _binding("m", Mode.RO_MOUNT)  # no direct binding: nothing reaches a store from the container
    older = _older_plan(mounted)
    plan = plan_from_dict(older)
    assert with_stored_endpoints(older, plan, _resolved(mounted), {}, datastores) is plan
    assert plan_network(plan).kind == NONE


def test_an_older_plan_whose_datastore_is_gone_is_refused_not_widened(datastores: DatastoreStore) -> None:
    direct = _binding("d", Mode.DIRECT, datastore="gone")
    stored = _older_plan(direct)
    with pytest.raises(ResolveError) as caught:
        with_stored_endpoints(stored, plan_from_dict(stored), _resolved(direct, datastore="gone"), {},
                              datastores)
    said = caught.value.render()  # the binding that needs it, where it was, and how to fix it
    assert said.startswith("inputs.d: datastore 'gone' of this input (azureml://datastores/gone/paths/d) is "
                           "not in this workspace any more"), said
    assert "`runner datastore create --file <datastore.yml>`" in said and "submit the job again" in said


def test_a_queued_older_job_whose_datastore_is_gone_fails_with_one_clear_error(tmp_path: Path) -> None:
    """Run from its record (the worker's entry): Failed before any engine or container is involved."""
    ws = Workspace(tmp_path / "ws")
    DatastoreStore(ws).save(datastore_from_dict(AZURITE))
    direct = _binding("d", Mode.DIRECT, datastore="gone")
    ws.create_job(JobRecord(name="old1", backend="docker", job_dir=str(ws.job_dir("old1").root),
                            runner_pid=os.getpid(), inputs={"d": direct.uri},
                            extra={"plan": _older_plan(direct, job_name="old1")}))
    record = run_job(ws, "old1", quiet=True)
    assert record.status is JobStatus.FAILED
    assert record.error is not None and record.error.startswith("inputs.d: datastore 'gone' of this input "
                                                                "(azureml://datastores/gone/paths/d)")
    assert "it was deleted after the job was queued" in record.error and "hint: create datastore 'gone' " \
        "again (`runner datastore create --file <datastore.yml>`" in record.error, record.error
    assert "Traceback" not in record.error and record.container_id is None
    assert "network" not in record.extra  # never given one
