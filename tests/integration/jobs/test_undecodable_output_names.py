"""A real container job writes a file whose name is not valid UTF-8 (``printf 'bad\\377name'``) next to
``ok.txt`` into an ``upload`` output.

- On an Azure Blob datastore (Azurite) the name cannot be a blob's (blob names are UTF-8 text: the SDK
  cannot encode it, and Azurite answers a raw ``%FF`` in a name with an error): the job ends Failed with
  the usual message, which names the file (its byte escaped: ``bad\\xffname``), says why, and names the
  staged folder that keeps it (with its real name); ``ok.txt`` is uploaded. ``job show`` (table and
  JSON) and ``job list`` print the record.
- On a local datastore the same job completes: the file keeps its name, byte for byte.

Everything in the test's throwaway workspace and container."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, datastore_file, show, write_job

SHOWN = "bad\\xffname"  # how the record and the CLI show the name
COMMAND = "echo 1 > \"${{outputs.u}}/$(printf 'bad\\377name')\"; echo ok > ${{outputs.u}}/ok.txt"


def _job(tmp_path: Path, path: str) -> Path:
    where = f', path: "{path}"' if path else ""
    return write_job(tmp_path, f"""
        command: >-
          {COMMAND}
        outputs:
          u: {{type: uri_folder, mode: upload{where}}}
        environment: {{image: runner/busybox:latest}}
        """)


def _prints_the_record(ws: Path, name: str) -> dict[str, Any]:
    """``job show`` (table and JSON) and ``job list`` print the record; its JSON form."""
    table = cli(ws, "job", "show", "--name", name)
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stdout + table.stderr
    listed = cli(ws, "job", "list")
    assert listed.returncode == 0 and name in listed.stdout, listed.stdout + listed.stderr
    as_json = cli(ws, "job", "list", "-o", "json")
    assert as_json.returncode == 0 and [j["name"] for j in json.loads(as_json.stdout)] == [name]
    record = show(ws, name)
    if record["error"]:
        assert SHOWN in table.stdout
    return record


@pytest.mark.azure
@pytest.mark.docker
def test_an_azure_upload_names_the_file_it_cannot_name_and_where_it_is_kept(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container)
    job = _job(tmp_path, "azureml://datastores/az/paths/o/u")
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "badaz")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    staged = ws / "jobs" / "badaz" / "outputs" / "u"
    record = _prints_the_record(ws, "badaz")
    assert record["status"] == "Failed"
    error = record["error"]
    assert "internal error" not in error and "outputs could not be made durable" in error
    assert f"{SHOWN}: its name is not valid UTF-8" in error
    assert "(Azure Blob Storage names are UTF-8 text)" in error
    assert f"not transferred: {SHOWN}" in error and f"staged data kept at: {staged}" in error
    assert "surrogates not allowed" not in error
    assert sorted(os.listdir(os.fsencode(staged))) == [b"bad\xffname", b"ok.txt"]  # the real name, kept
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    assert [b.name for b in container.list_blobs()] == ["o/u/ok.txt"]  # no name made up for it


@pytest.mark.docker
def test_a_local_datastore_keeps_the_name_as_it_is(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    result = cli(ws, "job", "create", "--stream", "--file", str(_job(tmp_path, "")), "--name", "badlocal")
    assert result.returncode == 0, result.stdout + result.stderr
    record = _prints_the_record(ws, "badlocal")
    assert record["status"] == "Completed" and record["error"] is None
    folder = datastore_file(ws, "azureml/badlocal/u")
    assert sorted(os.listdir(os.fsencode(folder))) == [b"bad\xffname", b"ok.txt"]
    assert (folder / os.fsdecode(b"bad\xffname")).read_bytes() == b"1\n"
