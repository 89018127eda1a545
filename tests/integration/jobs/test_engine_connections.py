"""A process that runs Docker jobs in-process (``run_job``, as the SDK's ``create_or_update(stream=True)``
does) holds a small, constant number of connections to the engine, however many jobs it runs: one job
after another reuses them; they do not pile up one (or four) per job.

Counted as the process's open socket descriptors (``/proc/self/fd``), after ``gc.collect()``, with a
client of the test's own (an empty Docker config folder of its own makes ``docker_client`` make one),
whatever jobs the process ran before.
"""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest

from runner.backends.docker_client import docker_client
from runner.jobs.run import run_job
from runner.jobs.submit import submit_job
from runner.spec.load import spec_from_data
from runner.workspace.db import JobStatus, Workspace

pytestmark = pytest.mark.docker

JOBS = 8
FEW = 4  # connections a process running one job after another may keep (a job uses two at once)


def _open_sockets() -> int:
    gc.collect()
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:  # the listing's own descriptor, closed since
            continue
    return count


@pytest.fixture(autouse=True)
def _own_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))  # (no registry credentials)
    docker_client()


def _run(ws: Workspace, name: str) -> None:
    submit_job(ws, spec_from_data({"environment": {"image": "runner/busybox:latest"},
                                   "command": f"echo hello from {name}"}), name=name)
    record = run_job(ws, name, quiet=True)
    assert record.status == JobStatus.COMPLETED, record.error
    assert f"hello from {name}" in ws.job_dir(name).std_log.read_text()


def test_jobs_run_one_after_another_reuse_their_engine_connections(workspace_dir: Path) -> None:
    ws = Workspace(workspace_dir)
    before = _open_sockets()
    counts = []
    for index in range(JOBS):
        _run(ws, f"conn-{index}")
        counts.append(_open_sockets())
    # the first job (or two) may open what the process keeps; the rest add nothing
    assert counts[-1] <= counts[1], f"open sockets after each of {JOBS} jobs: {counts}"
    assert counts[-1] - before <= FEW, f"{before} open sockets before, after each job: {counts}"


def test_jobs_run_at_once_each_finish_and_a_later_job_reuses_their_connections(
        workspace_dir: Path) -> None:
    ws = Workspace(workspace_dir)
    names = [f"together-{index}" for index in range(3)]
    for name in names:
        submit_job(ws, spec_from_data({"environment": {"image": "runner/busybox:latest"},
                                       "command": f"sleep 1 && echo hello from {name}"}), name=name)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            record = run_job(ws, name, quiet=True)
            assert record.status == JobStatus.COMPLETED, record.error
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for name in names:
        assert f"hello from {name}" in ws.job_dir(name).std_log.read_text()
    after_burst = _open_sockets()
    for index in range(3):
        _run(ws, f"after-{index}")
    assert _open_sockets() <= after_burst  # one after another: the connections the burst left are reused
