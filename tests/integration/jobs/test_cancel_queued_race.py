"""A cancel that races the start of a background job (`job create` then at once `job cancel`) is never
lost: once the cancel says Canceled the job ends Canceled, either never started (no container, no
output, nothing in its log) or stopped after it had started; never Completed after a Canceled reply.

The race is real and its outcome varies from try to try; what is asserted is only that the end state
is consistent with the cancel's reply (no timing is asserted). The cancel goes through the CLI, and
through ``JobOperations`` from this already warm process, which reaches the job's Queued moments more
often than a new command can."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, cli, containers_of, datastore_file, show, spawn, write_job

from runner.jobs.operations import JobOperations
from runner.workspace.db import Workspace

pytestmark = pytest.mark.docker

JOB = """
    command: echo started; echo made > ${{outputs.o}}/made.txt; sleep 3; echo done
    outputs:
      o:
        mode: upload
    environment:
      image: runner/busybox:latest
    """
TERMINAL = {"Completed", "Failed", "Canceled"}


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "3")
    return workspace_dir


def workers_of(ws: Path, job: str) -> list[int]:
    """The live ``python -m runner.jobs.worker`` processes of ``job`` in ``ws``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"runner.jobs.worker" in argv and str(ws).encode() in argv and job.encode() in argv:
            found.append(int(entry))
    return found


def wait_until(what: str, done: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.005)


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize("via", ["cli", "api"])
def test_a_cancel_racing_the_start_of_a_job_is_never_lost(ws: Path, tmp_path: Path, docker_client: Any,
                                                          via: str, attempt: int) -> None:
    name = f"qr{via}{attempt}"
    job = write_job(tmp_path, JOB)
    creator = spawn(ws, "job", "create", "--file", str(job), "--name", name)
    workspace = Workspace(ws)
    wait_until(f"the record of {name}", lambda: workspace.job_exists(name))
    time.sleep(attempt * 0.03)  # another interleaving each try (nothing below depends on it)
    if via == "cli":
        reply = cli(ws, "job", "cancel", "--name", name)
        said_canceled = reply.returncode == 0 and reply.stdout.strip() == f"{name}: Canceled"
    else:
        said_canceled = JobOperations(workspace).cancel(name).status.value == "Canceled"
    creator.communicate(timeout=120)
    wait_until(f"the end of the worker of {name}", lambda: not workers_of(ws, name))
    record = show(ws, name)
    times = record["extra"]["status_times"]
    assert record["status"] in TERMINAL
    if said_canceled:
        assert record["status"] == "Canceled", f"canceled, then ended {record['status']}: {times}"
        assert "Completed" not in times and max(times, key=times.get) == "Canceled", times
        if "Preparing" not in times:  # never started: nothing of it anywhere
            assert record["container_id"] is None and record["started_at"] is None
            assert not datastore_file(ws, f"azureml/{name}/o").exists()
            log = ws / "jobs" / name / "user_logs" / "std_log.txt"
            assert not log.exists() or "started" not in log.read_text()
    else:  # the cancel came too late (the job had ended): the job kept its own end
        assert record["status"] in {"Completed", "Failed"}, times
    assert containers_of(docker_client, name) == []
    assert_no_leftovers(docker_client, ws, name)
