"""`runner job validate` never contacts storage (a listening socket counts connections), shows each storage
URL form as the datastore path it maps to, and keeps the early failures for local paths and registry
references; the run then tells "cannot connect" apart, naming the input and its URL."""

from __future__ import annotations

import json
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_support import cli, show

KEY = "a2V5LW5vdC11c2VkLWJ5LWFueS1zZXJ2aWNlLWluLXRoZXNlLXRlc3Rz"


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    server.close()


def accepted(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def datastore(ws: Path, folder: Path, port: int) -> None:
    spec = folder / "blobs.yml"
    spec.write_text(textwrap.dedent(f"""\
        name: blobs
        type: azure_blob
        account_name: acct
        container_name: datasets
        account_url: http://127.0.0.1:{port}/acct
        credentials:
          account_key: {KEY}
        """))
    cli(ws, "datastore", "create", "--file", str(spec), check=True)


JOB = """\
command: >-
  python -c "import sys; print(sys.argv[1:])" ${{inputs.a}} ${{inputs.b}} ${{inputs.c}} ${{inputs.d}}
  ${{outputs.out}}
inputs:
  a: {type: uri_file, path: "wasbs://datasets@acct.blob.core.windows.net/iris/iris.csv"}
  b: {type: uri_folder, path: "https://acct.blob.core.windows.net/datasets/iris", mode: download}
  c: {type: uri_folder, path: "abfss://datasets@acct.dfs.core.windows.net/iris", mode: direct}
  d: {type: uri_file, path: "azureml://subscriptions/s/resourceGroups/rg/workspaces/w/datastores/blobs/paths/x.csv"}
outputs:
  out: {type: uri_folder, path: "wasbs://datasets@acct.blob.core.windows.net/out/", mode: upload}
environment: python:3.11
compute: local-process
"""


def test_validate_shows_the_datastore_paths_and_contacts_nothing(workspace_dir: Path, tmp_path: Path,
                                                                 listener: socket.socket) -> None:
    datastore(workspace_dir, tmp_path, listener.getsockname()[1])
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    result = cli(workspace_dir, "job", "validate", "--file", str(job), "-o", "json", check=True)
    plan = json.loads(result.stdout)
    uris = {b["name"]: (b["uri"], b["kind"]) for b in plan["inputs"] + plan["outputs"]}
    assert uris == {
        "a": ("azureml://datastores/blobs/paths/iris/iris.csv", "file"),
        "b": ("azureml://datastores/blobs/paths/iris", "folder"),
        "c": ("azureml://datastores/blobs/paths/iris", "folder"),
        "d": ("azureml://datastores/blobs/paths/x.csv", "file"),
        "out": ("azureml://datastores/blobs/paths/out", "folder"),
    }
    assert plan["inputs"][0]["value"] == "/mnt/runner/inputs/a/iris.csv"  # a file, known from its type
    assert accepted(listener) == 0
    created = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "offline", "--dry-run")
    assert created.returncode == 0 and accepted(listener) == 0


def test_local_paths_and_registry_references_still_fail_early(workspace_dir: Path, tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: ls ${{inputs.x}}\nenvironment: python:3.11\ninputs:\n"
                   "  x: {type: uri_folder, path: azureml:nothing@latest}\n")
    result = cli(workspace_dir, "job", "create", "--file", str(job))
    assert result.returncode != 0 and "unknown data asset 'nothing'" in result.stderr
    assert f"{job}:4:" in result.stderr
    job.write_text("command: ls ${{inputs.x}}\nenvironment: python:3.11\ninputs:\n"
                   "  x: {type: uri_folder, path: ./not-here}\n")
    result = cli(workspace_dir, "job", "create", "--file", str(job))
    assert result.returncode != 0 and "does not exist" in result.stderr
    assert json.loads(cli(workspace_dir, "job", "list", "-o", "json", check=True).stdout) == []


def test_the_run_says_cannot_connect_naming_the_input_and_url(workspace_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    datastore(workspace_dir, tmp_path, port)
    job = tmp_path / "job.yml"
    job.write_text("command: cat ${{inputs.iris}}\nenvironment: python:3.11\ncompute: local-process\n"
                   "inputs:\n  iris:\n    type: uri_file\n"
                   "    path: wasbs://datasets@acct.blob.core.windows.net/iris.csv\n    mode: download\n")
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "unreachable", "--stream")
    assert result.returncode == 1
    record = show(workspace_dir, "unreachable")
    assert record["status"] == "Failed"
    assert record["error"].startswith("inputs.iris: cannot connect to the storage service holding "
                                      "'azureml://datastores/blobs/paths/iris.csv'")
    assert f"127.0.0.1:{port}" in record["error"]
