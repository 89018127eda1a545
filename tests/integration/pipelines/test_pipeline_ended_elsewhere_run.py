"""A pipeline whose record another process ends while its orchestrator lives (here: this test, as a
``job cancel`` that judged the orchestrator gone would) stops through the real CLI as a cancel of the
pipeline stops it: the running step is canceled (its outputs finalized as a job cancel does), the step
waiting for a slot never starts, the orchestrator exits, and that end stands. Steps run as host processes
(``compute: local-process``); everything in this test's workspace."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from jobs_support import cli, show, wait_for_status, write_job

from runner.jobs.recovery import mark_lost, runner_alive
from runner.workspace.db import JobStatus, Workspace

TWO = """
type: pipeline
settings:
  default_compute: local-process
jobs:
  slow:
    type: command
    command: echo started && sleep 120 && echo late
    environment: {image: unused:1}
  later:
    type: command
    command: echo never
    environment: {image: unused:1}
"""
ENDED = "ended by another process (this test)"


def test_a_pipeline_ended_elsewhere_cancels_its_steps_and_its_orchestrator_exits(
        workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace_dir
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    yml = write_job(tmp_path, TWO, "pipeline.yml")
    cli(ws, "job", "create", "--file", str(yml), "--name", "e1", check=True,
        env={"RUNNER_PIPELINE_MAX_PARALLEL": "1"})  # `later` waits for `slow`'s slot
    workspace = Workspace(ws)
    deadline = time.monotonic() + 120
    while not workspace.job_exists("e1-slow") or workspace.get_job("e1-slow").status is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, show(ws, "e1")
        time.sleep(0.3)
    orchestrator = workspace.get_job("e1")
    assert orchestrator.status is JobStatus.RUNNING and runner_alive(orchestrator)
    mark_lost(workspace, orchestrator, status=JobStatus.CANCELED, reason=ENDED)
    ended = wait_for_status(ws, "e1-slow", {"Completed", "Failed", "Canceled"}, timeout=60)
    assert ended["status"] == "Canceled", ended
    deadline = time.monotonic() + 60
    while runner_alive(workspace.get_job("e1")):  # the orchestrator waits for its canceled step, then exits
        assert time.monotonic() < deadline, "the orchestrator of a pipeline ended elsewhere still runs"
        time.sleep(0.3)
    assert not workspace.job_exists("e1-later")
    record = show(ws, "e1")
    assert record["status"] == "Canceled" and record["error"].startswith(ENDED)
    assert {s: v["status"] for s, v in record["extra"]["steps"].items()} == {"slow": "Canceled",
                                                                            "later": "Skipped"}
    streamed = cli(ws, "job", "stream", "--name", "e1")
    assert "the pipeline's record was ended Canceled by another process" in streamed.stdout
    assert "[slow] started" in streamed.stdout and "[slow] late" not in streamed.stdout
