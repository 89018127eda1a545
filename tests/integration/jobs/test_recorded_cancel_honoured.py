"""A cancel recorded in a job's record (``extra["cancel_requested"]``: what ``job cancel`` writes before it
signals the runner, for a runner that took the job since or that the signal missed) is honoured by the
real runner that holds the job, with no signal at all: a background worker running a host process or a
container stops the command and records Canceled; a pipeline's orchestrator cancels its running step and
records the pipeline Canceled.

Real processes (`runner job create` without `--stream`: a detached worker or orchestrator); the request
is written once the job's own log says its command started (the log is the event, no sleep decides
anything). No timing is asserted: the waits are bounded only so a runner that ignored the request fails
the test instead of hanging it (its command would end on its own, Completed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, cli, show, wait_for_status, write_job

from runner.jobs.cancel_request import CANCEL_REQUESTED, record_cancel_request
from runner.workspace.db import Workspace

TERMINAL = {"Completed", "Failed", "Canceled"}
JOB = """
    command: echo started; sleep 45; echo finished
    environment:
      image: runner/busybox:latest
    """
PIPELINE = """
type: pipeline
settings:
  default_compute: local-process
jobs:
  slow:
    type: command
    command: echo started; sleep 45; echo finished
    environment: {image: unused:1}
    outputs:
      out: {mode: upload}
  after:
    type: command
    command: echo never
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.slow.outputs.out}}", mode: download}
"""


def wait_for_line(log: Path, line: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not (log.exists() and line in log.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"{line!r} never appeared in {log}"
        time.sleep(0.1)


def ask_without_a_signal(ws: Path, name: str) -> None:
    asked = record_cancel_request(Workspace(ws), name)
    assert asked is not None and CANCEL_REQUESTED in asked.extra, "the job was no longer held by a runner"


@pytest.fixture
def ws(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    return workspace_dir


@pytest.mark.parametrize("backend", ["process", pytest.param("docker", marks=pytest.mark.docker)])
def test_a_background_runner_stops_its_job_on_a_recorded_cancel(ws: Path, tmp_path: Path, backend: str,
                                                                  request: pytest.FixtureRequest) -> None:
    name = f"rc-{backend}"
    job = write_job(tmp_path, JOB)
    cli(ws, "job", "create", "--file", str(job), "--name", name, "--backend", backend, check=True)
    log = ws / "jobs" / name / "user_logs" / "std_log.txt"
    wait_for_line(log, "started")
    ask_without_a_signal(ws, name)
    record = wait_for_status(ws, name, TERMINAL, timeout=120)
    assert record["status"] == "Canceled", record["error"]
    assert record["error"].startswith("canceled by the user"), record["error"]
    assert "Running" in record["extra"]["status_times"] and "late_cancel" not in record["extra"]
    assert "finished" not in log.read_text(errors="replace")
    if backend == "docker":
        assert_no_leftovers(request.getfixturevalue("docker_client"), ws, name)


def test_a_pipeline_orchestrator_cancels_its_steps_on_a_recorded_cancel(ws: Path, tmp_path: Path) -> None:
    yml = write_job(tmp_path, PIPELINE, "pipeline.yml")
    cli(ws, "job", "create", "--file", str(yml), "--name", "rcp", check=True)
    wait_for_line(ws / "jobs" / "rcp" / "user_logs" / "std_log.txt", "[slow] started")
    ask_without_a_signal(ws, "rcp")
    record = wait_for_status(ws, "rcp", TERMINAL, timeout=120)
    assert record["status"] == "Canceled", record["error"]
    rows: dict[str, Any] = {s: v["status"] for s, v in record["extra"]["steps"].items()}
    assert rows == {"slow": "Canceled", "after": "Skipped"}
    step = show(ws, "rcp-slow")
    assert step["status"] == "Canceled" and CANCEL_REQUESTED in step["extra"]
    assert "finished" not in (ws / "jobs" / "rcp-slow" / "user_logs" / "std_log.txt").read_text()
