"""A job's ``rw_mount`` output whose FUSE connection is cut while the command writes a file through it
(what the kernel sees when the mount's FUSE daemon dies): the command's writes fail, but a command that
goes on and exits 0 must not make the job Completed with a truncated file published. The job ends Failed
(exit code 0), naming the mount that went away and the file it held back; that file's staged copy is kept
(what the job wrote before the cut), the start an earlier close had uploaded is taken back, and the file
closed before the cut stays durable."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, create_azure_datastore, show, spawn, write_job

from mounts.fuse.lifecycle import abort_connection

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.fuse]


def test_an_rw_mount_cut_mid_write_fails_the_job_and_keeps_the_open_file(
        workspace_dir: Path, tmp_path: Path, azure_container: Any, docker_client: Any,
        fuse_available: bool) -> None:
    from azure.storage.blob import BlobServiceClient

    ws, name = workspace_dir, "cut1"
    create_azure_datastore(ws, tmp_path, azure_container)
    # each `head` closes its copy of fd 3 as it exits: the kernel sends a flush, which uploads the start
    job = write_job(tmp_path, """
        command: >-
          echo early > ${{outputs.w}}/early.txt && exec 3> ${{outputs.w}}/late.bin &&
          i=0; while [ $i -lt 2400 ]; do head -c 65536 /dev/zero >&3 || break; sleep 0.05; i=$((i+1));
          done; echo "the command goes on"
        outputs:
          w: {type: uri_folder, path: azureml://datastores/az/paths/out, mode: rw_mount}
        environment:
          image: runner/busybox:latest
        """)
    runner = spawn(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    mountpoint = ws / "jobs" / name / "outputs" / "w" / "mnt"
    staged = ws / "jobs" / name / "outputs" / "w" / "staged" / "late.bin"
    deadline = time.monotonic() + 120
    while not (staged.exists() and staged.stat().st_size >= 8 * 65536):  # several flushes uploaded it
        assert time.monotonic() < deadline and runner.poll() is None, "the job did not start writing"
        time.sleep(0.05)
    assert abort_connection(os.stat(mountpoint).st_dev)
    _, stderr = runner.communicate(timeout=180)
    assert "Traceback" not in stderr, stderr

    record = show(ws, name)
    assert record["status"] == "Failed" and record["exit_code"] == 0, record
    error = record["error"]
    assert "outputs could not be made durable" in error and "went away while the job ran" in error
    assert f"kept in {staged.parent}" in error and "late.bin" in error, error
    assert staged.stat().st_size >= 8 * 65536  # what the job wrote before the cut: kept
    blobs = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string) \
        .get_container_client(azure_container.name)
    assert sorted(b.name for b in blobs.list_blobs()) == ["out/early.txt"]  # no truncated late.bin
    assert blobs.download_blob("out/early.txt").readall() == b"early\n"
    assert_no_leftovers(docker_client, ws, name)
