"""A datastore whose blob container does not exist (Azurite; a container name no one made): every job that
reads or writes it fails before its command runs, with one error naming the container, the account and the
datastore and how to fix it, never an EIO inside the job nor the outage hint ("once the storage answers
again") after it; the runner creates no container. A container deleted while a job runs: the upload's
error says to create it, the staged data is kept, and `runner job finalize` uploads it once it exists."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, spawn, write_job

pytestmark = pytest.mark.azure

CASES = [
    ("outputs", "upload"),
    pytest.param("outputs", "rw_mount", marks=pytest.mark.fuse),
    ("inputs", "download"),
    pytest.param("inputs", "ro_mount", marks=pytest.mark.fuse),
    ("inputs", "direct"),
]


def _service(azurite: Any) -> Any:
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(azurite.connection_string)


def _wait_for(path: Path, running: subprocess.Popen[str]) -> None:
    """Until the job's command made ``path`` (its outputs were prepared, it runs)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert running.poll() is None, running.communicate()
        assert time.monotonic() < deadline, f"the job's command never started ({path})"
        time.sleep(0.1)


@pytest.mark.parametrize(("direction", "mode"), CASES)
def test_a_missing_container_is_said_before_the_command_runs(workspace_dir: Path, tmp_path: Path,
                                                             azurite: Any, direction: str, mode: str) -> None:
    name = f"gone{uuid.uuid4().hex[:16]}"  # never created
    create_azure_datastore(workspace_dir, tmp_path, SimpleNamespace(azurite=azurite, name=name), name="gone")
    ran = tmp_path / "ran"
    job = write_job(tmp_path, f"""
        command: touch {ran}
        {direction}:
          d: {{type: uri_folder, mode: {mode}, path: "azureml://datastores/gone/paths/x/d"}}
        compute: local-process
        environment:
          image: not-used:1
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "nc")
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert not ran.exists(), "the job's command ran"
    assert (f"{direction}.d: the container '{name}' does not exist in the storage account "
            f"'{azurite.account}' (datastore 'gone')") in said, said
    assert f"create the container '{name}'" in said and "`container_name`" in said, said
    assert "answers again" not in said and "Input/output error" not in said and "Traceback" not in said
    assert azurite.key not in said
    assert not _service(azurite).get_container_client(name).exists()  # nothing made it


def test_a_container_deleted_while_the_job_runs_is_said_and_finalize_uploads_once_it_exists(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    azurite, name = azure_container.azurite, azure_container.name
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    go, started = tmp_path / "go", tmp_path / "started"
    job = write_job(tmp_path, f"""
        command: >-
          touch {started}; while [ ! -e {go} ]; do sleep 0.1; done;
          echo kept > ${{{{outputs.u}}}}/u.txt
        outputs:
          u: {{type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/later/u"}}
        compute: local-process
        environment:
          image: not-used:1
        """)
    running = spawn(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "del")
    try:
        _wait_for(started, running)
        _service(azurite).delete_container(name)
        go.touch()
        stdout, stderr = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
    said = stdout + stderr
    assert running.returncode == 1, said
    assert f"the container '{name}' does not exist: create it" in said, said
    assert "once it exists, `runner job finalize --name del` uploads it" in said, said
    assert "answers again" not in said and azurite.key not in said
    staged = workspace_dir / "jobs" / "del" / "outputs" / "u" / "u.txt"
    assert staged.read_text() == "kept\n"

    still = cli(workspace_dir, "job", "finalize", "--name", "del")
    assert still.returncode == 1 and f"the container '{name}' does not exist" in still.stderr, still.stderr
    assert staged.read_text() == "kept\n"
    _service(azurite).create_container(name)
    done = cli(workspace_dir, "job", "finalize", "--name", "del")
    assert done.returncode == 0 and "del: Completed" in done.stdout, done.stdout + done.stderr
    blob = _service(azurite).get_container_client(name).download_blob("later/u/u.txt")
    assert blob.readall() == b"kept\n"
