"""An archive chain over remote storage (``zip://<member>::abfs://<container>/<archive>``, Azurite here) as a
job input, end to end: ``runner job validate`` plans it without opening it, the run reads the member
(process backend), and an archive that is missing or is no zip fails the run with one clear error naming
it, never an internal one."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, job_log, write_job

pytestmark = pytest.mark.azure


def _job(folder: Path, path: str) -> Path:
    return write_job(folder, f"""\
        command: cat ${{{{inputs.d}}}}
        environment: python:3.11
        inputs:
          d: {{type: uri_file, path: "{path}", mode: download}}
        """)


@pytest.fixture
def remote(azure_container: Any) -> tuple[str, dict[str, str]]:
    """The container with ``d.zip`` (``a.txt`` in it) and ``junk.zip`` (no archive), and the environment
    through which adlfs reaches it (its connection string: the URL names no account)."""
    from azure.storage.blob import BlobServiceClient

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("a.txt", "from-the-remote-zip\n")
    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    container = service.get_container_client(azure_container.name)
    container.upload_blob("d.zip", data.getvalue())
    container.upload_blob("junk.zip", b"not an archive\n" * 40)
    connection = azure_container.azurite.connection_string
    return azure_container.name, {"AZURE_STORAGE_CONNECTION_STRING": connection}


def test_a_remote_archive_validates_and_runs(workspace_dir: Path, tmp_path: Path,
                                             remote: tuple[str, dict[str, str]]) -> None:
    container, env = remote
    job = _job(tmp_path, f"zip://a.txt::abfs://{container}/d.zip")
    checked = cli(workspace_dir, "job", "validate", "--file", str(job), env=env)
    assert checked.returncode == 0, checked.stderr
    assert f"zip://a.txt::abfs://{container}/d.zip" in checked.stdout
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "from-the-remote-zip" in job_log(ran.stdout)


@pytest.mark.parametrize(("archive", "said"), [
    ("gone.zip", "/gone.zip' that 'zip://a.txt::abfs://{c}/gone.zip' reads does not exist"),
    ("junk.zip", "'abfs://{c}/junk.zip' cannot be read as a zip archive"),
])
def test_a_remote_archive_that_cannot_be_read_fails_the_run_clearly(
        workspace_dir: Path, tmp_path: Path, remote: tuple[str, dict[str, str]], archive: str, said: str
) -> None:
    container, env = remote
    job = _job(tmp_path, f"zip://a.txt::abfs://{container}/{archive}")
    assert cli(workspace_dir, "job", "validate", "--file", str(job), env=env).returncode == 0
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process", env=env)
    shown = ran.stdout + ran.stderr
    assert ran.returncode != 0, shown
    assert "input 'd' cannot be read" in shown and said.format(c=container) in shown, shown
    assert "internal error" not in shown and "Traceback" not in shown
