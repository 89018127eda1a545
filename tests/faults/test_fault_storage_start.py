"""Storage that is not up yet when a fresh process makes its first request: a private Azurite, reached
directly on its own 127.0.0.1 port (no proxy: a connection to it is refused, as to a restarting service), is
stopped before a job starts and started again ~2 s after the job's runner process has loaded (the job's
first request is refused). The first answer is not special: the download (through the lean client, and
through the Azure SDK path) and the ro_mount ride the restart out in the retry window and the job completes,
every byte right. Never started, the job fails within the window (``RUNNER_RETRY_TOTAL_S`` shortened) with one
clear message naming the endpoint. No duration is asserted but a generous bound that only catches the
default two-minute window being waited out instead of the one the test set.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fault_support import MiB, Storage, one_clear_message, std_log
from jobs_support import cli, show, write_job
from private_azurite import ACCOUNT, KEY

pytestmark = [pytest.mark.docker, pytest.mark.azure]

LATE_S = 2.0  # how long after the runner process loaded the storage comes up
# the runner's CLI in a fresh process that says when it has loaded (its imports, the Azure SDK's too):
# what it does next is the job, whose first storage request follows within a fraction of a second
_LOADED_FIRST = """\
import sys
import adlfs, azure.storage.blob  # noqa: F401 - loaded before the signal, as the lean client is
from runner.cli.main import main
sys.argv = ["runner", *sys.argv[1:]]
print("loaded", file=sys.stderr, flush=True)
main()
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def direct_datastore(ws: Path, folder: Path, storage: Storage) -> str:
    """``runner datastore create`` of the storage's container at Azurite's own port; returns that URL."""
    endpoint = f"http://127.0.0.1:{storage.azurite.port}/{ACCOUNT}"
    spec = write_job(folder, f"""
        name: az
        type: azure_blob
        account_name: {ACCOUNT}
        container_name: {storage.container}
        account_url: {endpoint}
        credentials:
          account_key: {KEY}
        """, name="datastore-az.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)
    return endpoint


def spawn_loaded(ws: Path, job: Path, name: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], float]:
    """``job create --stream`` in a fresh process (the process backend); returns it once it has loaded,
    and when that was."""
    process = subprocess.Popen([sys.executable, "-c", _LOADED_FIRST, "--workspace", str(ws), "job", "create",
                                "--file", str(job), "--stream", "--name", name, "--backend", "process"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **env})
    assert process.stderr is not None
    first = process.stderr.readline()
    assert first.strip() == "loaded", first
    return process, time.monotonic()


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[str, str, int]:
    out, err = process.communicate(timeout=timeout)
    return out, err, process.returncode


def put_data(storage: Storage) -> dict[str, str]:
    files = {"data/big.bin": os.urandom(6 * MiB + 5), **{f"data/s{i}.bin": os.urandom(64 * 1024)
                                                        for i in range(5)}}
    for name, content in files.items():
        storage.put(name, content)
    return {name.rsplit("/", 1)[-1]: sha(content) for name, content in files.items()}


def logged_hashes(log: str) -> dict[str, str]:
    return {line.split()[1].rsplit("/", 1)[-1]: line.split()[0] for line in log.splitlines()
            if len(line.split()) == 2 and len(line.split()[0]) == 64}


def _job(tmp_path: Path, mode: str) -> Path:
    return write_job(tmp_path, f"""
        command: cd ${{{{inputs.d}}}} && sha256sum *.bin
        inputs:
          d: {{type: uri_folder, path: azureml://datastores/az/paths/data, mode: {mode}}}
        environment: python:3.11
        """, name=f"job-{mode}.yml")


@pytest.mark.parametrize(("mode", "env"), [
    ("download", {}),  # the lean client
    ("download", {"RUNNER_TRANSFER_GENERIC": "1"}),  # the Azure SDK behind adlfs
    ("ro_mount", {}),
], ids=["download-lean", "download-sdk", "ro_mount"])
def test_storage_starting_late_is_ridden_out_from_the_first_request(
        ws: Path, tmp_path: Path, storage: Storage, mode: str, env: dict[str, str], request: Any) -> None:
    if mode == "ro_mount":
        request.getfixturevalue("fuse_available")
    expected = put_data(storage)
    direct_datastore(ws, tmp_path, storage)
    storage.azurite.stop()
    name = f"late-{mode}-{len(env)}"
    process, _ = spawn_loaded(ws, _job(tmp_path, mode), name, env)
    starter = threading.Timer(LATE_S, storage.azurite.start)
    starter.start()
    try:
        out, err, code = finish(process)
    finally:
        starter.join()
    one_clear_message(err)
    record = show(ws, name)
    assert code == 0 and record["status"] == "Completed", (record.get("error"), err[-2000:])
    assert logged_hashes(std_log(ws, name) or out) == expected  # every byte right


def test_storage_never_started_is_one_clear_error_within_the_window(ws: Path, tmp_path: Path,
                                                                   storage: Storage) -> None:
    put_data(storage)
    direct_datastore(ws, tmp_path, storage)
    storage.azurite.stop()
    process, began = spawn_loaded(ws, _job(tmp_path, "download"), "never", {"RUNNER_RETRY_TOTAL_S": "3"})
    out, err, code = finish(process)
    took = time.monotonic() - began
    assert code != 0, out
    one_clear_message(err)
    shown = out + err
    assert f"127.0.0.1:{storage.azurite.port}" in shown and "cannot connect" in shown, shown
    assert "RUNNER_RETRY_TOTAL_S=3" in shown and "datastore 'az'" in shown, shown  # how long; what to check
    assert KEY not in shown, shown
    assert "retrying for up to 3 s (RUNNER_RETRY_TOTAL_S)" in err, err  # said at once, before the window ends
    assert took < 90, took  # the window the test set (3 s per request), never the default 120 s one
