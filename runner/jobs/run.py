"""Run one queued job to a terminal status: Preparing → Running → Finalizing → Completed/Failed/Canceled.

Used by the background worker (``python -m runner.jobs.worker``) and by ``job create --stream`` in the
foreground. Every mount, staging folder and container is released through one ``ExitStack`` on every
path; SIGTERM/SIGINT cancel (see ``runner.jobs.supervise``).

A cancel that arrives once the command has ended (while the job is Finalizing) stops nothing:
finalization is never interrupted (no output is lost), and the job ends with the status its command
earned (Completed, or Failed); the record says the cancel came too late (``extra["late_cancel"]``)
rather than calling a completed job Canceled.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.backends import get_backend
from runner.backends.base import WORKSPACE_LABEL, Backend, BindMount, PreparedImage, RunHandle, RunSpec
from runner.errors import RunnerError
from runner.jobs.materialize import Materializations, OutputSet, materialize_inputs
from runner.jobs.mlflow import MlflowRun, collect_logged_models, finish_run, prepare_run
from runner.jobs.recovery import process_start_time
from runner.jobs.register import register_output_models
from runner.jobs.supervise import CancelSignals, Echo, JobCanceled, Outcome, supervise
from runner.modes import Mode
from runner.plan.stored import artifacts_binding, plan_from_dict
from runner.plan.types import CONTAINER_MLRUNS, RunPlan
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri, utcnow
from runner.workspace.jobdir import JobDir
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath

log = logging.getLogger(__name__)

LATE_CANCEL = "late_cancel"  # extra key: a cancel that arrived after the command had ended
LATE_CANCEL_NOTE = ("a cancel arrived after the job's command had ended, while its outputs were being "
                    "finalized; finalization is never interrupted, so the job kept the status of its command")


class StatusTracker:
    """Writes status changes (with the time each was entered) to the workspace record."""

    def __init__(self, ws: Workspace, record: JobRecord) -> None:
        self.ws = ws
        self.name = record.name
        self.extra: dict[str, Any] = dict(record.extra)
        self._lap_start = time.perf_counter()
        self._pending: dict[str, Any] = {}

    def lap(self, step: str) -> None:
        """Remember how long ``step`` took (since the previous lap); saved with the next status write."""
        now = time.perf_counter()
        self.timing(step, now - self._lap_start)
        self._lap_start = now

    def timing(self, step: str, seconds: float) -> None:
        """Remember that ``step`` took ``seconds``; saved with the next status write."""
        self.extra["timings_s"] = {**self.extra.get("timings_s", {}), step: round(seconds, 4)}

    def note(self, **fields: Any) -> None:
        """Fields written with the next status change (one transaction fewer on the hot path)."""
        self._pending.update(fields)

    def set(self, status: JobStatus | None = None, **fields: Any) -> JobRecord:
        fields = {**self._pending, **fields}
        self._pending = {}
        if status is not None:
            times = dict(self.extra.get("status_times", {}))
            times[status.value] = utcnow().isoformat()
            self.extra["status_times"] = times
            fields["status"] = status
        return self.ws.update_job(self.name, extra=self.extra, **fields)

    def finish(self, status: JobStatus, **fields: Any) -> JobRecord:
        return self.set(status, ended_at=utcnow(), **fields)


def run_job(ws: Workspace, name: str, *, echo: Echo | None = None, upload_on_failure: bool = True,
            quiet: bool = False) -> JobRecord:
    """Run the queued job ``name``; return its final record. Errors end up in the record, not raised.
    Transfers longer than a second draw a progress bar on stderr when it is a terminal, unless ``quiet``."""
    record = ws.get_job(name)
    tracker = StatusTracker(ws, record)
    cancel = CancelSignals()
    with cancel.installed():
        try:
            return _run(ws, record, tracker, cancel, echo, upload_on_failure, quiet)
        except JobCanceled:
            return tracker.finish(JobStatus.CANCELED, error="canceled before the job's command started")
        except RunnerError as err:
            log.debug("job %s failed", name, exc_info=True)
            return tracker.finish(JobStatus.FAILED, error=err.render())
        except Exception as exc:
            tracker.finish(JobStatus.FAILED, error=f"internal error: {exc.__class__.__name__}: {exc}")
            raise


def _run(ws: Workspace, record: JobRecord, tracker: StatusTracker, cancel: CancelSignals,
         echo: Echo | None, upload_on_failure: bool, quiet: bool) -> JobRecord:
    plan = plan_from_dict(record.extra["plan"])
    job_dir = ws.job_dir(record.name)
    tracker.extra["runner_start"] = process_start_time(os.getpid())
    tracker.set(JobStatus.PREPARING, runner_pid=os.getpid(), job_dir=str(job_dir))
    backend = get_backend(record.backend or "docker", cache_dir=_user_cache_dir(),
                          allow_pull=os.environ.get("RUNNER_ALLOW_PULL", "") in ("1", "true", "yes"))
    resolved = resolve_stored_plan(ws, plan)
    tracker.lap("resolve")
    image = backend.prepare_image(plan)
    tracker.lap("image")
    tracker.note(image=image.name, image_id=image.id or None)
    with ExitStack() as stack:
        mats = Materializations()
        materialize_inputs(stack, plan.inputs, resolved, job_dir, mats, cache_root=ws.cache_dir, quiet=quiet,
                           read_only_binds=backend.capabilities.read_only_binds)
        outputs = stack.enter_context(OutputSet(stage_artifacts=not upload_on_failure, quiet=quiet))
        outputs.enter(plan.outputs + (artifacts_binding(record.name, job_dir),), resolved, job_dir, mats)
        run = _prepare_mlflow(record, job_dir, backend, mats)
        tracker.lap("materialize")
        outcome = _execute(ws, plan, job_dir, backend, image, mats, tracker, cancel, echo, stack)
        tracker.set(JobStatus.FINALIZING, exit_code=outcome.exit_code)
        status, error = _status_of(outcome, plan)
        _collect_artifacts(run, job_dir, status)
        upload = status is JobStatus.COMPLETED or upload_on_failure
        errors = outputs.close(upload=upload)
    tracker.lap("finalize")
    _remove_empty_scratch(job_dir)
    status, error = _after_finalize(tracker, outputs, errors, status, error, upload=upload)
    registered = register_output_models(ws, record, plan) if status is JobStatus.COMPLETED else []
    if cancel.requested.is_set() and outcome.reason != "canceled":
        tracker.extra[LATE_CANCEL] = LATE_CANCEL_NOTE
    return tracker.finish(status, error=error, outputs_partial=status is not JobStatus.COMPLETED and upload,
                          registered_models=registered)


def _after_finalize(tracker: StatusTracker, outputs: OutputSet, errors: dict[str, RunnerError],
                    status: JobStatus, error: str | None, *, upload: bool) -> tuple[JobStatus, str | None]:
    """The status and error once the outputs are finalized: an output that could not be made durable
    fails a job; outputs held back by ``--no-upload-on-failure`` are named with where they are."""
    notes = [error] if error else []
    if errors:
        status = JobStatus.FAILED if status is JobStatus.COMPLETED else status
        notes.append("outputs could not be made durable:\n" + "\n".join(e.render() for e in errors.values()))
    if not upload:
        tracker.extra["held_back_outputs"] = {k: str(v) for k, v in sorted(outputs.held_back.items())}
        notes.append(held_back_note(outputs))
    return status, "\n".join(notes) or None


def held_back_note(outputs: OutputSet) -> str:
    """What ``--no-upload-on-failure`` kept out of the datastores, and where it is (for the record)."""
    kept = ", ".join(f"{name} in {path}" for name, path in sorted(outputs.held_back.items()))
    note = f"outputs not uploaded (--no-upload-on-failure); kept staged: {kept or 'none'}"
    if outputs.written_in_place:
        note += (f"; written to their targets while the job ran, so not held back: "
                 f"{', '.join(sorted(outputs.written_in_place))}")
    return note


def _user_cache_dir() -> Path:
    """Per-user cache (image id -> shell is a property of the engine's images, not of a workspace)."""
    return Path(os.environ.get("RUNNER_CACHE_DIR") or Path.home() / ".cache" / "runner")


def _remove_empty_scratch(job_dir: JobDir) -> None:
    """Drop the inputs/ and outputs/ scratch folders the strategies left empty (staged data stays)."""
    for group in (job_dir.inputs, job_dir.outputs):
        if not group.is_dir():
            continue
        for folder in sorted(group.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
        if not any(group.iterdir()):
            group.rmdir()


def _prepare_mlflow(record: JobRecord, job_dir: JobDir, backend: Backend, mats: Materializations
                    ) -> MlflowRun:
    in_container = backend.capabilities.in_container
    artifacts = Path(mats.host_paths[ARTIFACTS])
    run = prepare_run(job_dir, record.name, record.experiment_name, in_container=in_container,
                      artifacts=artifacts)
    mats.env.update(run.env(in_container=in_container))
    mats.mounts.append(BindMount(str(run.mlruns), CONTAINER_MLRUNS, read_only=False))
    return run


def _execute(ws: Workspace, plan: RunPlan, job_dir: JobDir, backend: Backend, image: PreparedImage,
             mats: Materializations, tracker: StatusTracker, cancel: CancelSignals,
             echo: Echo | None, stack: ExitStack) -> Outcome:
    job_dir.make_code_dirs()
    plan = replace(plan, code_dir=str(job_dir.code))
    mounts = [*mats.mounts]
    mounts.append(BindMount(str(job_dir.code), plan.working_dir, read_only=False))
    spec = RunSpec(plan=plan, mounts=tuple(mounts), env=mats.env,
                   labels={WORKSPACE_LABEL: str(ws.root)}, host_paths=mats.host_paths)
    cancel.raise_now = False  # from here on a cancel stops the run and finalizes the outputs
    if cancel.requested.is_set():
        raise JobCanceled()
    handle = backend.start(spec, image)
    tracker.lap("container_create_start")
    tracker.extra["network"] = handle.network
    try:
        if backend.capabilities.host_process_group:  # recovery kills it only if it is still this process
            tracker.extra["process_start"] = process_start_time(int(handle.ident))
        started_at = utcnow()
        outcome = supervise(handle, timeout_s=plan.timeout_s, cancel=cancel,
                            log_path=job_dir.std_log, echo=echo,
                            started=lambda: tracker.set(JobStatus.RUNNING, container_id=handle.ident,
                                                        started_at=started_at))
        tracker.lap("container_run")
        return outcome
    finally:
        _release(handle, backend, stack, tracker)


def _release(handle: RunHandle, backend: Backend, stack: ExitStack, tracker: StatusTracker) -> None:
    """Remove the ended container while the outputs are finalized (they need nothing from it, and its
    processes ended with its init), joined when the job's ``ExitStack`` closes, before its final
    status: a job never ends with its container still there. A process job's leftover process group
    is killed before its outputs are finalized, so nothing writes to them meanwhile."""
    if backend.capabilities.host_process_group:
        handle.remove()
        tracker.lap("container_remove")
        return
    took: list[float] = []
    failed: list[BaseException] = []

    def remove() -> None:
        begun = time.perf_counter()
        try:
            handle.remove()
        except BaseException as exc:  # noqa: BLE001 - raised in the job's thread, when joined
            failed.append(exc)
        took.append(time.perf_counter() - begun)

    removal = threading.Thread(target=remove, name="remove-container")
    removal.start()

    def join() -> None:
        removal.join()
        tracker.timing("container_remove (during finalize)", took[0])
        if failed:
            raise failed[0]

    stack.callback(join)


def _status_of(outcome: Outcome, plan: RunPlan) -> tuple[JobStatus, str | None]:
    if outcome.reason == "canceled":
        return JobStatus.CANCELED, "canceled by the user; the job was stopped"
    if outcome.reason == "timeout":
        return JobStatus.FAILED, (f"the job timed out after {plan.timeout_s:g} s (limits.timeout) and was "
                                  f"stopped")
    if outcome.exit_code != 0:
        return JobStatus.FAILED, (f"the command exited with code {outcome.exit_code}; its output is in "
                                  f"user_logs/std_log.txt (`runner job stream --name {plan.job_name}`)")
    return JobStatus.COMPLETED, None


def _collect_artifacts(run: MlflowRun, job_dir: JobDir, status: JobStatus) -> None:
    """./outputs, ./logs, user_logs/ and MLflow logged models into the artifacts folder."""
    finish_run(run, status={JobStatus.COMPLETED: "FINISHED", JobStatus.CANCELED: "KILLED"}.get(status,
                                                                                              "FAILED"))
    collect_logged_models(run)
    for source, name in ((job_dir.code_outputs, "outputs"), (job_dir.code_logs, "logs"),
                         (job_dir.user_logs, "user_logs")):
        if source.is_dir() and any(source.iterdir()):
            shutil.copytree(source, run.artifacts / name, dirs_exist_ok=True, symlinks=True)


def resolve_stored_plan(ws: Workspace, plan: RunPlan) -> dict[str, ResolvedPath]:
    """Every binding's canonical URI resolved again (filesystems are not stored in the record)."""
    resolver = Resolver(ws)
    resolved = {}
    for b in plan.inputs:
        found = resolver.resolve(b.uri, field=f"inputs.{b.name}")
        # the plan holds the model's storage path; its version's key finds it in the download cache
        if b.cache_key:
            found = dataclasses.replace(found, cache_key=b.cache_key)
        if b.mode is Mode.DIRECT and found.datastore is not None:  # it can read its source, not write
            found = dataclasses.replace(found, env=resolver.datastores.get(found.datastore).read_only_env())
        resolved[b.name] = found
    for b in plan.outputs:
        resolved[b.name] = resolver.resolve_output(b.uri, job_name=plan.job_name, output_name=b.name,
                                                   field=f"outputs.{b.name}")
    resolved[ARTIFACTS] = resolver.resolve_output(default_artifacts_uri(plan.job_name),
                                                  job_name=plan.job_name, output_name=ARTIFACTS)
    return resolved
