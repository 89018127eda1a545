"""A ``direct`` job whose store is on loopback (Azurite) reaches that store and nothing else of the host:
its container has no network of its own (only ``lo``), and runner relays the store's endpoint into it
(``runner.backends.netns_relay``). Before, it ran on the host's network and reached every loopback service
of the machine: a listener this test opens on 127.0.0.1 and 127.0.0.2 stands for them (a Ray dashboard's
Jobs API, the web UI). The holder container and the relay are gone after the job, whether its command
succeeded or failed.

Real `runner job create --stream`, real containers, real Azurite."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import (
    assert_no_leftovers,
    cli,
    containers_of,
    create_azure_datastore,
    show,
    wait_for_status,
    watchdog_pids,
    write_job,
)

pytestmark = [pytest.mark.docker, pytest.mark.azure]

PROBE = r'''
import fsspec, json, os, socket, sys
seen = {"interfaces": sorted(os.listdir("/sys/class/net")), "localhost": socket.gethostbyname("localhost")}
with fsspec.open(sys.argv[1] + "/in.txt", "rb") as handle:  # the direct input, through the relay
    seen["input"] = handle.read().decode()
fs, path = fsspec.core.url_to_fs(sys.argv[2])
fs.pipe_file(path.rstrip("/") + "/out.txt", b"written through the relay")
for host, port in json.loads(sys.argv[3]):
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            seen[f"{host}:{port}"] = sock.recv(16).decode()
    except OSError as exc:
        seen[f"{host}:{port}"] = type(exc).__name__
print("SEEN " + json.dumps(seen), flush=True)
sys.exit(int(sys.argv[4]))
'''


@pytest.fixture
def host_services() -> Iterator[list[tuple[str, int]]]:
    """Throwaway listeners on the host's loopback (127.0.0.1 and 127.0.0.2), each answering "secret"."""
    servers, stop = [], threading.Event()
    for host in ("127.0.0.1", "127.0.0.2"):
        server = socket.create_server((host, 0))
        server.settimeout(0.2)
        servers.append(server)

    def answer(server: socket.socket) -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"secret")

    threads = [threading.Thread(target=answer, args=(s,), daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield [s.getsockname()[:2] for s in servers]
    stop.set()
    for thread in threads:
        thread.join()
    for server in servers:
        server.close()


def _run(ws: Path, tmp_path: Path, name: str, services: list[tuple[str, int]], exit_code: int) -> str:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "probe.py").write_text(PROBE)
    job = write_job(tmp_path, f"""
        command: python probe.py ${{{{inputs.d}}}} ${{{{outputs.o}}}} '{json.dumps(services)}' {exit_code}
        code: ./src
        inputs:
          d: {{type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/in"}}
        outputs:
          o: {{type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/out/{name}"}}
        environment:
          image: runner/python:3.11
        """, name=f"{name}.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == (0 if exit_code == 0 else 1), result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("SEEN ")]
    return line[len("SEEN "):]


@pytest.mark.parametrize("exit_code", [0, 3])
def test_a_direct_job_reaches_its_store_and_no_other_loopback_service(
        workspace_dir: Path, tmp_path: Path, docker_client: Any, azure_container: Any,
        host_services: list[tuple[str, int]], exit_code: int) -> None:
    from azure.storage.blob import ContainerClient

    ws, name = workspace_dir, f"relay{exit_code}"
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    container.upload_blob("in/in.txt", b"from azurite")
    create_azure_datastore(ws, tmp_path, azure_container)
    for host, port in host_services:  # the services answer on the host: the job must not reach them
        with socket.create_connection((host, port), timeout=5) as sock:
            assert sock.recv(16) == b"secret"
    seen = json.loads(_run(ws, tmp_path, name, host_services, exit_code))
    for host, port in host_services:  # on the host's network: "secret"
        assert seen[f"{host}:{port}"] == "ConnectionRefusedError", seen
    assert seen["interfaces"] == ["lo"]  # no network of its own beyond loopback
    assert seen["localhost"] == "127.0.0.1"  # its /etc/hosts: the job's own file, as with no network
    assert seen["input"] == "from azurite"
    assert container.download_blob(f"out/{name}/out.txt").readall() == b"written through the relay"
    record = show(ws, name)
    azurite = azure_container.azurite
    assert record["extra"]["network"].startswith(f"relayed to {azurite.host}:{azurite.port} only: ")
    assert record["status"] == ("Completed" if exit_code == 0 else "Failed")
    assert_no_leftovers(docker_client, ws, name)  # neither the job's container nor its network holder


def test_a_killed_runner_leaves_no_network_holder_after_recovery(
        workspace_dir: Path, tmp_path: Path, docker_client: Any, azure_container: Any) -> None:
    """The relay dies with its runner; the holder, labelled as the job's, goes with the job's container
    when the next runner command recovers the job."""
    from azure.storage.blob import ContainerClient

    ws, name = workspace_dir, "relaykill"
    ContainerClient.from_connection_string(azure_container.azurite.connection_string, azure_container.name
                                           ).upload_blob("in/in.txt", b"from azurite")
    create_azure_datastore(ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: echo started; sleep 120 # ${{inputs.d}}
        inputs:
          d: {type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/in"}
        environment:
          image: runner/python:3.11
        """)
    cli(ws, "job", "create", "--file", str(job), "--name", name, check=True)
    record = wait_for_status(ws, name, {"Running", "Failed"})
    assert record["status"] == "Running", record.get("error")
    roles = sorted(c.labels.get("runner.role", "job") for c in containers_of(docker_client, name))
    assert roles == ["job", "network"]  # the job's container and its network holder
    for pid in (*watchdog_pids(ws, name), record["runner_pid"]):  # a live watchdog would keep the job
        os.kill(pid, signal.SIGKILL)
    cli(ws, "job", "list", check=True)  # recovery
    assert show(ws, name)["status"] == "Failed"
    assert_no_leftovers(docker_client, ws, name)


def test_validate_shows_the_network_the_job_then_gets(
        workspace_dir: Path, tmp_path: Path, docker_client: Any, azure_container: Any) -> None:
    """``job validate`` says, before anything runs, the network the job's container will get; the run gives
    it that one (the record's ``extra.network``): the store's endpoint found once, from the plan. The
    datastore's account key is in neither."""
    from azure.storage.blob import ContainerClient

    ws, name, azurite = workspace_dir, "relayvalidate", azure_container.azurite
    ContainerClient.from_connection_string(azurite.connection_string, azure_container.name
                                           ).upload_blob("in/in.txt", b"from azurite")
    create_azure_datastore(ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: echo ${{inputs.d}}
        inputs:
          d: {type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/in"}
        environment:
          image: runner/python:3.11
        """, name="validate.yml")
    text = cli(ws, "job", "validate", "--file", str(job), "--name", name, check=True).stdout
    data = json.loads(cli(ws, "job", "validate", "--file", str(job), "--name", name, "-o", "json",
                          check=True).stdout)
    endpoint = f"{azurite.host}:{azurite.port}"
    assert data["network"]["kind"] == "relayed" and data["network"]["endpoints"] == [endpoint]
    assert f"\nnetwork      {data['network']['description']}\n" in text
    assert data["network"]["description"].startswith(f"relayed to {endpoint} only: ")
    assert azurite.key not in text + json.dumps(data)
    cli(ws, "job", "create", "--file", str(job), "--name", name, "--stream", check=True)
    record = show(ws, name)
    assert record["status"] == "Completed"
    assert record["extra"]["network"] == data["network"]["description"]  # validate and run agree
    assert_no_leftovers(docker_client, ws, name)
