"""A real job canceled while its ``download`` input of a blob folder is being downloaded (Preparing): the
cancel's SIGTERM to its runner (what ``runner job cancel`` sends) or Ctrl-C on ``--stream``. The job is
Canceled and its folder keeps nothing of the partial download (``inputs/<name>/data`` and the resume
``state/`` with its ``*.part`` files): nothing would ever remove it later, recovery leaves a job that
ended alone.

The order is forced, not timed: once a ``.part`` file is in the job folder, the test's own Azurite is
paused (SIGSTOP) so the download cannot finish; the signal is sent and seen delivered to the runner; then
the Azurite is stopped, so the download's reads fail (retries bounded by RUNNER_RETRY_TOTAL_S) and the
runner unwinds on the cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from jobs_support import create_azure_datastore, show, spawn, write_job
from private_azurite import ACCOUNT, KEY, PrivateAzurite

pytestmark = pytest.mark.azure

MiB = 1 << 20
JOB = """
    command: echo the command ran
    inputs:
      d:
        type: uri_folder
        path: azureml://datastores/az/paths/big
        mode: download
    compute: local-process
    environment:
      image: runner/busybox:latest
    """


@pytest.fixture
def ws(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")
    monkeypatch.setenv("RUNNER_FORKSERVER", "0")  # the spawned process is the --stream runner itself
    return workspace_dir


def big_folder(server: PrivateAzurite, tmp_path: Path) -> None:
    """``big/``: two files large enough to be downloaded in parts (``.part`` files), and small ones."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(server.connection_string)
    container = service.create_container("data")
    for name, size in [("big/large/a.bin", 40 * MiB), ("big/large/b.bin", 40 * MiB)] + \
            [(f"big/small/{i:02d}.bin", 64 * 1024) for i in range(20)]:
        container.upload_blob(name, os.urandom(size))
    service.close()


def parts_under(job: Path) -> list[Path]:
    return sorted((job / "inputs").rglob("*.part")) if (job / "inputs").is_dir() else []


def pending(pid: int, signum: int) -> bool:
    """Whether ``signum`` waits, not yet delivered, for the process ``pid``."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    masks = [int(line.split()[1], 16) for line in status.splitlines()
             if line.startswith(("SigPnd", "ShdPnd"))]
    return any(mask & (1 << (signum - 1)) for mask in masks)


def wait_for(condition, what: str, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.01)


@pytest.mark.parametrize("how", ["job cancel (SIGTERM)", "Ctrl-C on --stream"])
def test_a_cancel_during_a_folder_download_leaves_no_partial_download(
        ws: Path, tmp_path: Path, private_azurite: PrivateAzurite, how: str) -> None:
    big_folder(private_azurite, tmp_path)
    account = SimpleNamespace(account=ACCOUNT, key=KEY, blob_endpoint=f"http://127.0.0.1:{private_azurite.port}/"
                                                                      f"{ACCOUNT}")
    create_azure_datastore(ws, tmp_path, SimpleNamespace(azurite=account, name="data"))
    job = write_job(tmp_path, JOB)
    stream = how.startswith("Ctrl-C")
    proc = spawn(ws, "job", "create", "--file", str(job), "--name", "dl1", *(["--stream"] if stream else []))
    job_dir = ws / "jobs" / "dl1"
    assert private_azurite.process is not None
    storage = private_azurite.process.pid  # its own session
    try:
        wait_for(lambda: parts_under(job_dir) or proc.poll() not in (None, 0), "a .part file")
        os.killpg(storage, signal.SIGSTOP)  # the download cannot finish now
        assert parts_under(job_dir), proc.communicate()
        runner_pid = int(show(ws, "dl1")["runner_pid"])
        signum = signal.SIGINT if stream else signal.SIGTERM
        if stream:  # Ctrl-C on the terminal that runs `job create --stream`
            proc.send_signal(signum)
        else:  # what `runner job cancel` sends the job's runner
            os.kill(runner_pid, signum)
        wait_for(lambda: not pending(runner_pid, signum), "the signal's delivery")
    finally:
        os.killpg(storage, signal.SIGKILL)  # its reads fail now: the runner unwinds on the cancel
        private_azurite.process.wait(timeout=30)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    record = show(ws, "dl1") if stream else None
    deadline = time.monotonic() + 120
    while record is None or record["status"] not in ("Canceled", "Failed", "Completed"):
        assert time.monotonic() < deadline, record
        time.sleep(0.3)
        record = show(ws, "dl1")
    assert record["status"] == "Canceled", (record, out, err)
    assert "canceled before the job's command started" in record["error"]
    inputs = job_dir / "inputs"
    left = sorted(str(p.relative_to(job_dir)) for p in inputs.rglob("*")) if inputs.exists() else []
    assert not [p for p in left if not (inputs.parent / p).is_dir()], f"left in the job folder: {left[:8]}"
