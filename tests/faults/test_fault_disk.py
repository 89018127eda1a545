"""A full disk: the workspace lives on an 8 MiB tmpfs of the test, which a job (or a download, or a model
registration) fills. The job ends Failed with "no space left on <the tmpfs>", the workspace stays
usable (``job list`` and ``job show`` answer), nothing half-made is left (no partial download, no
``LocalUpload/.incoming-*``, no registry row), nothing that was written completely is lost, and a file
whose write failed is never published. Devices and FIFOs given as data are refused up front instead of
read until the disk is full.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from fault_support import MiB, one_clear_message
from jobs_support import assert_no_leftovers, cli, create_azure_datastore, datastore_file, show, write_job

pytestmark = pytest.mark.docker


@pytest.fixture
def full_ws(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace, on the small disk."""
    ws = small_disk / "ws"
    monkeypatch.setenv("RUNNER_WORKSPACE", str(ws))
    ws.mkdir()  # an empty folder is a new workspace: the first command sets it up
    cli(ws, "job", "list", check=True)  # created
    return ws


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bfree * stats.f_frsize


def assert_usable(ws: Path, name: str) -> dict[str, Any]:
    """``job list`` and ``job show`` answer on the full disk; the job's record."""
    listed = cli(ws, "job", "list")
    assert listed.returncode == 0 and name in listed.stdout, listed.stderr
    shown = cli(ws, "job", "show", "--name", name)
    assert shown.returncode == 0, shown.stderr
    return show(ws, name)


def test_a_job_that_fills_the_disk_fails_with_the_cause_and_publishes_nothing_half_written(
        full_ws: Path, small_disk: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: >-
          echo kept > ${{outputs.o}}/kept.txt && echo art > /mnt/runner/artifacts/a.txt &&
          head -c 20000000 /dev/zero > ${{outputs.o}}/big.bin
        outputs:
          o: {mode: upload}
        environment:
          image: runner/busybox:latest
        """)
    result = cli(full_ws, "job", "create", "--file", str(job), "--stream", "--name", "fill1")
    assert result.returncode == 1
    record = assert_usable(full_ws, "fill1")
    assert record["status"] == "Failed" and record["exit_code"] == 1
    error = record["error"]
    assert "the command exited with code 1" in error
    assert f"no space left on {small_disk}" in error
    staged = full_ws / "jobs" / "fill1" / "outputs" / "o"
    assert f"outputs not uploaded (the disk was full when it ended (no space left on {small_disk})" in error
    assert str(staged) in error
    assert (staged / "kept.txt").read_text() == "kept\n"  # written completely: not lost
    assert not datastore_file(full_ws, "azureml/fill1/o").exists()  # a truncated big.bin is not published
    # the artifacts (logs, not a named output) are renamed into place on the same disk: no space needed
    assert datastore_file(full_ws, "ExperimentRun/dcid.fill1/a.txt").read_text() == "art\n"
    assert "moved into place (the job's logs and artifacts, not a named output): artifacts" in error
    assert record["extra"]["held_back_outputs"] == {"o": str(staged)}
    one_clear_message(result.stderr + error)
    assert_no_leftovers(docker_client, full_ws, "fill1")
    (staged / "big.bin").unlink()  # space is back: the workspace goes on as before
    cli(full_ws, "job", "list", check=True)
    assert (full_ws / ".space-reserve").exists()  # the reserve it spent is made again


@pytest.mark.azure
def test_a_download_that_fills_the_disk_removes_its_partial_data(
        full_ws: Path, small_disk: Path, tmp_path: Path, docker_client: Any, azure_container: Any) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    service.get_blob_client(azure_container.name, "data/big.bin").upload_blob(os.urandom(12 * MiB))
    create_azure_datastore(full_ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: wc -c ${{inputs.f}}
        inputs:
          f: {type: uri_file, path: azureml://datastores/az/paths/data/big.bin, mode: download}
        environment:
          image: runner/busybox:latest
        """)
    free_before = free_bytes(small_disk)
    result = cli(full_ws, "job", "create", "--file", str(job), "--stream", "--name", "fill2")
    assert result.returncode == 1
    record = assert_usable(full_ws, "fill2")
    error = record["error"]
    assert record["status"] == "Failed"
    assert f"1 of 1 file(s) could not be downloaded: no space left on {small_disk}" in error
    assert "the partial download was removed to free the space" in error
    assert "hint: free space there (`runner cache prune` empties the download cache" in error
    partial = full_ws / "cache" / "partial"
    assert not partial.exists() or not [p for p in partial.rglob("*") if p.is_file()]
    assert free_bytes(small_disk) >= free_before - 2 * MiB  # the space is given back
    one_clear_message(result.stderr)
    assert_no_leftovers(docker_client, full_ws, "fill2")


