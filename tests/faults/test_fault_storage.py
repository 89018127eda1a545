"""Storage outages: a private Azurite (behind a throttling proxy, so a transfer is hit mid-way) is stopped
during a job's download, upload, ro_mount read and rw_mount upload.

* For 5 s, with the default retry policy: the job rides it out and completes, every byte right.
* For longer than the retries last (``RUNNER_RETRY_TOTAL_S`` shortened to a few seconds, so the test
  takes seconds, not the two minutes of the default): the job fails cleanly, with one message that says
  what happened, what became of the partial data and what to do; nothing flushed is lost, and no
  container, mount or partial download is left behind. A cached download that failed resumes on the
  next run from the bytes that arrived.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fault_support import MiB, Storage, azure_datastore, one_clear_message, std_log
from jobs_support import assert_no_leftovers, cli, show, write_job

pytestmark = [pytest.mark.docker, pytest.mark.azure]

OUTAGE_S = 5.0
GIVE_UP = {"RUNNER_RETRY_TOTAL_S": "4"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def logged_hashes(log: str) -> dict[str, str]:
    """``sha256sum`` lines of the job's log: file name -> hash."""
    return {name.rsplit("/", 1)[-1]: digest for digest, name in re.findall(r"^([0-9a-f]{64})\s+(\S+)$", log,
                                                                            re.MULTILINE)}


def put_data(storage: Storage) -> dict[str, str]:
    files = {"data/big.bin": os.urandom(24 * MiB + 5), **{f"data/s{i}.bin": os.urandom(256 * 1024)
                                                         for i in range(6)}}
    for name, content in files.items():
        storage.put(name, content)
    return {name.rsplit("/", 1)[-1]: sha(content) for name, content in files.items()}


def run(ws: Path, job: Path, name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name, env=env)
    one_clear_message(result.stderr)
    return show(ws, name)


def test_short_outages_during_download_and_upload_are_ridden_out(ws: Path, tmp_path: Path, storage: Storage,
                                                                 docker_client: Any) -> None:
    expected = put_data(storage)
    azure_datastore(ws, tmp_path, storage)
    job = write_job(tmp_path, """
        command: >-
          cd ${{inputs.d}} && sha256sum *.bin &&
          head -c 25000000 /dev/urandom > ${{outputs.o}}/out.bin && sha256sum ${{outputs.o}}/out.bin
        inputs:
          d: {type: uri_folder, path: azureml://datastores/az/paths/data, mode: download}
        outputs:
          o: {type: uri_folder, path: azureml://datastores/az/paths/out, mode: upload}
        environment:
          image: runner/busybox:latest
        """)
    during_download = storage.stop_when(lambda: storage.proxy.down > 4 * MiB, outage_s=OUTAGE_S)

    def uploading() -> bool:
        return not during_download.is_alive() and "out.bin" in std_log(ws, "short1") and \
            storage.proxy.up > 8 * MiB

    during_upload = storage.stop_when(uploading, outage_s=OUTAGE_S)
    record = run(ws, job, "short1")
    assert hasattr(during_download, "stopped_at") and hasattr(during_upload, "stopped_at")  # both hit
    assert record["status"] == "Completed", record["error"]
    hashes = logged_hashes(std_log(ws, "short1"))
    assert {k: v for k, v in hashes.items() if k != "out.bin"} == expected  # every input byte right
    assert sha(storage.get("out/out.bin")) == hashes["out.bin"]  # every output byte right
    assert_no_leftovers(docker_client, ws, "short1")


