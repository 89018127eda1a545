"""The job lifecycle's public face: ``JobOperations`` (``ml_client.jobs``) and what the CLI calls.

    ops = JobOperations(workspace)
    record = ops.create_or_update(spec)            # Queued; runs in a background worker process
    record = ops.create_or_update(spec, stream=True, echo=sys.stdout.buffer.write)   # foreground
    ops.stream(name); ops.get(name); ops.list(); ops.cancel(name)   # or begin_cancel(name).result()
    ops.archive(name); ops.list(list_view_type="ArchivedOnly"); ops.restore(name)
    ops.download(name, download_path="out", output_name="model")   # or all=True
    ops.validate(spec).passed                      # job validate's checks; nothing is submitted

Submission (``runner.jobs.submit``) plans the job, snapshots its code and records it as Queued; the run
(``runner.jobs.run``) takes it to a terminal status, here with ``stream`` or in a background worker
(``python -m runner.jobs.worker``); ``stream`` shows its log as it grows (``runner.jobs.log_echo``). A
job whose ``compute:`` names a registered Ray compute is submitted to that cluster instead
(``runner.jobs.ray_submit``) and followed from here (``runner.jobs.ray_follow``).
"""

from __future__ import annotations

import builtins
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import JobError, RunnerError
from runner.jobs.cancel_request import cancel_queued, record_cancel_request
from runner.jobs.compute import ComputeChoice, choose_compute
from runner.jobs.download import download_outputs, in_python_words
from runner.jobs.job import Job, as_job, output_meant
from runner.jobs.log_echo import follow_log, terminal_echo
from runner.jobs.python_words import failed_error, in_python
from runner.jobs.recovery import (
    follows_ray,
    mark_lost,
    process_start_time,
    reconcile,
    recover,
    release_resources,
    runner_alive,
    watchdog_follows,
)
from runner.jobs.run import run_job
from runner.jobs.spawn import spawn_worker
from runner.jobs.submit import check_submission, plan_with_walk, submit_job
from runner.jobs.supervise import Echo, cancel_grace_s
from runner.jobs.takeover import cancel_beside_watchdog
from runner.plan import env_secrets
from runner.plan.types import RunPlan
from runner.poller import Done
from runner.spec.job import CommandJobSpec
from runner.spec.load import check_input_values, spec_with
from runner.spec.names import check_job_name, generate_job_name
from runner.spec.validation import did_you_mean
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.job_records import archived_view
from runner.workspace.old_job_secrets import mask_old_jobs
from runner.workspace.paging import Page

log = logging.getLogger(__name__)

STREAM_POLL_S = 0.25
CANCEL_WAIT_AFTER_GRACE_S = 120.0  # stop, finalize the outputs, record
CANCEL_ROUNDS = 3  # runners a cancel signals at most: the one it found, then any that took the job since


@dataclass(frozen=True)
class ValidationResult:
    """What ``JobOperations.validate`` found, as azure.ai.ml's: ``passed``, ``error_messages`` (the
    field, as ``job validate`` names it, -> the message and hint, as ``str(error)`` says them: in the
    Python API's words), the ``error`` itself, and the ``plan`` (a ``RunPlan``; for a pipeline, its
    graph) when it passed."""

    passed: bool
    error_messages: dict[str, str] = field(default_factory=dict)
    error: RunnerError | None = None
    plan: Any = None


