"""The network a job gets, from its plan alone (``runner.plan.network``): the direct bindings' URLs and their
datastores' endpoints (``runner.workspace.store_endpoints``: host and port only, no credential made), as
``job validate`` prints it (text and ``-o json``) and as the docker backend gives it."""

from __future__ import annotations

import json
from dataclasses import replace

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.network import plan_network
from runner.plan.render import plan_data, render_plan
from runner.plan.stored import plan_from_dict
from runner.plan.types import Binding, RunPlan
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.store_endpoints import datastore_endpoints

KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy"  # base64, a stand-in
AZURITE = {"name": "az", "type": "azure_blob", "account_name": "devstoreaccount1", "container_name": "c",
           "account_url": "http://127.0.0.1:10000/devstoreaccount1", "credentials": {"account_key": KEY}}


def make_plan(*inputs: Binding, store_endpoints: tuple[str, ...] = ()) -> RunPlan:
    return RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/ws/jobs/j1/code",
                   working_dir="/mnt/runner/code", inputs=inputs, outputs=(), literals={}, timeout_s=None,
                   store_endpoints=store_endpoints)


def _direct_plan(*endpoints: str) -> RunPlan:
    blob = Binding("d", Direction.INPUT, AssetType.URI_FOLDER, Mode.DIRECT, "azureml://datastores/az/paths/in",
                   PathKind.FOLDER, "", "", "abfs://c/in", "abfs://c/in")
    return make_plan(blob, store_endpoints=endpoints)


def test_an_azure_datastore_is_at_the_endpoint_its_direct_credentials_name() -> None:
    azurite = datastore_from_dict(AZURITE)
    assert datastore_endpoints(azurite) == ("127.0.0.1:10000",)
    made = azurite.direct_env(write=False, valid_s=60)  # what the run gives the job: the same endpoint
    assert made["AZURE_STORAGE_BLOB_ENDPOINT"] == "http://127.0.0.1:10000/devstoreaccount1"
    azure = datastore_from_dict({**AZURITE, "account_url": None, "account_name": "acct"})
    assert datastore_endpoints(azure) == ("acct.blob.core.windows.net:443",)
    connection = {"name": "cs", "type": "azure_blob", "container_name": "c",
                  "connection_string": f"AccountName=a;AccountKey={KEY};BlobEndpoint=http://[::1]:10000/a;"}
    shown = datastore_endpoints(datastore_from_dict(connection))
    assert shown == ("[::1]:10000",) and KEY not in str(shown)


def test_an_fsspec_datastore_shows_its_endpoints_host_and_port_never_its_secrets() -> None:
    s3 = datastore_from_dict({"name": "s3", "type": "fsspec", "url": "s3://bucket/prefix",
                              "storage_options": {"key": "AKIAEXAMPLE", "secret": "s3cr3t-value",
                                                  "endpoint_url": "http://user:pw-secret@127.0.0.1:9000"}})
    shown = datastore_endpoints(s3)
    assert shown == ("127.0.0.1:9000",)
    plan = _direct_plan(*shown)
    printed = render_plan(plan) + json.dumps(plan_data(plan))
    assert "relayed to 127.0.0.1:9000 only" in printed
    assert not any(secret in printed for secret in ("s3cr3t", "pw-secret", "AKIAEXAMPLE", "user:"))
    local = datastore_from_dict({"name": "here", "type": "local", "path": "/tmp/x"})
    assert datastore_endpoints(local) == ()


def test_validate_prints_the_network_the_job_gets() -> None:
    none, relayed = make_plan(), _direct_plan("127.0.0.1:10000")
    remote = _direct_plan("acct.blob.example:443")
    assert "\nnetwork      none: no binding needs one\n" in render_plan(none)
    assert ("\nnetwork      relayed to 127.0.0.1:10000 only: a direct binding's store is on loopback; the "
            "container has no other network\n") in render_plan(relayed)
    assert "\nnetwork      the engine's default network (host when it has none): " in render_plan(remote)
    assert plan_data(relayed)["network"] == {"kind": "relayed", "endpoints": ["127.0.0.1:10000"],
                                             "description": plan_network(relayed).reason}
    assert plan_data(remote)["network"]["kind"] == "default"
    # the process backend runs no container: the host's network, whatever the stores
    for plan in (none, relayed, remote):
        assert plan_data(plan, in_container=False)["network"]["kind"] == "host"
        shown = render_plan(plan, in_container=False)
        assert "\nnetwork      the host's network: the process backend" in shown


def test_a_stored_plan_keeps_its_store_endpoints() -> None:
    plan = _direct_plan("127.0.0.1:10000", "[::1]:8080")
    again = plan_from_dict(json.loads(json.dumps(plan.to_dict())))  # as the job record holds it
    assert again == plan and plan_network(again) == plan_network(plan)
    older = plan.to_dict()
    del older["store_endpoints"]  # a plan recorded before: its bindings' URLs only
    assert plan_from_dict(older) == replace(plan, store_endpoints=())
