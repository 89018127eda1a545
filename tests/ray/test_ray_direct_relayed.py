"""A ``direct`` job on a Ray node whose store is on loopback (Azurite, relayed into the nodes' network
namespace by ``scripts/nsbridge.py``): as on one machine (``runner.backends.netns_relay``), its container
has a network namespace of its own with only ``lo``, the store's host:port relayed in by the node's
runner, and nothing else of the node's loopback reachable (the head's dashboard, whose Jobs API would let a
job submit jobs, and its GCS). A direct input is read and a direct output written through the relay.

Real cluster (tests/ray/conftest.py), real `runner job create --stream`, real containers, real Azurite."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_support import cli, containers_of, create_azure_datastore, show, write_job

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.ray]

# inside the nodes' namespace: the head's dashboard (Jobs API) and GCS, which a job must not reach
NODE_SERVICES = [("127.0.0.2", 8265), ("127.0.0.2", 6379)]

PROBE = r'''
import fsspec, json, os, socket, sys
seen = {"interfaces": sorted(os.listdir("/sys/class/net"))}
# two datastores (two SASes): each binding is opened with its own options (runner.plan.direct_env)
options = {name: json.loads(os.environ[f"AZURE_ML_{name}_STORAGE_OPTIONS"])
           for name in ("INPUT_d", "OUTPUT_o")}
with fsspec.open(sys.argv[1] + "/in.txt", "rb", **options["INPUT_d"]) as handle:  # through the relay
    seen["input"] = handle.read().decode()
fs, path = fsspec.core.url_to_fs(sys.argv[2], **options["OUTPUT_o"])
fs.pipe_file(path.rstrip("/") + "/out.txt", b"written through the relay")
for host, port in json.loads(sys.argv[3]):
    try:
        with socket.create_connection((host, port), timeout=5):
            seen[f"{host}:{port}"] = "connected"
    except OSError as exc:
        seen[f"{host}:{port}"] = type(exc).__name__
print("SEEN " + json.dumps(seen), flush=True)
'''


@pytest.fixture
def out_container(azure_container: Any) -> Any:
    """A second blob container: a direct output may not go to the compute's datastore's container."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    name = f"o{uuid.uuid4().hex[:20]}"
    service.create_container(name)
    yield SimpleNamespace(azurite=azure_container.azurite, name=name)
    service.delete_container(name)


def test_a_direct_job_on_a_node_reaches_its_loopback_store_through_a_relay_only(
        workspace_dir: Path, ray_cluster: Any, azure_container: Any, out_container: Any,
        docker_client: Any, tmp_path: Path) -> None:
    from azure.storage.blob import BlobServiceClient

    ws, name = workspace_dir, "r-direct-relay"
    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    service.get_blob_client(azure_container.name, "in/in.txt").upload_blob(b"from azurite on a node")
    ray_cluster.wait_idle()
    create_azure_datastore(ws, tmp_path, azure_container)
    create_azure_datastore(ws, tmp_path, out_container, name="azout")
    cli(ws, "compute", "create", "--name", "ray", "--type", "ray", "--address", ray_cluster.address,
        "--datastore", "az", check=True)
    for host, port in NODE_SERVICES:  # they listen in the nodes' namespace: reachable from a node
        reach = f"import socket; socket.create_connection(('{host}', {port}), timeout=5)"
        assert ray_cluster.exec("python3", "-c", reach).returncode == 0
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "probe.py").write_text(PROBE)
    job = write_job(tmp_path, f"""
        command: python probe.py ${{{{inputs.d}}}} ${{{{outputs.o}}}} '{json.dumps(NODE_SERVICES)}'
        code: ./src
        environment:
          image: runner/python:3.11
        compute: azureml:ray
        resources:
          properties:
            ray: {{resources: {{worker_tag: 1}}}}
        inputs:
          d: {{type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/in"}}
        outputs:
          o: {{type: uri_folder, mode: direct, path: "azureml://datastores/azout/paths/out"}}
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("SEEN ")]
    seen = json.loads(line[len("SEEN "):])
    assert seen["input"] == "from azurite on a node"
    assert seen["interfaces"] == ["lo"]  # no network of its own beyond loopback
    for host, port in NODE_SERVICES:  # on the node's (or the host's) network it would connect
        assert seen[f"{host}:{port}"] == "ConnectionRefusedError", seen
    written = service.get_blob_client(out_container.name, "out/out.txt").download_blob().readall()
    assert written == b"written through the relay"
    record = show(ws, name)
    azurite = azure_container.azurite
    assert record["status"] == "Completed", record.get("error")
    assert record["extra"]["ray"]["node_ip"] == "127.0.0.3"
    assert record["extra"]["network"].startswith(f"relayed to {azurite.host}:{azurite.port} only: "), record
    assert containers_of(docker_client, name) == []  # neither the job's container nor its network holder
