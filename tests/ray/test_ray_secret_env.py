"""A job on a real Ray cluster with secrets in its ``environment_variables`` (a connection string's account
key, a SAS URL): the container on the node gets the real values (it prints their digests, never the
values), while the record on the submitting side, ``job show -o json`` and ``runner.db`` show ``***``.
The values travel only in the job's package (as its datastores' credentials do). Everything in the
test's throwaway workspace and Azurite container."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, write_job

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.ray]

CONN = "AccountName=a;AccountKey=RAYSECRETkey0471==;EndpointSuffix=core.windows.net"
SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=RAYSECRETSIG0472"
SECRETS = (b"RAYSECRETkey0471", b"RAYSECRETSIG0472")
PRINT = ("for v in CONN SAS; do eval \"x=\\$$v\"; printf '%s=' \"$v\"; "
         "printf %s \"$x\" | sha256sum | cut -c1-64; done")


@pytest.fixture
def ws(workspace_dir: Path, ray_cluster: Any, azure_container: Any, docker_client: Any,
       tmp_path: Path) -> Path:
    """A workspace with an Azure datastore ``az`` and the compute ``ray`` (the session's cluster)."""
    ray_cluster.wait_idle()
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    cli(workspace_dir, "compute", "create", "--name", "ray", "--type", "ray",
        "--address", ray_cluster.address, "--datastore", "az", check=True)
    return workspace_dir


def test_the_node_gets_the_secrets_and_the_record_does_not(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, "\n".join([
        f"command: {json.dumps(PRINT)}", "environment: runner/busybox:latest", "compute: azureml:ray",
        "environment_variables:", f"  CONN: {json.dumps(CONN)}", f"  SAS: {json.dumps(SAS)}"]) + "\n")
    result = cli(ws, "job", "create", "--file", str(job), "--name", "r-secret", "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    for name, value in (("CONN", CONN), ("SAS", SAS)):
        assert f"{name}={hashlib.sha256(value.encode()).hexdigest()}" in result.stdout, result.stdout
    record = show(ws, "r-secret")
    assert record["status"] == "Completed" and record["spec"]["environment_variables"]["CONN"] == "***"
    stored = b"".join(p.read_bytes() for p in ws.glob("runner.db*"))
    for text in (json.dumps(record).encode(), (result.stdout + result.stderr).encode(), stored):
        assert not any(secret in text for secret in SECRETS)
