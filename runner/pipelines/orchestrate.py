"""Run a submitted pipeline: its steps in dependency order, each submitted as a normal command job (with
the pipeline as ``parent_job_name``) through ``JobOperations``, independent steps at once.

    record = Orchestrator(workspace, "p1", echo=sys.stdout.buffer.write).run()

- At most ``RUNNER_PIPELINE_MAX_PARALLEL`` (default 4) steps run here at once; a step on a cluster
  compute (when ``JobOperations`` can place one there) does not take a local slot. A step's worker is a
  fork of the orchestrator (``runner.pipelines.step_ops``), not a new interpreter.
- A step whose fingerprint matches an earlier completed step is not run: its record (status Completed,
  ``extra["reused_from"]``) points at that job's outputs (``runner.pipelines.reuse``).
- A failed (or canceled) step skips the steps that read its outputs; unless
  ``settings.continue_on_step_failure``, no other step starts either (steps already running finish, so
  what they write is kept). The pipeline then ends Failed.
- SIGTERM/SIGINT (``runner job cancel`` of the pipeline, Ctrl-C) cancels the running steps (each
  stopped and its outputs finalized, as a job cancel does) and skips the rest: the pipeline ends Canceled.
- A write of the pipeline's record refused because another process ended it meanwhile (a cancel that
  found no orchestrator alive, a recovery: ``StatusTracker``'s compare-and-set), or such an end found by
  a poll, stops it the same way, and that end stands: nothing is written over it. So does a cancel
  recorded in the record (``runner.jobs.cancel_request``), found by a write or a poll.
- The pipeline's log (``user_logs/std_log.txt``, what ``job stream`` follows) holds its own lines
  (``[pipeline] ...``) and every step's output, line by line, prefixed with ``[<step>]``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from runner.errors import JobError, RunnerError, SpecError
from runner.jobs.operations import JobOperations
from runner.jobs.recovery import job_lock, process_start_time, reconcile, runner_alive
from runner.jobs.run import NOT_STARTED as COMMAND_NOT_STARTED
from runner.jobs.run import StatusTracker
from runner.jobs.supervise import CancelSignals, Echo
from runner.pipelines.ending import StepEnd, finalized_meanwhile, pipeline_end, step_completed
from runner.pipelines.record import (
    NOT_STARTED,
    SKIPPED,
    PipelinePlan,
    StepPlan,
    reused_record,
    step_spec,
)
from runner.pipelines.reuse import find_reusable, fingerprint, never_reused, remember
from runner.pipelines.step_ops import StepOperations
from runner.pipelines.step_places import locate
from runner.pipelines.warning_lines import warning_line
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow

log = logging.getLogger(__name__)

MAX_PARALLEL_ENV = "RUNNER_PIPELINE_MAX_PARALLEL"
POLL_S = 0.2
ACTIVE = {s.value for s in JobStatus if not s.is_terminal}


def max_parallel() -> int:
    """How many steps may run here at once: ``RUNNER_PIPELINE_MAX_PARALLEL`` (default 4), read when
    used; anything but an integer >= 1 is one ``SpecError``."""
    given = os.environ.get(MAX_PARALLEL_ENV)
    if given is None or not given.strip():
        return 4
    try:
        value = int(given.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise SpecError(f"{MAX_PARALLEL_ENV}={given!r} is not a number of steps; allowed: an integer >= 1",
                        hint=f"set {MAX_PARALLEL_ENV} to 1 or more (how many steps run here at once; "
                             "default 4), or unset it")
    return value


@dataclass
class _LogTail:
    """Follows one step's log and hands back whole new lines."""

    path: Any
    position: int = 0
    partial: bytes = b""

    def lines(self, *, final: bool = False) -> list[bytes]:
        if self.path.exists():
            with self.path.open("rb") as handle:
                handle.seek(self.position)
                while chunk := handle.read(1 << 16):
                    self.partial += chunk
                    self.position += len(chunk)
        *whole, self.partial = self.partial.split(b"\n")
        if final and self.partial:
            whole, self.partial = [*whole, self.partial], b""
        return whole


@dataclass
class _Step:
    plan: StepPlan
    status: str = NOT_STARTED
    reused_from: str | None = None
    error: str | None = None
    fingerprint: str | None = None
    note: str | None = None  # why it was not reused, or why it was skipped
    local: bool = True
    tail: _LogTail | None = field(default=None, repr=False)

    def state(self) -> dict[str, Any]:
        state = {"job": self.plan.job, "status": self.status, "reused_from": self.reused_from,
                 "error": self.error, "note": self.note}
        return {k: v for k, v in state.items() if v is not None}