class JobOperations:
    """``ml_client.jobs`` for a local workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        mask_old_jobs(workspace, env_secrets)  # once: secrets older runners left in job records
        reconcile(workspace)

    # ---- create -------------------------------------------------------------------------------
    def create_or_update(self, job: Any, *, name: str | None = None, stream: bool = False,
                         echo: Echo | None = None, backend: str | None = None,
                         upload_on_failure: bool = True, quiet: bool = False,
                         allow_unsafe_docker_args: bool = False, description: str | None = None,
                         compute: str | None = None, tags: dict[str, str] | None = None,
                         experiment_name: str | None = None, skip_validation: bool = False,
                         on_submitted: Callable[[JobRecord], None] | None = None) -> Job:
        """Submit ``job`` (a spec or a builder job); run it in the background, or here with ``stream``
        (its log going to ``echo``, by default this process's stdout, terminal-safe; ``quiet``: no progress
        bars for its transfers; ``allow_unsafe_docker_args``: see ``runner.backends.docker_args``;
        ``on_submitted``: called with the Queued record, its plan's warnings in ``extra["warnings"]``,
        before the job runs: ``runner job create`` prints them; without it each is logged once, in the
        Python API's words).
        azure.ai.ml's ``description``, ``compute``, ``tags`` and ``experiment_name`` replace those fields
        of the submitted job (``job`` itself is unchanged); ``skip_validation`` is accepted and has no
        effect (a job is always checked)."""
        del skip_validation
        spec = _as_spec(job)
        given = {k: v for k, v in (("description", description), ("compute", compute), ("tags", tags),
                                   ("experiment_name", experiment_name)) if v is not None}
        if given:
            spec = spec_with(spec, given)
        check_input_values(spec, spec._doc)  # built in Python, an input may have no value until now
        choice = choose_compute(self.workspace, spec, python=on_submitted is None)
        if choice.compute is not None:  # one Ray Job on the cluster; this process (or a worker) follows it
            from runner.jobs.ray_follow import follow_ray_job  # start-up cost: only for Ray jobs
            from runner.jobs.ray_submit import submit_ray_job

            record = submit_ray_job(self.workspace, spec, compute=choice.compute, name=name, backend=backend,
                                    upload_on_failure=upload_on_failure,
                                    allow_unsafe_docker_args=allow_unsafe_docker_args)
            self._submitted(record, spec, on_submitted)
            if stream:  # the log shown while it waits (by default terminal-safe on stdout)
                with terminal_echo(echo) as shown:
                    return as_job(follow_ray_job(self.workspace, record.name, echo=shown, interruptible=True))
            self.start_worker(record.name)
            return as_job(self.workspace.get_job(record.name))
        record = self.submit(spec, name=name, backend=backend,
                             allow_unsafe_docker_args=allow_unsafe_docker_args)
        self._submitted(record, spec, on_submitted)
        try:
            if stream:  # as `job create --stream` shows it (by default terminal-safe on stdout)
                with terminal_echo(echo) as shown:
                    return as_job(run_job(self.workspace, record.name, echo=shown,
                                          upload_on_failure=upload_on_failure, quiet=quiet))
            self.start_worker(record.name, upload_on_failure=upload_on_failure)
        except KeyboardInterrupt:  # before the run took over SIGINT: the queued job is canceled
            current = self.workspace.get_job(record.name)
            if not current.status.is_terminal:
                mark_lost(self.workspace, current, status=JobStatus.CANCELED,
                          reason="canceled (interrupted before the job started)")
            raise
        return as_job(self.workspace.get_job(record.name))

    @staticmethod
    def _submitted(record: JobRecord, spec: CommandJobSpec, on_submitted: Callable[[JobRecord], None] | None
                   ) -> None:
        """The queued job to ``on_submitted`` (the CLI prints its warnings), else each warning logged once,
        in Python's words; a pipeline step's are its pipeline's (in its log)."""
        if on_submitted is not None:
            on_submitted(record)
        elif spec.parent_job_name is None:
            for warning in record.extra.get("warnings", []):
                log.warning("%s", in_python(warning))

    def validate(self, job: Any, *, raise_on_failure: bool = False, name: str | None = None,
                 **_: Any) -> ValidationResult:
        """azure.ai.ml's ``validate``: the checks ``runner job validate`` makes (every path, the
        environment, the modes, what ``create_or_update`` would refuse before queuing); nothing is
        submitted, run or written. A failure is returned (``passed`` False), or with
        ``raise_on_failure`` raised: the error ``runner job validate`` prints."""
        try:
            plan = self._validated_plan(job, name=name)
        except RunnerError as err:
            if raise_on_failure:
                raise
            location = str(err.where) if err.where is not None else None
            key = err.python_field or err.field or location or "job"
            return ValidationResult(False, {key: str(err)}, err)  # in the Python API's words
        return ValidationResult(True, plan=plan)

    def _validated_plan(self, job: Any, *, name: str | None) -> Any:
        """A command job's plan, checked as ``runner job validate`` checks it."""
        spec = _as_spec(job)
        if name is not None:
            check_job_name(name, "name")
        check_input_values(spec, spec._doc)
        compute = choose_compute(self.workspace, spec, python=True).compute
        plan: RunPlan
        plan, walk = plan_with_walk(spec, workspace=self.workspace,
                                    job_name=name or spec.name or generate_job_name(),
                                    **({"default_datastore": compute.datastore} if compute else {}))
        check_submission(spec, plan, backend="docker" if compute else None, walk=walk)
        return plan

    def choose_compute(self, spec: CommandJobSpec) -> ComputeChoice:
        """Where ``spec`` runs (a registered Ray compute, or here); its warnings say so."""
        return choose_compute(self.workspace, spec)

    def submit(self, spec: CommandJobSpec, *, name: str | None = None, backend: str | None = None,
               allow_unsafe_docker_args: bool = False) -> JobRecord:
        """Plan the job, snapshot its code and record it as Queued (owned by this process)."""
        return submit_job(self.workspace, spec, name=name, backend=backend,
                          allow_unsafe_docker_args=allow_unsafe_docker_args)

    def start_worker(self, name: str, *, upload_on_failure: bool = True) -> int:
        """Run the job in a detached ``python -m runner.jobs.worker`` process; record its pid while the
        job is still Queued, in one transaction (a cancel that came meanwhile stands; once the worker
        took the job it recorded itself)."""
        pid = spawn_worker(self.workspace.root, self.workspace.job_dir(name), name,
                           upload_on_failure=upload_on_failure)
        self.workspace.update_job(name, only_from={JobStatus.QUEUED}, runner_pid=pid,
                                  merge_extra={"runner_start": process_start_time(pid)})
        return pid

    # ---- read ---------------------------------------------------------------------------------
    def get(self, name: str) -> Job:
        return as_job(self.workspace.get_job(name))

    def list(self, *, max_results: int | None = None, list_view_type: Any = None) -> builtins.list[Job]:
        """Jobs, newest first; an archived one only with azure.ai.ml's ``list_view_type``
        (``ListViewType.ARCHIVED_ONLY`` or ``ALL``; ``ACTIVE_ONLY``, the default, hides them)."""
        return [as_job(r) for r in self.workspace.list_jobs(max_results=max_results,
                                                             archived=archived_view(list_view_type))]

    def page(self, *, status: str | None = None, experiment_name: str | None = None,
             compute: str | None = None, name_contains: str | None = None,
             reads_model: tuple[str, str | None] | None = None,
             reads_data: tuple[str, str | None] | None = None, offset: int = 0,
             limit: int | None = None, list_view_type: Any = None, parent_job_name: str | None = None,
             top_level: bool = False) -> Page[Job]:
        """One page of jobs, newest first (runner's addition, for the web UI and scripts): filtered by
        status, experiment, compute (the backend: ``docker``, ``process``), part of the name, and
        ``reads_model=(name, version or None)``: the jobs that read that model as an input (any version
        when None; ``<registry>/<name>`` for a registry's), or ``reads_data=``: that data asset; the
        archived jobs as ``list`` shows them (``list_view_type``); ``top_level=True``: only the jobs
        ``list`` lists (no pipeline's step), ``parent_job_name=``: that pipeline's steps (steps included
        when neither is given)."""
        if reads_model is not None and reads_data is not None:
            raise ValueError("give reads_model or reads_data, not both")
        reads = ("model", *reads_model) if reads_model is not None else \
            ("data", *reads_data) if reads_data is not None else None
        page = self.workspace.page_jobs(status=status, experiment_name=experiment_name, backend=compute,
                                        name_contains=name_contains, reads=reads, offset=offset,
                                        limit=limit, archived=archived_view(list_view_type),
                                        parent=parent_job_name, top_level=top_level)
        return Page([as_job(r) for r in page.items], page.offset, page.limit, page.total)

    def refresh(self, name: str) -> Job:
        """The job as it stands; an active job whose runner is gone is cleaned up after and marked
        Failed first (what ``stream`` checks on every poll)."""
        record = self.workspace.get_job(name)
        if not record.status.is_terminal and not runner_alive(record) and recover(self.workspace, record):
            record = self.workspace.get_job(name)  # lost (a Ray job got a new follower instead)
        return as_job(record)

    def reconcile(self) -> builtins.list[str]:
        """Mark every active job whose runner is gone as Failed (as every ``runner job`` command does
        first); the names of those jobs."""
        return reconcile(self.workspace)

    def stream(self, name: str, echo: Echo | None = None, *, raise_on_failure: bool = True) -> Job:
        """Follow the job's log until it reaches a terminal status (the whole log when it has).

        The log goes to ``echo`` (default: this process's stdout, as ``azure.ai.ml``'s ``stream``, with no
        escape sequence but colours: ``runner.jobs.log_echo.TerminalEcho``; an ``echo`` given gets the
        log's bytes as they are).
        A Completed job is returned; a Failed or Canceled one raises ``JobFailedError`` (a ``JobError``,
        ``runner.exceptions.JobException``) after its log was shown, as azure.ai.ml raises
        ``JobException``; with ``raise_on_failure=False`` it is returned too (the CLI's form)."""
        log_path = self.workspace.job_dir(name).std_log
        position = 0
        with terminal_echo(echo) as shown:  # stdout's held back end printed before an error is raised
            while not (record := self.refresh(name)).status.is_terminal:
                position = follow_log(log_path, position, shown)
                time.sleep(STREAM_POLL_S)
            follow_log(log_path, position, shown)
        if raise_on_failure and record.status is not JobStatus.COMPLETED:
            raise failed_error(record, log_path)
        return as_job(record)

    # ---- cancel ---------------------------------------------------------------------------------
    def cancel(self, name: str) -> Job:
        """Stop a running job (grace period, then kill), finalize its outputs, mark it Canceled.

        A Queued job is marked Canceled at once, if still Queued (a compare-and-set, as its runner's taking
        it): it never starts. Else the request is recorded in the job first (``runner.jobs.cancel_request``:
        a runner that took it since, or that the signal missed, stops it at its next check), then its
        runner is signalled (SIGTERM) and waited for: one still alive after the grace period and
        ``CANCEL_WAIT_AFTER_GRACE_S`` is making its outputs durable: it records the end itself, and the job
        is returned as it stands. Only a runner that is gone is cleaned up after; one found to have taken
        the job meanwhile is signalled in turn (``CANCEL_ROUNDS``; then it is left to the request)."""
        record = self.workspace.get_job(name)
        if record.status.is_terminal:
            raise JobError(f"job '{name}' is already {record.status.value}; only an active job can be "
                           "canceled")
        if follows_ray(record):
            from runner.jobs.ray_follow import cancel_ray_job  # start-up cost: only for Ray jobs

            return as_job(cancel_ray_job(self.workspace, record,
                                         wait_s=cancel_grace_s() + CANCEL_WAIT_AFTER_GRACE_S))
        if record.status is JobStatus.QUEUED:  # its owner is not signalled: it may be recording its worker
            canceled = cancel_queued(self.workspace, record)
            record = canceled or self.workspace.get_job(name)  # else its runner took it: stopped as such
            if record.status.is_terminal:
                return as_job(record)
        record = record_cancel_request(self.workspace, name) or self.workspace.get_job(name)  # (None: ended)
        for _ in range(CANCEL_ROUNDS):
            if record.status.is_terminal:
                break
            record, settled = self._stop(record)
            if settled:
                break
        return as_job(record)

    def _stop(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """One round of ``cancel``: the job as it stands after it, and whether that is settled (False: the
        job was found taken, not ended, by a runner since it was read; that runner is the next round's)."""
        name = record.name
        pid = record.runner_pid if runner_alive(record) else None
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + cancel_grace_s() + CANCEL_WAIT_AFTER_GRACE_S
            while time.monotonic() < deadline:
                record = self.workspace.get_job(name)
                if record.status.is_terminal:
                    return record, True
                if not runner_alive(record):
                    break
                time.sleep(STREAM_POLL_S)
            else:  # never unmount or delete under a runner that is still finalizing
                return record, True
        record = self.workspace.get_job(name)
        if record.status.is_terminal:
            return record, True
        # a runner that ends on our SIGTERM without recording it had not taken over the signals yet
        reason = (f"canceled while {record.status.value}: the runner (pid {record.runner_pid}) stopped on "
                  "the cancel before it recorded the end") if pid else None
        if watchdog_follows(self.workspace, record):  # it keeps the container's output: stopped, left to it
            ended = cancel_beside_watchdog(self.workspace, record, reason=reason)
            return ended, ended.status.is_terminal

        def release(current: JobRecord) -> None:
            """Once ``end_lost`` found the job as judged (not ended, nor taken since), holding its lock."""
            release_resources(self.workspace, current)

        ended = mark_lost(self.workspace, record, status=JobStatus.CANCELED, reason=reason, first=release)
        return ended, ended.status.is_terminal

    def begin_cancel(self, name: str, **_: Any) -> Done:
        """azure.ai.ml's name for ``cancel``: the cancel is done when it returns; ``.result()`` is the
        job as ``cancel`` returns it."""
        return Done(self.cancel(name))

    # ---- archive ------------------------------------------------------------------------------
    def archive(self, name: str) -> None:
        """Archive the job (a command job or a pipeline, in any status: a running one runs on), as
        azure.ai.ml: ``list`` hides it unless ``list_view_type`` asks for archived jobs."""
        self.workspace.update_job(name, archived=True)

    def restore(self, name: str) -> None:
        """Restore an archived job: ``list`` shows it again."""
        self.workspace.update_job(name, archived=False)

    def __getattr__(self, name: str) -> Any:
        """An attribute ``ml_client.jobs`` does not have: named as azure.ai.ml's class, with the close one."""
        known = [a for a in dir(self) if not a.startswith("_")]
        raise AttributeError(f"'JobOperations' object (ml_client.jobs) has no attribute '{name}'"
                             f"{'' if name.startswith('_') else did_you_mean(name, known)}")

    # ---- download -----------------------------------------------------------------------------
    def download(self, name: str, *, download_path: str | Path = ".", output_name: str | None = None,
                 all: bool = False, quiet: bool = False) -> builtins.list[Path]:  # noqa: A002
        """Copy outputs locally as Azure does: ``artifacts/`` and ``named-outputs/<out>/`` (``all``:
        azure.ai.ml's keyword, which an ``output_name`` given too overrides, as there;
        ``output_name="default"``, azure.ai.ml's name of the artifact store, is ``artifacts`` unless the
        job has an output of its own named so; ``quiet``: no progress bar)."""
        record = self.workspace.get_job(name)
        all = all and not output_name  # noqa: A001  (azure.ai.ml's keyword)
        names = list(record.outputs) if all else [output_meant(output_name or ARTIFACTS, record.outputs)]
        try:
            return download_outputs(self.workspace, record, names, Path(download_path), every=all,
                                    quiet=quiet)
        except RunnerError as err:
            in_python_words(err, record, names[0], every=all)
            raise


def _as_spec(job: Any) -> CommandJobSpec:
    if isinstance(job, CommandJobSpec):
        return job
    for attribute in ("to_spec", "_to_spec", "spec"):
        candidate = getattr(job, attribute, None)
        candidate = candidate() if callable(candidate) else candidate
        if isinstance(candidate, CommandJobSpec):
            return candidate
    raise JobError(f"cannot run a {type(job).__name__}; pass a job built with command(...) or loaded with "
                   "load_job(...)")

