"""``ml_client.jobs`` with pipelines: ``JobOperations`` (``runner.jobs.operations``) for command jobs, and
for a pipeline job (a ``type: pipeline`` spec, or a ``runner.dsl.pipeline`` / ``load_job`` pipeline)
the pipeline's submission and orchestrator. Everything else (``get``, ``stream``, ``cancel``,
``download``) works on a pipeline's record as on any job's: its log holds its steps' output, a cancel
reaches its orchestrator, its outputs are its steps'.

    ops = PipelineJobOperations(workspace)
    ops.create_or_update(load_pipeline_spec("pipeline.yml"))       # Queued; a detached orchestrator runs it
    ops.list()                                                       # top-level jobs; a pipeline's steps:
    ops.list(parent_job_name="p1")

Every read shows a pipeline's step rows (``extra["steps"]``) as its step jobs' records say now
(``runner.pipelines.step_rows``): ``get`` of one pipeline, ``list`` and ``page`` of many, their step
jobs read in one query.
"""

from __future__ import annotations

import builtins
import logging
from typing import Any

from runner.jobs.log_echo import terminal_echo
from runner.jobs.operations import Job, JobOperations, as_job
from runner.jobs.python_words import tell
from runner.jobs.supervise import Echo
from runner.pipelines.step_rows import STEPS_KEY, follow_all_steps, follow_steps, is_pipeline
from runner.pipelines.warning_lines import said_once
from runner.spec.pipeline import PipelineJobSpec
from runner.workspace.job_records import archived_view
from runner.workspace.job_tree import list_children, list_top_level
from runner.workspace.paging import Page

log = logging.getLogger(__name__)


def as_pipeline_spec(job: Any) -> PipelineJobSpec | None:
    """The pipeline spec ``job`` is or holds (a ``runner.entities`` pipeline job), else None."""
    if isinstance(job, PipelineJobSpec):
        return job
    candidate = getattr(job, "pipeline_spec", None)
    candidate = candidate() if callable(candidate) else candidate
    return candidate if isinstance(candidate, PipelineJobSpec) else None


class PipelineJobOperations(JobOperations):
    """``ml_client.jobs`` for a local workspace, pipelines included."""

    def create_or_update(self, job: Any, *, name: str | None = None, stream: bool = False,
                         echo: Echo | None = None, backend: str | None = None,
                         upload_on_failure: bool = True, skip_validation: bool = False,
                         **kwargs: Any) -> Job:
        """Submit ``job``; a pipeline is checked whole first, then run by an orchestrator (here with
        ``stream``, its log, the steps' status lines, going to ``echo``, by default stdout, terminal-safe).
        For a pipeline as for a command job, azure.ai.ml's ``experiment_name``, ``description``, ``tags``
        and ``compute`` arguments set those fields of the submitted job (``skip_validation`` is accepted,
        no effect). A
        pipeline's warnings are in its record and its log; without ``on_submitted`` (the CLI's) each is
        logged once too, in the Python API's words, as a command job's are."""
        del skip_validation
        spec = as_pipeline_spec(job)
        if spec is None:
            return super().create_or_update(job, name=name, stream=stream, echo=echo, backend=backend,
                                            upload_on_failure=upload_on_failure, **kwargs)
        given = {k: kwargs.pop(k) for k in ("experiment_name", "description", "tags", "compute")
                 if kwargs.get(k) is not None}
        if given:
            spec = spec.model_copy(update=given)
        from runner.pipelines.orchestrate import max_parallel  # start-up cost: not for a command job
        from runner.pipelines.submit import (
            run_pipeline,
            start_orchestrator,
            submit_pipeline,
        )

        max_parallel()  # RUNNER_PIPELINE_MAX_PARALLEL checked before anything is recorded or runs
        record = submit_pipeline(self.workspace, spec, name=name, backend=backend,
                                 upload_on_failure=upload_on_failure)
        told = record.extra.get("warnings", []) if kwargs.get("on_submitted") is None else []
        tell(log, told)  # a Python caller (the CLI shows them in the pipeline's log)
        if stream:  # the pipeline's log (its steps' lines), as for a command job: terminal-safe on stdout
            shown_told = told if echo is None else ()  # printed here: what was told is not again
            with terminal_echo(echo) as shown, said_once(shown, shown_told, told=True) as said:
                record = run_pipeline(self.workspace, record.name, echo=said)
            return self._with_steps(as_job(record))
        start_orchestrator(self.workspace, record.name)
        return self.get(record.name)

    def _validated_plan(self, job: Any, *, name: str | None) -> Any:
        """A pipeline's graph, checked whole as ``create_or_update`` checks it (nothing recorded)."""
        spec = as_pipeline_spec(job)
        if spec is None:
            return super()._validated_plan(job, name=name)
        from runner.pipelines.submit import plan_pipeline  # start-up cost: not for a command job

        return plan_pipeline(self.workspace, spec, name=name)[0]

    def get(self, name: str) -> Job:
        """The job; a pipeline's with ``.jobs``: each step's job (None: it has none), and, once it
        ended, its steps' rows as their records say (``follow_steps``)."""
        return self._with_steps(super().get(name))

    def refresh(self, name: str) -> Job:
        """The job as it stands (``JobOperations.refresh``); a pipeline that ended, with its steps' rows as
        their records say (``follow_steps``)."""
        return as_job(follow_steps(self.workspace, super().refresh(name)))

    def _with_steps(self, job: Job) -> Job:
        if is_pipeline(job):
            job = as_job(follow_steps(self.workspace, job))
            states = job.extra.get(STEPS_KEY) or {}
            job._jobs = {step: as_job(self.workspace.get_job(state["job"]))
                         if isinstance(state, dict) and self.workspace.job_exists(str(state.get("job")))
                         else None for step, state in states.items()}
        return job

    def list(self, *, max_results: int | None = None, parent_job_name: str | None = None,
             list_view_type: Any = None, **_: Any) -> builtins.list[Job]:
        """Top-level jobs, newest first (a pipeline's steps are folded under it; its step rows as their
        records say now), an archived one only with ``list_view_type`` ``ArchivedOnly`` or ``All``; with
        ``parent_job_name``, that pipeline's step jobs."""
        if parent_job_name is not None:
            return [as_job(r) for r in list_children(self.workspace, parent_job_name)][:max_results or None]
        records = list_top_level(self.workspace, max_results=max_results,
                                 archived=archived_view(list_view_type))
        return [as_job(r) for r in follow_all_steps(self.workspace, records)]

    def page(self, **filters: Any) -> Page[Job]:
        """``JobOperations.page``, each pipeline's step rows as their records say now."""
        found = super().page(**filters)
        return Page([as_job(r) for r in follow_all_steps(self.workspace, found.items)], found.offset,
                    found.limit, found.total)
