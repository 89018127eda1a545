"""How a pipeline's end follows from its steps': the one rule the orchestrator ends a pipeline with
(``pipeline_end``), what a completed step gives its pipeline (``step_completed``: the pipeline's outputs
bound to the step's, the versions it registered), and the same two applied again when a step job of an
ended pipeline is finalized later (``after_step_finalized``, called by ``runner job finalize``: the
finalize itself is ``runner.jobs.finalize_later``, below the pipelines, which cannot call up here); a
step finalized while its pipeline still runs is found by the orchestrator as it ends the pipeline
(``finalized_meanwhile``; ``running_pipeline`` names that pipeline for the verb to say so).

    end = pipeline_end({"a": StepEnd("Completed"), "b": StepEnd("Failed", "exit 1")}, canceled=False)
    after_step_finalized(ws, finalized.record)   # its Failed pipeline Completed once no step failed

A pipeline is Failed when a step failed (each failed step's reason in its error), else Canceled when it
was canceled or a step was, else Failed when a step was skipped (met only once a failed step was
finalized later: the steps it skipped never ran), else Completed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.jobs.cancel_request import CANCEL_REQUESTED
from runner.jobs.recovery import job_lock
from runner.jobs.register import REGISTERED_ARCHIVED
from runner.jobs.run import NOT_STARTED as COMMAND_NOT_STARTED
from runner.pipelines.record import PIPELINE_KEY, SKIPPED, STEPS_KEY, PipelinePlan, is_pipeline, parent_of
from runner.pipelines.step_rows import follow_steps
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow

log = logging.getLogger(__name__)

STEPS_FINALIZED = "steps_finalized"  # extra key: [{at, step, job, status_before, status, error_before}]


@dataclass(frozen=True)
class StepEnd:
    """A step as its pipeline's end reads it: its status, its error, whether its command never started."""

    status: str
    error: str | None = None
    never_started: bool = False


@dataclass(frozen=True)
class PipelineEnd:
    status: JobStatus
    error: str | None
    not_started: bool = False  # every failed step could not start: nor could it (`runner job` exits 4)


def pipeline_end(steps: Mapping[str, StepEnd], *, canceled: bool) -> PipelineEnd:
    """The pipeline's status and error from its steps' (``canceled``: the pipeline was canceled)."""
    failed = [n for n, s in steps.items() if s.status == JobStatus.FAILED.value]
    canceled_steps = [n for n, s in steps.items() if s.status == JobStatus.CANCELED.value]
    skipped = [n for n, s in steps.items() if s.status == SKIPPED]
    not_started = False
    if failed:  # each failed step's whole reason (a multi-line one says what failed, then why)
        status = JobStatus.FAILED
        error: str | None = "\n".join(
            f"step {n} {'could not start' if steps[n].never_started else 'failed'}: "
            f"{(steps[n].error or 'failed').rstrip()}" for n in failed)
        not_started = all(steps[n].never_started for n in failed)
    elif canceled or canceled_steps:
        status, error = JobStatus.CANCELED, "canceled" + (f"; steps canceled: {', '.join(canceled_steps)}"
                                                          if canceled_steps else "")
    elif skipped:  # the step that skipped them was finalized later: they never ran
        status, error = JobStatus.FAILED, "not every step ran"
    else:
        status, error = JobStatus.COMPLETED, None
    if error and skipped:
        error += ("\n" if "\n" in error else "; ") + f"skipped: {', '.join(skipped)}"
    return PipelineEnd(status, error, not_started)


def step_completed(plan: PipelinePlan, step: str, record: JobRecord, outputs: dict[str, str],
                   models: list[str], data: list[str], extra: dict[str, Any], *, reused: bool) -> None:
    """What completed step ``step`` (its job's ``record``) gives its pipeline, in place: the pipeline's
    outputs bound to the step's, and (not for a reused step: it registered nothing this time) the model
    and data versions it registered, and those it registered archived (``extra``)."""
    for output, (source, name) in plan.outputs.items():
        if source == step and name in record.outputs:
            outputs[output] = record.outputs[name]
    if reused:
        return
    models += [m for m in record.registered_models if m not in models]
    data += [d for d in record.registered_data if d not in data]
    archived = record.extra.get(REGISTERED_ARCHIVED)
    if isinstance(archived, dict) and archived:
        extra[REGISTERED_ARCHIVED] = {**extra.get(REGISTERED_ARCHIVED, {}), **archived}


def finalized_meanwhile(ws: Workspace, seen: Mapping[str, tuple[str, str]]) -> list[str]:
    """The steps (name -> (job, status as the orchestrator saw it)) it saw end Failed whose job's record
    is Completed now: finalized by ``runner job finalize`` while their pipeline still ran. Its
    orchestrator takes them as Completed before it ends the pipeline (holding the pipeline's lock, so a
    finalize after that read waits, then finds the pipeline ended and derives it again here)."""
    return [name for name, (job, status) in seen.items()
            if status == JobStatus.FAILED.value and ws.job_exists(job)
            and ws.get_job(job).status is JobStatus.COMPLETED]


