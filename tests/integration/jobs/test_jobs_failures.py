"""Failures said as what they are (issue 20): an OOM kill is reported as out of memory with the limit;
``outputs_partial`` is True exactly when the job did not complete yet some named output holds data of
its run (at its target or staged); two ``direct`` inputs on two Azure datastores each reach the job
with their own credentials."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, cli, create_azure_datastore, datastore_file, show, write_job


@pytest.mark.docker
def test_an_oom_kill_is_reported_as_out_of_memory_with_the_limit(workspace_dir: Path, tmp_path: Path,
                                                                 docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: echo start; dd if=/dev/zero of=/dev/null bs=256M count=1
        environment:
          image: runner/busybox:latest
        resources:
          docker_args: --memory 16m --memory-swap 16m
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "oom1")
    assert result.returncode == 1
    record = show(workspace_dir, "oom1")
    assert record["status"] == "Failed" and record["exit_code"] == 137
    assert "ran out of memory" in record["error"] and "memory limit of 16 MiB" in record["error"]
    assert "ran out of memory" in result.stdout  # in the execution summary too (after the log)
    assert_no_leftovers(docker_client, workspace_dir, "oom1")


@pytest.mark.docker
def test_a_failed_command_that_was_not_killed_for_memory_says_its_exit_code(
        workspace_dir: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: kill -9 $$
        environment:
          image: runner/busybox:latest
        resources:
          docker_args: --memory 64m
        """)
    cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "kill1")
    record = show(workspace_dir, "kill1")
    assert record["exit_code"] == 137 and "exited with code 137" in record["error"]
    assert "memory" not in record["error"]


# -- outputs_partial: (command, output mode, --no-upload-on-failure) -> expected --------------------------
PARTIAL_CASES = {
    "completed": ("echo r > ${{outputs.o}}/r.txt", "upload", False, False, "Completed"),
    "failed-nothing-written": ("exit 3", "upload", False, False, "Failed"),
    "failed-uploaded": ("echo r > ${{outputs.o}}/r.txt; exit 3", "upload", False, True, "Failed"),
    "failed-held-back": ("echo r > ${{outputs.o}}/r.txt; exit 3", "upload", True, True, "Failed"),
    "failed-rw-mount": ("echo r > ${{outputs.o}}/r.txt; exit 3", "rw_mount", False, True, "Failed"),
    "failed-direct-in-place": ("echo r > ${{outputs.o}}/r.txt; exit 3", "direct", True, True, "Failed"),
    "failed-empty-folders": ("mkdir -p ${{outputs.o}}/a/b; exit 3", "upload", True, False, "Failed"),
    "failed-only-artifacts": ("echo a > outputs/a.txt; exit 3", "upload", False, False, "Failed"),
}


@pytest.mark.parametrize("case", list(PARTIAL_CASES))
def test_outputs_partial_means_data_from_a_run_that_did_not_complete(workspace_dir: Path, tmp_path: Path,
                                                                     case: str) -> None:
    command, mode, hold_back, partial, status = PARTIAL_CASES[case]
    job = write_job(tmp_path, f"""
        command: {command}
        outputs:
          o: {{type: uri_folder, mode: {mode}}}
        compute: local-process
        environment:
          image: not-used:1
        """)
    name = f"p{uuid.uuid4().hex[:8]}"
    args = ["--no-upload-on-failure"] if hold_back else []
    cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", name, *args)
    record = show(workspace_dir, name)
    assert record["status"] == status
    assert record["outputs_partial"] is partial
    assert record["extra"].get("outputs_with_data", []) == (["o"] if partial else [])
    if partial and not hold_back:
        assert (datastore_file(workspace_dir, f"azureml/{name}/o/r.txt")).read_text() == "r\n"


READ_BOTH = """
import json, os, fsspec
for name in ("a", "b"):
    url = os.environ[f"AZURE_ML_INPUT_{name}"]
    options = json.loads(os.environ[f"AZURE_ML_INPUT_{name}_STORAGE_OPTIONS"])
    with fsspec.open(url, "rb", **options) as handle:
        print(f"{name}={handle.read().decode().strip()}")
print("global-connection-string=" + str("AZURE_STORAGE_CONNECTION_STRING" in os.environ))
"""


@pytest.mark.azure
def test_two_direct_inputs_on_two_azure_datastores_each_get_their_credentials(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

    azurite = azure_container.azurite
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    other = f"t{uuid.uuid4().hex[:20]}"
    service.create_container(other)
    try:
        service.get_blob_client(azure_container.name, "a.txt").upload_blob(b"alpha")
        service.get_blob_client(other, "b.txt").upload_blob(b"beta")
        create_azure_datastore(workspace_dir, tmp_path, azure_container, name="dsa")  # account key
        sas = generate_container_sas(azurite.account, other, account_key=azurite.key,  # only `other`
                                     permission=ContainerSasPermissions(read=True, list=True),
                                     expiry=datetime.now(UTC) + timedelta(hours=1))
        datastore = write_job(tmp_path, f"""
            name: dsb
            type: azure_blob
            account_name: {azurite.account}
            container_name: {other}
            account_url: {azurite.blob_endpoint}
            credentials:
              sas_token: "{sas}"
            """, name="datastore-dsb.yml")
        cli(workspace_dir, "datastore", "create", "--file", str(datastore), check=True)
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "read.py").write_text(READ_BOTH)
        job = write_job(tmp_path, """
            command: python3 read.py
            code: src
            inputs:
              a: {type: uri_file, path: "azureml://datastores/dsa/paths/a.txt", mode: direct}
              b: {type: uri_file, path: "azureml://datastores/dsb/paths/b.txt", mode: direct}
            compute: local-process
            environment:
              image: not-used:1
            """)
        validated = cli(workspace_dir, "job", "validate", "--file", str(job))
        assert validated.returncode == 0, validated.stderr
        assert "use different storage credentials" in validated.stdout + validated.stderr
        result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "two")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "a=alpha" in result.stdout and "b=beta" in result.stdout
        assert "global-connection-string=False" in result.stdout  # neither's credentials for both
        assert azurite.key not in result.stdout + result.stderr and sas not in result.stderr
    finally:
        with contextlib.suppress(Exception):
            service.delete_container(other)
