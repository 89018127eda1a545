"""A pipeline's status derived again once a step job of it is finalized later (``runner job finalize``):
``runner.pipelines.ending.after_step_finalized``, with the one rule the orchestrator ends a pipeline with
(``pipeline_end``). Records are made by hand (a submitted pipeline, its step jobs ended as a run would have
left them) in this test's tmp_path; nothing runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.pipelines.ending import StepEnd, after_step_finalized, pipeline_end
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

ENV = {"image": "unused:1"}


def pipeline(ws: Workspace, base: Path, jobs: dict[str, Any], rows: dict[str, str], *,
             status: JobStatus = JobStatus.FAILED, error: str = "step a failed: its upload failed",
             **settings: Any) -> None:
    """Pipeline p submitted, then ended ``status`` (its ``error``) with its step rows ``rows`` (step ->
    status), each step that ran a job of that status (a Failed one: its upload failed)."""
    spec = {"type": "pipeline", "settings": {"default_compute": "local-process", **settings}, "jobs": jobs,
            "outputs": {"final": {"mode": "upload"}}}
    submit_pipeline(ws, pipeline_from_data(spec, base_dir=base), name="p")
    states: dict[str, Any] = {}
    for step, state in rows.items():
        why = f"the upload of {step}'s output failed" if state == "Failed" else None
        states[step] = {"job": f"p-{step}", "status": state, **({"error": why} if why else {})}
        if state in ("Failed", "Completed"):
            ws.create_job(JobRecord(name=f"p-{step}", status=JobStatus(state), spec={"parent_job_name": "p"},
                                    error=why,
                                    outputs={"out": f"azureml://datastores/d/paths/{step}"}))
    ws.update_job("p", status=status, error=error, merge_extra={"steps": states})


def finalized(ws: Workspace, step: str, *, registered: list[str] | None = None) -> JobRecord:
    """Step ``step``'s job Completed, as ``finalize_outputs`` leaves a job that failed only at its upload."""
    return ws.update_job(f"p-{step}", status=JobStatus.COMPLETED, error=None,
                         registered_data=registered or [])


def test_the_rule_is_the_orchestrators() -> None:
    ok, bad = StepEnd("Completed"), StepEnd("Failed", "exit 3\n")
    assert pipeline_end({"a": ok, "b": ok}, canceled=False).status is JobStatus.COMPLETED
    failed = pipeline_end({"a": bad, "b": StepEnd("Skipped")}, canceled=False)
    assert (failed.status, failed.error) == (JobStatus.FAILED, "step a failed: exit 3; skipped: b")
    never = pipeline_end({"a": StepEnd("Failed", "no image", never_started=True)}, canceled=False)
    assert never.not_started and never.error == "step a could not start: no image"
    canceled = pipeline_end({"a": ok, "b": StepEnd("Canceled")}, canceled=False)
    assert (canceled.status, canceled.error) == (JobStatus.CANCELED, "canceled; steps canceled: b")
    assert pipeline_end({"a": ok}, canceled=True).status is JobStatus.CANCELED
    # met only once a failed step is finalized later: the steps it skipped never ran
    skipped = pipeline_end({"a": ok, "b": StepEnd("Skipped")}, canceled=False)
    assert (skipped.status, skipped.error) == (JobStatus.FAILED, "not every step ran; skipped: b")


def test_the_only_failed_step_finalized_completes_the_pipeline(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    jobs = {"a": {"command": "echo a", "environment": ENV,
                  "outputs": {"out": "${{parent.outputs.final}}"}},
            "b": {"command": "echo b", "environment": ENV}}
    pipeline(ws, tmp_path, jobs, {"a": "Failed", "b": "Completed"}, continue_on_step_failure=True)
    updated = after_step_finalized(ws, finalized(ws, "a", registered=["azureml:d:1"]))
    assert updated is not None and updated.status is JobStatus.COMPLETED and updated.error is None
    stored = ws.get_job("p")
    assert stored.status is JobStatus.COMPLETED and stored.error is None
    assert stored.outputs["final"] == "azureml://datastores/d/paths/a"  # bound to a's output
    assert stored.registered_data == ["azureml:d:1"]
    assert stored.extra["steps"]["a"]["status"] == "Completed" and "error" not in stored.extra["steps"]["a"]
    assert "Completed" in stored.extra["status_times"]
    note = stored.extra["steps_finalized"][-1]
    assert (note["step"], note["status_before"], note["status"]) == ("a", "Failed", "Completed")
    assert note["error_before"] == "step a failed: its upload failed"
    assert after_step_finalized(ws, ws.get_job("p-a")) is None  # once: the pipeline is no longer Failed


def test_another_failed_step_keeps_it_failed_with_only_that_one_said(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    jobs = {"a": {"command": "echo a", "environment": ENV}, "b": {"command": "echo b", "environment": ENV}}
    pipeline(ws, tmp_path, jobs, {"a": "Failed", "b": "Failed"}, continue_on_step_failure=True)
    updated = after_step_finalized(ws, finalized(ws, "a"))
    assert updated is not None and updated.status is JobStatus.FAILED
    assert updated.error == "step b failed: the upload of b's output failed", updated.error


def test_a_step_it_skipped_never_ran_so_it_stays_failed(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    jobs = {"a": {"command": "echo a > ${{outputs.out}}/a", "environment": ENV, "outputs": {"out": {}}},
            "b": {"command": "cat ${{inputs.i}}/a", "environment": ENV,
                  "inputs": {"i": "${{parent.jobs.a.outputs.out}}"}}}
    pipeline(ws, tmp_path, jobs, {"a": "Failed", "b": "Skipped"})
    updated = after_step_finalized(ws, finalized(ws, "a"))
    assert updated is not None and updated.status is JobStatus.FAILED
    assert updated.error == "not every step ran; skipped: b"


def test_nothing_changes_for_a_step_still_failed_or_a_pipeline_not_failed(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    jobs = {"a": {"command": "echo a", "environment": ENV}}
    pipeline(ws, tmp_path, jobs, {"a": "Failed"}, status=JobStatus.CANCELED)
    assert after_step_finalized(ws, ws.get_job("p-a")) is None  # still Failed: nothing to derive
    assert after_step_finalized(ws, finalized(ws, "a")) is None  # a Canceled pipeline keeps its end
    assert ws.get_job("p").status is JobStatus.CANCELED
    ws.create_job(JobRecord(name="alone", status=JobStatus.COMPLETED))
    assert after_step_finalized(ws, ws.get_job("alone")) is None  # not a pipeline's step
