"""A real container job writes a file whose name is not valid UTF-8 (``printf 'bad\\377name'``) next to
``ok.txt`` into an ``rw_mount`` (FUSE) or ``upload`` output on an Azure Blob datastore (Azurite).

Such a name cannot be a blob's (blob names are UTF-8 text), which no retry changes: the upload is refused
at once (one refusal in the job's log, not one per ``close`` and again at the end), the record names the
file (``bad\\xffname``), says why and how to fix it, and every line the job logs shows the name as the
record does (``\\xff``, never Python's ``\\udcff``). ``ok.txt`` is uploaded; the staged folder keeps the
file under its real name. A local datastore takes such a name: an ``rw_mount`` output there (no FUSE:
moved into place) keeps it byte for byte, and the job completes. Everything in the test's throwaway
workspace and container."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, datastore_file, show, write_job

SHOWN = "bad\\xffname"  # how the record and the log show the name
COMMAND = "echo 1 > \"${{outputs.u}}/$(printf 'bad\\377name')\"; echo ok > ${{outputs.u}}/ok.txt"


@pytest.mark.azure
@pytest.mark.docker
@pytest.mark.fuse
@pytest.mark.parametrize("mode", ["rw_mount", "upload"])
def test_a_name_azure_cannot_hold_is_refused_once_and_said_as_the_record_says(
        workspace_dir: Path, tmp_path: Path, azure_container: Any, mode: str) -> None:
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container)
    job = write_job(tmp_path, f"""
        command: >-
          {COMMAND}
        outputs:
          u: {{type: uri_folder, mode: {mode}, path: "azureml://datastores/az/paths/o/u"}}
        environment: {{image: runner/busybox:latest}}
        """)
    name = f"bad{mode.replace('_', '')}"
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", name)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    record = show(ws, name)
    assert record["status"] == "Failed", record
    error = record["error"]
    assert f"{SHOWN}: its name is not valid UTF-8" in error, error
    assert "(Azure Blob Storage names are UTF-8 text)" in error, error
    assert "rename the file in the job" in (record.get("hint") or error), record
    assert "surrogates not allowed" not in error and "UnicodeEncodeError" not in error, error

    # what the user saw (--stream: the job runs in the CLI, its warnings on stderr) and the job's log
    log = (ws / "jobs" / name / "runner.log").read_bytes() + result.stderr.encode()
    assert b"\\udc" not in log, log.decode(errors="replace")  # the name as the record shows it: \xff
    lines = [line for line in log.decode().splitlines() if SHOWN in line]
    said = [line for line in lines if "finalizing output u failed" not in line]  # the end's one summary
    assert len(lines) - len(said) == 1, lines
    assert len(said) == (1 if mode == "rw_mount" else 0), lines  # the mount's one, not one per close
    assert all("its name is not valid UTF-8" in line for line in lines), lines

    staged = ws / "jobs" / name / "outputs" / "u" / ("staged" if mode == "rw_mount" else "")
    assert b"bad\xffname" in os.listdir(os.fsencode(staged))  # the real name, kept
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    assert [b.name for b in container.list_blobs()] == ["o/u/ok.txt"]


@pytest.mark.docker
def test_a_local_datastore_takes_the_name_through_rw_mount(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    job = write_job(tmp_path, f"""
        command: >-
          {COMMAND}
        outputs:
          u: {{type: uri_folder, mode: rw_mount}}
        environment: {{image: runner/busybox:latest}}
        """)
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "badlocalrw")
    assert result.returncode == 0, result.stdout + result.stderr
    assert show(ws, "badlocalrw")["status"] == "Completed"
    folder = datastore_file(ws, "azureml/badlocalrw/u")
    assert sorted(os.listdir(os.fsencode(folder))) == [b"bad\xffname", b"ok.txt"]
