"""A registered fsspec datastore whose URL is an archive chain over remote storage (``zip://::abfs://<container>
/<archive>``, Azurite here, its connection string in the datastore's storage options), end to end:
``runner job validate`` plans an input read through it without opening it, the run reads the member
(process backend), and one whose endpoint is unreachable validates too, then fails the run with one
clear error naming the input, never an internal one."""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, job_log, write_job

pytestmark = [pytest.mark.azure, pytest.mark.usefixtures("short_retry_window")]




def _job(folder: Path) -> Path:
    return write_job(folder, """\
        command: cat ${{inputs.d}}
        environment: python:3.11
        inputs:
          d: {type: uri_file, path: "azureml://datastores/archived/paths/a.txt", mode: download}
        """)


def _datastore(workspace: Path, folder: Path, container: str, connection: str) -> None:
    spec = write_job(folder, f"""\
        name: archived
        type: fsspec
        url: zip://::abfs://{container}/d.zip
        storage_options:
          abfs: {{connection_string: "{connection}"}}
        """, name="archived.yml")
    assert cli(workspace, "datastore", "create", "--file", str(spec)).returncode == 0


def test_an_archive_datastore_validates_and_runs(workspace_dir: Path, tmp_path: Path,
                                                 azure_container: Any) -> None:
    from azure.storage.blob import BlobServiceClient

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("a.txt", "from-the-archive-datastore\n")
    connection = azure_container.azurite.connection_string
    service = BlobServiceClient.from_connection_string(connection)
    service.get_container_client(azure_container.name).upload_blob("d.zip", data.getvalue())
    _datastore(workspace_dir, tmp_path, azure_container.name, connection)
    job = _job(tmp_path)
    checked = cli(workspace_dir, "job", "validate", "--file", str(job))
    assert checked.returncode == 0, checked.stderr
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process")
    assert ran.returncode == 0, ran.stderr
    assert "from-the-archive-datastore" in job_log(ran.stdout)


def test_an_unreachable_archive_datastore_validates_then_fails_the_run_clearly(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connection = azure_container.azurite.connection_string.replace(
        f":{azure_container.azurite.port}/", f":{port}/")
    assert f":{port}/" in connection
    _datastore(workspace_dir, tmp_path, azure_container.name, connection)
    job = _job(tmp_path)
    assert cli(workspace_dir, "job", "validate", "--file", str(job)).returncode == 0
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process")
    shown = ran.stdout + ran.stderr
    assert ran.returncode != 0, shown
    assert "inputs.d: cannot connect to the storage service holding 'zip://::abfs://" in shown, shown
    assert "datastore 'archived'" in shown, shown
    assert "internal error" not in shown and "Traceback" not in shown, shown