def after_step_finalized(ws: Workspace, step_job: JobRecord) -> JobRecord | None:
    """The pipeline of ``step_job`` (just finalized, ``runner job finalize``) once its status is derived
    again from its steps' records (``pipeline_end``), when the step is now Completed and its pipeline had
    ended Failed: its outputs bound to the step's and the step's registrations recorded as at a normal
    completion, the change noted (``extra["steps_finalized"]``) and said in its log. None when nothing
    changed (not a step, the step not Completed, the pipeline not Failed or derived the same)."""
    parent = parent_of(step_job)
    if step_job.status is not JobStatus.COMPLETED or parent is None or not ws.job_exists(parent):
        return None
    with job_lock(ws, ws.get_job(parent)):  # another finalize of one of its steps waits: it sees this one
        pipeline = follow_steps(ws, ws.get_job(parent))  # its step rows as their jobs' records say now
        rows = pipeline.extra.get(STEPS_KEY)
        if not is_pipeline(pipeline) or pipeline.status is not JobStatus.FAILED or not isinstance(rows, dict):
            return None
        end = pipeline_end({n: _step_end(ws, row) for n, row in rows.items()},
                           canceled=CANCEL_REQUESTED in pipeline.extra)
        if end.status is pipeline.status and end.error == pipeline.error:
            return None
        return _recorded(ws, pipeline, rows, step_job, end)


def running_pipeline(ws: Workspace, step_job: JobRecord) -> JobRecord | None:
    """The pipeline of ``step_job`` (just finalized, now Completed) when it has not ended: its orchestrator
    counts the step as Completed when it ends the pipeline (``finalized_meanwhile``). None otherwise."""
    parent = parent_of(step_job)
    if step_job.status is not JobStatus.COMPLETED or parent is None or not ws.job_exists(parent):
        return None
    pipeline = ws.get_job(parent)
    return pipeline if is_pipeline(pipeline) and not pipeline.status.is_terminal else None


def _step_end(ws: Workspace, row: Any) -> StepEnd:
    row = row if isinstance(row, dict) else {}
    job, status = row.get("job"), str(row.get("status"))
    never = status == JobStatus.FAILED.value and isinstance(job, str) and ws.job_exists(job) and \
        bool(ws.get_job(job).extra.get(COMMAND_NOT_STARTED))
    return StepEnd(status, row.get("error"), never)


def _recorded(ws: Workspace, pipeline: JobRecord, rows: dict[str, Any], step_job: JobRecord,
              end: PipelineEnd) -> JobRecord | None:
    plan = PipelinePlan.from_extra(pipeline.extra[PIPELINE_KEY])
    step = next((n for n, row in rows.items() if isinstance(row, dict) and row.get("job") == step_job.name),
                None)
    extra = dict(pipeline.extra)
    outputs, models, data = dict(pipeline.outputs), list(pipeline.registered_models), \
        list(pipeline.registered_data)
    if step is not None:
        step_completed(plan, step, step_job, outputs, models, data, extra, reused=False)
        row = {k: v for k, v in rows[step].items() if k != "error"}  # its error is no longer its end
        extra[STEPS_KEY] = {**rows, step: {**row, "note": "finalized later by `runner job finalize`"}}
    extra.pop(COMMAND_NOT_STARTED, None)
    if end.not_started:
        extra[COMMAND_NOT_STARTED] = True
    now = utc_text(utcnow())
    if end.status is not pipeline.status:
        extra["status_times"] = {**extra.get("status_times", {}), end.status.value: now}
    extra[STEPS_FINALIZED] = [*(extra.get(STEPS_FINALIZED) or []), {
        "at": now, "step": step, "job": step_job.name, "status_before": pipeline.status.value,
        "status": end.status.value, "error_before": pipeline.error}]
    updated = ws.update_job(pipeline.name, only_from={pipeline.status}, status=end.status, error=end.error,
                            outputs=outputs, registered_models=models, registered_data=data, extra=extra)
    if updated is not None:
        _say(ws, pipeline.name, f"step {step} (job {step_job.name}) finalized later by `runner job finalize` "
                                f"at {now}: the pipeline is {end.status.value}" +
                                (f" ({end.error})" if end.error else ""))
    return updated


def _say(ws: Workspace, name: str, text: str) -> None:
    """A line in the pipeline's log, as its orchestrator's (``[pipeline] ...``); never raises."""
    try:  # appended to the log that is there, no link followed
        fd = os.open(ws.job_dir(name).std_log, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "ab") as handle:
            handle.write(f"[pipeline] {text}\n".encode())
    except OSError as exc:
        log.warning("pipeline %s: its log was not written (%s)", name, exc)