@pytest.mark.azure
@pytest.mark.fuse
def test_an_rw_mount_write_that_hits_a_full_disk_is_never_published(
        full_ws: Path, small_disk: Path, tmp_path: Path, docker_client: Any, azure_container: Any,
        fuse_available: bool) -> None:
    from azure.storage.blob import BlobServiceClient

    create_azure_datastore(full_ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: >-
          echo durable > ${{outputs.w}}/ok.txt &&
          head -c 20000000 /dev/urandom > ${{outputs.w}}/big.bin
        outputs:
          w: {type: uri_folder, path: azureml://datastores/az/paths/rw, mode: rw_mount}
        environment:
          image: runner/busybox:latest
        """)
    result = cli(full_ws, "job", "create", "--file", str(job), "--stream", "--name", "fill3")
    assert result.returncode == 1
    record = assert_usable(full_ws, "fill3")
    error = record["error"]
    assert record["status"] == "Failed"
    assert "were not uploaded because a write to them failed (no space left on" in error
    assert "big.bin; their incomplete copies were removed" in error
    container = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string) \
        .get_container_client(azure_container.name)
    names = sorted(b.name for b in container.list_blobs(name_starts_with="rw/"))
    assert names == ["rw/ok.txt"]  # the file closed before the disk filled is durable; big.bin is not there
    staged = full_ws / "jobs" / "fill3" / "outputs" / "w" / "staged"
    assert not (staged / "big.bin").exists()
    one_clear_message(result.stderr)
    assert_no_leftovers(docker_client, full_ws, "fill3")


def test_a_model_registration_that_fills_the_disk_leaves_nothing_half_made(
        full_ws: Path, small_disk: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "weights.bin").write_bytes(os.urandom(12 * MiB))
    result = cli(full_ws, "model", "create", "--name", "big", "--path", str(model), "--type", "custom_model")
    assert result.returncode == 1
    assert f"no space left on {small_disk}" in result.stderr
    one_clear_message(result.stderr)
    upload = full_ws / "datastores" / "workspaceblobstore" / "LocalUpload"
    assert not upload.exists() or not list(upload.iterdir())  # no .incoming-*, no version folder
    listed = cli(full_ws, "model", "list", check=True)
    assert "big" not in listed.stdout


def test_devices_and_fifos_are_refused_not_read_until_the_disk_is_full(
        full_ws: Path, small_disk: Path, tmp_path: Path) -> None:
    free_before = free_bytes(small_disk)
    result = cli(full_ws, "model", "create", "--name", "zero", "--path", "/dev/zero", timeout=60)
    assert result.returncode == 1
    assert "'/dev/zero' is a character device, not a file or folder" in result.stderr
    folder = tmp_path / "with-fifo"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    os.mkfifo(folder / "pipe")
    result = cli(full_ws, "model", "create", "--name", "fifo", "--path", str(folder), timeout=60)
    assert result.returncode == 1 and "is not a regular file" in result.stderr and "pipe" in result.stderr
    job = write_job(tmp_path, """
        command: wc -c ${{inputs.z}}
        inputs:
          z: {type: uri_file, path: /dev/zero, mode: download}
        environment:
          image: runner/busybox:latest
        """)
    result = cli(full_ws, "job", "create", "--file", str(job), "--stream", "--name", "zero1", timeout=60)
    assert result.returncode == 1
    assert "inputs.z.path: '/dev/zero' is a character device, not a file or folder" in result.stderr
    assert cli(full_ws, "job", "show", "--name", "zero1").returncode != 0  # refused before it was queued
    one_clear_message(result.stderr)
    assert free_bytes(small_disk) >= free_before - MiB  # nothing was copied
    assert not (full_ws / "datastores" / "workspaceblobstore" / "LocalUpload").exists()
    shutil.rmtree(folder)