def test_short_outages_during_mount_reads_and_rw_mount_uploads_are_ridden_out(
        ws: Path, tmp_path: Path, storage: Storage, docker_client: Any, fuse_available: bool) -> None:
    expected = put_data(storage)
    azure_datastore(ws, tmp_path, storage)
    job = write_job(tmp_path, """
        command: >-
          sha256sum ${{inputs.m}}/big.bin &&
          head -c 25000000 /dev/urandom > ${{outputs.w}}/out.bin && echo closed &&
          sha256sum ${{outputs.w}}/out.bin
        inputs:
          m: {type: uri_folder, path: azureml://datastores/az/paths/data, mode: ro_mount}
        outputs:
          w: {type: uri_folder, path: azureml://datastores/az/paths/rw, mode: rw_mount}
        environment:
          image: runner/busybox:latest
        """)
    during_read = storage.stop_when(lambda: storage.proxy.down > 4 * MiB, outage_s=OUTAGE_S)

    def uploading() -> bool:
        return not during_read.is_alive() and "big.bin" in std_log(ws, "short2") and \
            storage.proxy.up > 8 * MiB

    during_upload = storage.stop_when(uploading, outage_s=OUTAGE_S)
    record = run(ws, job, "short2")
    assert hasattr(during_read, "stopped_at") and hasattr(during_upload, "stopped_at")
    assert record["status"] == "Completed", record["error"]
    hashes = logged_hashes(std_log(ws, "short2"))
    assert hashes["big.bin"] == expected["big.bin"]  # read through the mount across the outage
    assert "closed" in std_log(ws, "short2")  # close (the upload) succeeded once the store was back
    assert sha(storage.get("rw/out.bin")) == hashes["out.bin"]
    assert_no_leftovers(docker_client, ws, "short2")


def test_long_outage_during_a_download_fails_cleanly_and_a_cached_one_resumes(
        ws: Path, tmp_path: Path, storage: Storage, docker_client: Any) -> None:
    content = os.urandom(40 * MiB)
    storage.put("data/model.bin", content)
    azure_datastore(ws, tmp_path, storage)
    job = write_job(tmp_path, """
        command: sha256sum ${{inputs.f}}
        inputs:
          f: {type: uri_file, path: azureml://datastores/az/paths/data/model.bin, mode: download}
        environment:
          image: runner/busybox:latest
        """)
    outage = storage.stop_when(lambda: storage.proxy.down > 20 * MiB, outage_s=None)
    record = run(ws, job, "long1", env=GIVE_UP)
    outage.join(1)
    assert record["status"] == "Failed"
    error = record["error"]
    assert "input 'f' (download of azureml://datastores/az/paths/data/model.bin)" in error
    assert "could not be downloaded: the storage stayed unreachable" in error or \
        "still failing after" in error
    assert "RUNNER_RETRY_TOTAL_S=4" in error
    cache = ws / "cache"
    assert f"what arrived is kept in the download cache ({cache}) and running the job again resumes" in error
    assert "hint: check that the storage is reachable, then run the job again" in error
    assert_no_leftovers(docker_client, ws, "long1")  # no partial data in the job folder

    storage.azurite.start()
    before = storage.proxy.down
    again = run(ws, job, "long2")
    assert again["status"] == "Completed", again["error"]
    assert logged_hashes(std_log(ws, "long2"))["model.bin"] == sha(content)
    assert storage.proxy.down - before < len(content) - 8 * MiB  # resumed: the bytes that came stayed
    assert not list((cache / "partial").glob("*/state")) if (cache / "partial").exists() else True


def test_long_outage_during_an_uncached_download_removes_the_partial_data(
        ws: Path, tmp_path: Path, storage: Storage, docker_client: Any) -> None:
    put_data(storage)
    azure_datastore(ws, tmp_path, storage)
    job = write_job(tmp_path, """
        command: ls ${{inputs.d}}
        inputs:
          d: {type: uri_folder, path: azureml://datastores/az/paths/data, mode: download}
        environment:
          image: runner/busybox:latest
        """)
    storage.stop_when(lambda: storage.proxy.down > 4 * MiB, outage_s=None)
    record = run(ws, job, "long3", env=GIVE_UP)
    assert record["status"] == "Failed"
    assert "could not be downloaded" in record["error"]
    assert "the partial download was removed from the job folder" in record["error"]
    assert not (ws / "jobs" / "long3" / "inputs").exists()
    assert_no_leftovers(docker_client, ws, "long3")


