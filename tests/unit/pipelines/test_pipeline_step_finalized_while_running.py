"""A step job finalized (``runner job finalize``) while its pipeline still runs: the orchestrator ends the
pipeline from the steps' records as they are then (``runner.pipelines.ending.finalized_meanwhile``), not
from the Failed it saw, so a pipeline whose only failed step was finalized ends Completed; a step it
skipped when that step failed stays skipped, and the pipeline Failed.

The steps are stand-ins (``_Steps``: records only, no process); the finalize is the step's record written
Completed, as ``finalize_outputs`` leaves a job that failed only at its upload. Everything in tmp_path."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.pipelines import orchestrate
from runner.pipelines.ending import after_step_finalized, finalized_meanwhile
from runner.pipelines.orchestrate import Orchestrator
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow

ENV = {"image": "unused:1"}
UPLOAD_FAILED = "outputs not durable: the upload of output 'out' failed"


class _Steps:
    """Step operations, records only: a step is Running once submitted; ``at[poll]`` runs on that poll."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.polls = 0
        self.at: dict[int, Callable[[], Any]] = {}

    def create_or_update(self, _spec: Any, *, name: str, **_: Any) -> JobRecord:
        return self.ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, runner_pid=os.getpid(),
                                            spec={"parent_job_name": "p"},
                                            outputs={"out": f"azureml://datastores/d/paths/{name}"}))

    def cancel(self, name: str) -> None:
        raise AssertionError(f"nothing is canceled here ({name})")

    def reap(self) -> None:
        self.polls += 1
        if self.polls in self.at:
            self.at.pop(self.polls)()

    def end(self, job: str, status: JobStatus, error: str | None = None) -> Callable[[], Any]:
        return lambda: self.ws.update_job(job, status=status, error=error, exit_code=0, ended_at=utcnow())


def run(tmp_path: Path, jobs: dict[str, Any], script: Callable[[_Steps], None]) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    data = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": jobs,
            "outputs": {"final": {"mode": "upload"}}}
    submit_pipeline(ws, pipeline_from_data(data, base_dir=tmp_path), name="p")
    orch = Orchestrator(ws, "p")
    steps = _Steps(ws)
    orch.ops = steps  # type: ignore[assignment]
    script(steps)
    orch.run()
    assert not steps.at, f"the pipeline ended before polls {sorted(steps.at)}"
    return ws


def test_the_only_failed_step_finalized_while_the_pipeline_runs_completes_it(tmp_path: Path) -> None:
    jobs = {"a": {"command": "echo a", "environment": ENV, "outputs": {"out": "${{parent.outputs.final}}"}},
            "b": {"command": "echo b", "environment": ENV}}

    def script(steps: _Steps) -> None:
        steps.at[3] = steps.end("p-a", JobStatus.FAILED, UPLOAD_FAILED)  # seen Failed by the orchestrator
        steps.at[5] = steps.end("p-a", JobStatus.COMPLETED)  # `runner job finalize --name p-a`, b still runs
        steps.at[7] = steps.end("p-b", JobStatus.COMPLETED)

    ws = run(tmp_path, jobs, script)
    record = ws.get_job("p")
    assert record.status is JobStatus.COMPLETED and record.error is None, record.error
    assert record.outputs["final"] == "azureml://datastores/d/paths/p-a"  # bound as at a normal end
    row = record.extra["steps"]["a"]
    assert row["status"] == "Completed" and "error" not in row and "runner job finalize" in row["note"]
    log = ws.job_dir("p").std_log.read_text()
    assert "[pipeline] step a: Failed" in log and "step a: Completed (its job p-a was finalized" in log, log


def test_a_step_skipped_when_it_failed_stays_skipped(tmp_path: Path) -> None:
    jobs = {"a": {"command": "echo a > ${{outputs.out}}/a", "environment": ENV, "outputs": {"out": {}}},
            "r": {"command": "cat ${{inputs.i}}/a", "environment": ENV,
                  "inputs": {"i": "${{parent.jobs.a.outputs.out}}"}},
            "b": {"command": "echo b", "environment": ENV}}

    def script(steps: _Steps) -> None:
        steps.at[3] = steps.end("p-a", JobStatus.FAILED, UPLOAD_FAILED)  # r is skipped
        steps.at[5] = steps.end("p-a", JobStatus.COMPLETED)
        steps.at[7] = steps.end("p-b", JobStatus.COMPLETED)

    ws = run(tmp_path, jobs, script)
    record = ws.get_job("p")
    assert (record.status, record.error) == (JobStatus.FAILED, "not every step ran; skipped: r")
    assert record.extra["steps"]["a"]["status"] == "Completed"
    assert record.extra["steps"]["r"]["status"] == "Skipped" and not ws.job_exists("p-r")


def test_a_step_still_failed_keeps_the_pipeline_failed(tmp_path: Path) -> None:
    jobs = {"a": {"command": "echo a", "environment": ENV}, "b": {"command": "echo b", "environment": ENV}}

    def script(steps: _Steps) -> None:
        steps.at[3] = steps.end("p-a", JobStatus.FAILED, UPLOAD_FAILED)
        steps.at[5] = steps.end("p-b", JobStatus.COMPLETED)

    ws = run(tmp_path, jobs, script)
    record = ws.get_job("p")
    assert (record.status, record.error) == (JobStatus.FAILED, f"step a failed: {UPLOAD_FAILED}")
    assert record.extra["steps"]["a"]["status"] == "Failed"


def test_a_finalize_after_the_orchestrator_read_its_steps_waits_and_derives_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The finalize lands between the orchestrator's read of its steps (a still Failed) and its end: its
    derivation (``after_step_finalized``) waits for the pipeline's lock, then finds the pipeline ended
    Failed and makes it Completed; without the lock it would find it Running, change nothing, and the
    pipeline would stay Failed."""
    jobs = {"a": {"command": "echo a", "environment": ENV, "outputs": {"out": "${{parent.outputs.final}}"}},
            "b": {"command": "echo b", "environment": ENV}}
    threads: list[threading.Thread] = []
    derived: list[JobRecord | None] = []

    def read_then_finalized(ws: Workspace, seen: Any) -> list[str]:
        found = finalized_meanwhile(ws, seen)  # a is Failed still: nothing found

        def finalize() -> None:  # `runner job finalize --name p-a`, in another process's order
            derived.append(after_step_finalized(ws, ws.update_job("p-a", status=JobStatus.COMPLETED,
                                                                    error=None)))
        threads.append(threading.Thread(target=finalize))
        threads[0].start()
        return found

    monkeypatch.setattr(orchestrate, "finalized_meanwhile", read_then_finalized)

    def script(steps: _Steps) -> None:
        steps.at[3] = steps.end("p-a", JobStatus.FAILED, UPLOAD_FAILED)
        steps.at[5] = steps.end("p-b", JobStatus.COMPLETED)

    ws = run(tmp_path, jobs, script)
    threads[0].join()
    record = ws.get_job("p")
    assert derived and derived[0] is not None, "the finalize found the pipeline still running"
    assert record.status is JobStatus.COMPLETED and record.error is None, record.error
    note = record.extra["steps_finalized"][-1]
    assert (note["step"], note["status_before"], note["status"]) == ("a", "Failed", "Completed")
    assert record.outputs["final"] == "azureml://datastores/d/paths/p-a"