class Orchestrator:
    def __init__(self, ws: Workspace, name: str, *, echo: Echo | None = None) -> None:
        self.ws = ws
        self.name = name
        self.echo = echo
        record = ws.get_job(name)
        self.plan = PipelinePlan.of_record(ws, record)  # its steps' secret environment_variables taken
        self.cancel = CancelSignals()
        self.cancel.raise_now = False  # a cancel only asks; the loop stops the steps
        self.tracker = StatusTracker(ws, record, self.cancel)  # a refused write asks for the cancel too
        self.steps = {n: _Step(p) for n, p in self.plan.steps.items()}
        self.outputs = dict(record.outputs)
        self.registered: list[str] = list(record.registered_models)
        self.registered_data: list[str] = list(record.registered_data)
        self.ops = StepOperations(ws)
        self.canceled = False
        self.stopping: str | None = None  # why no new step starts
        self._log: IO[bytes] | None = None

    # ---- the run --------------------------------------------------------------------------------
    def run(self) -> JobRecord:
        current = self.ws.get_job(self.name)
        if current.status.is_terminal:  # canceled (or found lost) before this process took it over
            return current
        log_path = self.ws.job_dir(self.name).std_log
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.cancel.installed(), log_path.open("ab") as self._log:
            self.tracker.extra["runner_start"] = process_start_time(os.getpid())
            self.tracker.set(JobStatus.RUNNING, runner_pid=os.getpid(), started_at=utcnow())
            if (ended := self.tracker.ended_elsewhere) is not None:  # before this process took it over
                self._say(f"pipeline {self.name}: {_ended_elsewhere(ended)}: no step starts")
                return ended
            self._say(f"pipeline {self.name}: {len(self.steps)} step(s): {', '.join(self.steps)}")
            for warning in self.tracker.extra.get("warnings", []):
                self._write(warning_line(warning))  # the line a Python caller's stream replaces
            try:
                max_parallel()  # checked at submission; an orchestrator started with another environment
            except SpecError as err:
                self._say(f"error: {err.render()}")
                return self.tracker.finish(JobStatus.FAILED, error=err.render())
            try:
                self._loop()
            except Exception as exc:
                self._say(f"internal error: {type(exc).__name__}: {exc}; running steps are left to finish")
                self.tracker.finish(JobStatus.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
                raise
            return self._finish()

    def _loop(self) -> None:
        while True:
            self._check_record()
            if self.cancel.requested.is_set() and not self.canceled:
                self._cancel_all()
            self._poll()
            if not self.canceled and self.stopping is None:
                self._launch_ready()
            if not any(s.status in ACTIVE for s in self.steps.values()) and not self._startable():
                break
            time.sleep(POLL_S)
        self._poll()

    def _check_record(self) -> None:
        """The pipeline's record ended by another process while nothing here had to be written, or a cancel
        recorded in it (``runner.jobs.cancel_request``): found every poll as the next write would find them,
        and the pipeline stops the same way (``StatusTracker.poll``: only the status and the request are
        read; a read the storage refuses now, a busy or full disk, is tried again next poll)."""
        self.tracker.poll()

    def _startable(self) -> bool:
        return not self.canceled and self.stopping is None and any(
            s.status == NOT_STARTED for s in self.steps.values())

    def _ready(self) -> list[_Step]:
        done = {n for n, s in self.steps.items() if s.status == JobStatus.COMPLETED.value}
        return [s for s in self.steps.values() if s.status == NOT_STARTED and set(s.plan.depends_on) <= done]

    def _launch_ready(self) -> None:
        """Start every ready step there is a slot for; a reused step makes its dependents ready at once."""
        progress = True
        while progress:
            progress = False
            for step in self._ready():
                if self.cancel.requested.is_set() or self.stopping is not None:
                    return  # (a write of this poll was refused: no step starts after it)
                busy = sum(1 for s in self.steps.values() if s.status in ACTIVE and s.local)
                step.local = _runs_here(self.ops, step_spec(step.plan))
                if step.local and busy >= max_parallel():
                    continue
                self._launch(step)
                progress = progress or step.reused_from is not None

    # ---- one step ---------------------------------------------------------------------------------
    def _launch(self, step: _Step) -> None:
        spec = step_spec(step.plan)
        step.note = never_reused(spec, deterministic=step.plan.deterministic,
                                 force_rerun=self.plan.force_rerun)
        if step.note is None:
            try:
                step.fingerprint = fingerprint(self.ws, spec)
                earlier = find_reusable(self.ws, step.fingerprint)
            except RunnerError as err:
                step.note, earlier = f"reuse not checked: {err.message}", None
            if earlier is not None:
                self.ws.create_job(reused_record(self.ws, step.plan, spec, earlier,
                                                 self.plan.experiment_name))
                step.status, step.reused_from = JobStatus.COMPLETED.value, earlier
                self._say(f"step {step.plan.name}: reused job {earlier} (command, code, environment, inputs "
                          f"and settings unchanged); its record: {step.plan.job}")
                self._completed(step)
                return
        try:
            record = self.ops.create_or_update(spec, name=step.plan.job, backend=self.plan.backend,
                                               upload_on_failure=self.plan.upload_on_failure)
        except RunnerError as err:  # at the pipeline file's line of the field it names, as prechecks say
            shown = locate(err, step.plan.places).render()
            step.status, step.error = JobStatus.FAILED.value, shown
            self._say(f"step {step.plan.name}: could not be submitted: {shown}")
            self._failed(step)
            return
        step.status = record.status.value
        step.tail = _LogTail(self.ws.job_dir(step.plan.job).std_log)
        # "submitted", not the record's status: that is Queued or already Preparing, by the worker's speed
        self._say(f"step {step.plan.name}: submitted as job {step.plan.job}"
                  + (f" (not reused: {step.note})" if step.note else ""))
        self._save()

    def _poll(self) -> None:
        self.ops.reap()
        for step in self.steps.values():
            if step.tail is None or (step.status not in ACTIVE and not step.tail.partial):
                continue
            record = self.ws.get_job(step.plan.job)
            self._copy_log(step, final=record.status.is_terminal)
            if record.status.value == step.status:
                if not record.status.is_terminal and not runner_alive(record):
                    reconcile(self.ws)  # the step's runner died: its record says so next time
                continue
            step.status = record.status.value
            never_ran = record.status is JobStatus.FAILED and bool(record.extra.get(COMMAND_NOT_STARTED))
            if never_ran:  # as its record says (extra.not_started): its command never ran
                step.note = "could not start: " + (record.error or "its command never ran").splitlines()[0]
            self._say(f"step {step.plan.name}: {'could not start' if never_ran else step.status}")
            if record.status is JobStatus.COMPLETED:
                if step.fingerprint:
                    remember(self.ws, step.fingerprint, record.name)
                self._completed(step)
            elif record.status.is_terminal:
                step.error = record.error
                self._failed(step)
            else:
                self._save()

    def _copy_log(self, step: _Step, *, final: bool) -> None:
        assert step.tail is not None
        for line in step.tail.lines(final=final):
            self._write(f"[{step.plan.name}] ".encode() + line + b"\n")

    def _completed(self, step: _Step) -> None:
        step_completed(self.plan, step.plan.name, self.ws.get_job(step.plan.job), self.outputs,
                       self.registered, self.registered_data, self.tracker.extra,
                       reused=bool(step.reused_from))
        self._save(outputs=True)

    def _failed(self, step: _Step) -> None:
        what = "could not start" if self._never_started(step.plan.name) else step.status.lower()
        for name in self.plan.dependents(step.plan.name):
            self._skip(self.steps[name], f"step {step.plan.name} {what}")
        if not self.plan.continue_on_step_failure and self.stopping is None:
            self.stopping = f"step {step.plan.name} {what}"
            for other in self.steps.values():
                self._skip(other, f"step {step.plan.name} {what} (settings.continue_on_step_failure is off)")
        self._save()

    def _skip(self, step: _Step, reason: str) -> None:
        if step.status == NOT_STARTED:
            step.status, step.note = SKIPPED, f"skipped: {reason}"
            self._say(f"step {step.plan.name}: skipped ({reason})")

    # ---- cancel -----------------------------------------------------------------------------------
    def _cancel_all(self) -> None:
        self.canceled = True
        ended = self.tracker.ended_elsewhere
        why = "cancel requested" if ended is None else _ended_elsewhere(ended)
        self._say(f"{why}: stopping the running steps, skipping the rest")
        for step in self.steps.values():
            self._skip(step, "the pipeline was canceled" if ended is None else
                       f"the pipeline was ended {ended.status.value} by another process")
        for step in self.steps.values():
            if step.status in ACTIVE:
                threading.Thread(target=self._cancel_one, args=(step.plan.job,), daemon=True,
                                 name=f"cancel-{step.plan.name}").start()
        self._save()

    def _cancel_one(self, job: str) -> None:
        try:
            self.ops.cancel(job)
        except JobError:  # it ended meanwhile
            pass
        except RunnerError as err:
            log.warning("canceling step job %s: %s", job, err.render())

    # ---- records and the log ------------------------------------------------------------------------
    def _save(self, *, outputs: bool = False) -> None:
        self.tracker.extra["steps"] = {n: s.state() for n, s in self.steps.items()}
        if outputs:
            self.tracker.set(outputs=self.outputs, registered_models=self.registered,
                             registered_data=self.registered_data)
        else:
            self.tracker.set()

    def _say(self, text: str) -> None:
        self._write(f"[pipeline] {text}\n".encode())

    def _write(self, data: bytes) -> None:
        if self._log is not None:
            self._log.write(data)
            self._log.flush()
        if self.echo is not None:
            self.echo(data)

    def _never_started(self, name: str) -> bool:
        """Step ``name`` failed because its command could not start (its image missing, the engine not
        reachable): its job's record says so (``runner.jobs.run.NOT_STARTED``)."""
        job = self.steps[name].plan.job
        return self.ws.job_exists(job) and bool(self.ws.get_job(job).extra.get(COMMAND_NOT_STARTED))

    def _finish(self) -> JobRecord:
        """End the pipeline from its steps, holding its lock (``runner job finalize`` of a step takes it to
        derive the pipeline again: one finalized after the steps are read here waits, then finds it ended)."""
        with job_lock(self.ws, self.ws.get_job(self.name)):
            seen = {n: (s.plan.job, s.status) for n, s in self.steps.items()}
            for name in finalized_meanwhile(self.ws, seen):
                step = self.steps[name]  # its job's record is Completed now: so is the step
                step.status, step.error = JobStatus.COMPLETED.value, None
                step.note = "finalized by `runner job finalize` while the pipeline ran"
                self._say(f"step {name}: Completed (its job {step.plan.job} was finalized by `runner job "
                          "finalize`)")
                step_completed(self.plan, name, self.ws.get_job(step.plan.job), self.outputs, self.registered,
                               self.registered_data, self.tracker.extra, reused=False)
            return self._end()

    def _end(self) -> JobRecord:
        end = pipeline_end({n: StepEnd(s.status, s.error, s.status == JobStatus.FAILED.value and
                                       self._never_started(n)) for n, s in self.steps.items()},
                           canceled=self.canceled)  # the one rule (a step finalized later: ``ending``)
        status, error = end.status, end.error
        if end.not_started:  # as a command job that could not start (`runner job` exits 4)
            self.tracker.extra[COMMAND_NOT_STARTED] = True
        reused = [n for n, s in self.steps.items() if s.reused_from]
        said = f"{status.value}" + (f" ({error})" if error else "") + (
            f"; reused: {', '.join(reused)}" if reused else "")
        if (ended := self.tracker.ended_elsewhere) is not None:  # that end stands, not this one
            said = f"{ended.status.value}, as another process recorded it; its steps here: {said}"
        self._say(said)
        self.tracker.extra["steps"] = {n: s.state() for n, s in self.steps.items()}
        return self.tracker.finish(status, error=error, outputs=self.outputs,
                                   registered_models=self.registered, registered_data=self.registered_data)


def _ended_elsewhere(record: JobRecord) -> str:
    """Why the pipeline stops when another process ended its record (or took it)."""
    what = f"ended {record.status.value}" if record.status.is_terminal else f"taken ({record.status.value})"
    return f"the pipeline's record was {what} by another process" + (
        f" ({record.error.splitlines()[0]})" if record.error else "")


def _runs_here(ops: JobOperations, spec: Any) -> bool:
    """Whether a step takes a local slot: not when ``JobOperations`` places it on a cluster compute
    (``choose_compute``, where the job operations have it)."""
    choose = getattr(ops, "choose_compute", None)
    if choose is None:
        return True
    try:
        return getattr(choose(spec), "compute", None) is None
    except RunnerError:
        return True