def test_long_outage_during_an_upload_keeps_every_staged_byte(ws: Path, tmp_path: Path, storage: Storage,
                                                              docker_client: Any) -> None:
    azure_datastore(ws, tmp_path, storage)
    job = write_job(tmp_path, """
        command: >-
          head -c 30000000 /dev/urandom > ${{outputs.o}}/out.bin && echo small > ${{outputs.o}}/s.txt &&
          sha256sum ${{outputs.o}}/out.bin
        outputs:
          o: {type: uri_folder, path: azureml://datastores/az/paths/out, mode: upload}
        environment:
          image: runner/busybox:latest
        """)
    storage.stop_when(lambda: "out.bin" in std_log(ws, "long4") and storage.proxy.up > 6 * MiB,
                      outage_s=None)
    record = run(ws, job, "long4", env=GIVE_UP)
    assert record["status"] == "Failed" and record["exit_code"] == 0
    staged = ws / "jobs" / "long4" / "outputs" / "o"
    error = record["error"]
    assert "outputs could not be made durable" in error and "could not be uploaded" in error
    assert f"staged data kept at: {staged}" in error
    assert "once the storage answers again, `runner job finalize --name long4` uploads it" in error
    assert "copy it from the staging folder to the output's path" in error
    assert sha((staged / "out.bin").read_bytes()) == logged_hashes(std_log(ws, "long4"))["out.bin"]
    assert (staged / "s.txt").read_text() == "small\n"
    assert_no_leftovers(docker_client, ws, "long4")


def test_long_outage_during_mount_reads_and_rw_mount_uploads_fails_cleanly(
        ws: Path, tmp_path: Path, storage: Storage, docker_client: Any, fuse_available: bool) -> None:
    put_data(storage)
    azure_datastore(ws, tmp_path, storage)
    job = write_job(tmp_path, """
        command: >-
          echo early > ${{outputs.w}}/early.txt && head -c 1 ${{inputs.m}}/s0.bin > /dev/null &&
          echo ready && sleep 1 && head -c 25000000 /dev/urandom > ${{outputs.w}}/late.bin;
          cat ${{inputs.m}}/big.bin > /dev/null
        inputs:
          m: {type: uri_folder, path: azureml://datastores/az/paths/data, mode: ro_mount}
        outputs:
          w: {type: uri_folder, path: azureml://datastores/az/paths/rw, mode: rw_mount}
        environment:
          image: runner/busybox:latest
        """)
    storage.stop_when(lambda: "ready" in std_log(ws, "long5"), outage_s=None)
    record = run(ws, job, "long5", env=GIVE_UP)
    storage.azurite.start()
    assert record["status"] == "Failed" and record["exit_code"] == 1  # cat met EIO: the read failed
    error = record["error"]
    assert "the command exited with code 1" in error
    staged = ws / "jobs" / "long5" / "outputs" / "w" / "staged"
    assert f"could not be uploaded (kept in {staged}): late.bin" in error
    assert (staged / "late.bin").stat().st_size == 25000000  # kept whole, not lost
    assert storage.get("rw/early.txt") == b"early\n"  # closed before the outage: durable
    assert "rw/late.bin" not in storage.names("rw/")
    assert_no_leftovers(docker_client, ws, "long5")


def test_long_outage_during_a_model_download_resumes_when_run_again(ws: Path, tmp_path: Path,
                                                                    storage: Storage) -> None:
    content = os.urandom(40 * MiB)
    storage.put("models/m.bin", content)
    azure_datastore(ws, tmp_path, storage)
    cli(ws, "model", "create", "--name", "m", "--path", "azureml://datastores/az/paths/models/m.bin",
        check=True)
    storage.stop_when(lambda: storage.proxy.down > 20 * MiB, outage_s=None)
    failed = cli(ws, "model", "download", "--name", "m", "--version", "1", "--download-path",
                 str(tmp_path / "dl"), env=GIVE_UP)
    assert failed.returncode == 1
    assert "could not be downloaded" in failed.stderr and "RUNNER_RETRY_TOTAL_S=4" in failed.stderr
    assert "run the same command again: it resumes where this one stopped" in failed.stderr
    one_clear_message(failed.stderr)
    storage.azurite.start()
    before = storage.proxy.down
    cli(ws, "model", "download", "--name", "m", "--version", "1", "--download-path", str(tmp_path / "dl"),
        check=True)
    target = tmp_path / "dl" / "m" / "m.bin"
    assert sha(target.read_bytes()) == sha(content)
    assert storage.proxy.down - before < len(content) - 8 * MiB  # what had arrived was not fetched again
    assert [p.name for p in target.parent.iterdir()] == ["m.bin"]  # no resume state left once complete
