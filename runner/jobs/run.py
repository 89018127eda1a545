"""Run one queued job to a terminal status: Preparing → Running → Finalizing → Completed/Failed/Canceled.

Used by the background worker (``python -m runner.jobs.worker``) and by ``job create --stream`` in the
foreground. Every mount, staging folder and container is released through one ``ExitStack`` on every
path; SIGTERM/SIGINT cancel (see ``runner.jobs.supervise``), as does a cancel recorded in the job's record
(``runner.jobs.cancel_request``), seen between the steps of the preparation and every second while the
command runs.

A cancel that arrives once the command has ended (while the job is Finalizing) stops nothing:
finalization is never interrupted (no output is lost), and the job ends with the status its command
earned (Completed, or Failed); the record says the cancel came too late (``extra["late_cancel"]``)
rather than calling a completed job Canceled.

Every status change is a compare-and-set (``runner.jobs.status.StatusTracker``): a job no longer Queued
(canceled while Queued) is never run, and an end another process recorded meanwhile is never written over:
the run stops as a cancel stops it (no command started once the job ended), and that end stands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from runner.backends import get_backend
from runner.backends.base import WORKSPACE_LABEL, Backend, BindMount, PreparedImage, RunHandle, RunSpec
from runner.backends.process import ProcessRun
from runner.errors import BackendError, RunnerError, TransferError
from runner.jobs.artifacts import collect_artifacts, prepare_mlflow
from runner.jobs.direct_creds import with_direct_credentials, with_stored_endpoints
from runner.jobs.materialize import Materializations, OutputSet, materializations, materialize_inputs
from runner.jobs.mlflow import MlflowRun
from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, process_start_time
from runner.jobs.register import Registered, RegistrationFailed, failed_at_registration, register_outputs
from runner.jobs.status import StatusTracker
from runner.jobs.stored_datastores import binding_datastore
from runner.jobs.supervise import CancelSignals, Echo, JobCanceled, Outcome, cancel_grace_s, supervise
from runner.jobs.watchdog import start_watchdog
from runner.modes import PathKind
from runner.plan.build import check_resolved
from runner.plan.env_secrets import with_secret_env
from runner.plan.stored import artifacts_binding, plan_from_dict
from runner.plan.types import RunPlan
from runner.uris import ARTIFACTS
from runner.workspace.assets import registered_locations
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri, utcnow
from runner.workspace.job_output_state import FAILED_AT, REGISTRATION
from runner.workspace.job_secrets import forget, take
from runner.workspace.jobdir import JobDir
from runner.workspace.protect import WriteGuard, registered_meanwhile
from runner.workspace.read_refusals import refuse_private_read
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.space import disk_full, no_space
from runner.workspace.transfers import is_no_space, no_space_error
from runner.workspace.upload_state import NOT_DURABLE_KEY

log = logging.getLogger(__name__)

NOT_STARTED = "not_started"  # extra key: the job's command never ran (the engine or image was not there)
LATE_CANCEL = "late_cancel"  # extra key: a cancel that arrived after the command had ended
LINKS_NOT_FOLLOWED = "links_not_followed"  # extra key: links the job left in its folders, and what was done
LATE_CANCEL_NOTE = ("a cancel arrived after the job's command had ended, while its outputs were being "
                    "finalized; finalization is never interrupted, so the job kept the status of its command")


def run_job(ws: Workspace, name: str, *, echo: Echo | None = None, upload_on_failure: bool = True,
            quiet: bool = False, node: str | None = None) -> JobRecord:
    """Run the queued job ``name``; return its final record. Errors end up in the record, not raised.
    Transfers longer than a second draw a progress bar on stderr when it is a terminal, unless ``quiet``.
    ``node``: the Ray node it runs on (``runner.jobs.node``), whose staged data stays there."""
    record = ws.get_job(name)
    if record.status is not JobStatus.QUEUED:  # canceled while Queued (or taken by another runner)
        log.info("job %s is %s, no longer Queued: not run", name, record.status.value)
        if record.status.is_terminal:  # never to run: its secret values go (a taker takes them itself)
            forget(ws, name)
        return record
    cancel = CancelSignals()
    tracker = StatusTracker(ws, record, cancel)
    with cancel.installed():
        try:
            return _run(ws, record, tracker, cancel, echo, upload_on_failure, quiet, node)
        except JobCanceled:
            return tracker.finish(JobStatus.CANCELED, error="canceled before the job's command started",
                                  outputs_partial=_outputs_partial(tracker, JobStatus.CANCELED))
        except RunnerError as err:
            log.debug("job %s failed", name, exc_info=True)
            if isinstance(err, BackendError) and "Running" not in tracker.extra.get("status_times", {}):
                tracker.extra[NOT_STARTED] = True  # no engine, no image, no container: `job create` exits 4
            return tracker.finish(JobStatus.FAILED, error=err.render(),
                                  outputs_partial=_outputs_partial(tracker, JobStatus.FAILED))
        except OSError as exc:
            if not is_no_space(exc):
                tracker.finish(JobStatus.FAILED, error=f"internal error: {exc.__class__.__name__}: {exc}",
                               outputs_partial=_outputs_partial(tracker, JobStatus.FAILED))
                raise
            log.debug("job %s failed", name, exc_info=True)
            error = no_space_error(exc, f"job {name}", ws.job_dir(name).root)
            return tracker.finish(JobStatus.FAILED, error=error.render(),
                                  outputs_partial=_outputs_partial(tracker, JobStatus.FAILED))
        except Exception as exc:
            tracker.finish(JobStatus.FAILED, error=f"internal error: {exc.__class__.__name__}: {exc}",
                           outputs_partial=_outputs_partial(tracker, JobStatus.FAILED))
            raise
        finally:
            with contextlib.suppress(OSError):  # a failed job leaves no empty scratch folders either
                _remove_empty_scratch(ws.job_dir(name))
            if tracker.watchdog is not None:
                tracker.watchdog.release()


def _run(ws: Workspace, record: JobRecord, tracker: StatusTracker, cancel: CancelSignals,
         echo: Echo | None, upload_on_failure: bool, quiet: bool, node: str | None = None) -> JobRecord:
    plan = plan_from_dict(record.extra["plan"])
    job_dir = ws.job_dir(record.name)
    tracker.extra["runner_start"] = process_start_time(os.getpid())
    tracker.extra[NO_UPLOAD_ON_FAILURE] = not upload_on_failure  # False too: what a dead runner left says
    tracker.set(JobStatus.PREPARING, runner_pid=os.getpid(), job_dir=str(job_dir))
    plan = with_secret_env(plan, take(ws, record.name))  # the job taken: its secret values, read and removed
    backend = get_backend(record.backend or "docker", cache_dir=_user_cache_dir(), quiet=quiet,
                          allow_pull=os.environ.get("RUNNER_ALLOW_PULL", "") in ("1", "true", "yes"))
    known = registered_locations(ws)  # checked as it starts: registered_meanwhile checks the others
    resolved_in, resolved_out = resolve_stored_plan(ws, plan)
    # planned by a runner that recorded no store endpoints: found now, so its relay is the network it gets
    plan = with_stored_endpoints(record.extra["plan"], plan, resolved_in, resolved_out, DatastoreStore(ws))
    tracker.lap("resolve")
    image = backend.prepare_image(plan)
    tracker.lap("image")
    tracker.note(image=image.name, image_id=image.id or None)
    with ExitStack() as stack:
        mats = materializations(stack, record.name, pin=backend.capabilities.in_container,
                                holder=job_dir.std_log)
        materialize_inputs(stack, plan.inputs, resolved_in, job_dir, mats, cache_root=ws.cache_dir,
                           quiet=quiet, read_only_binds=backend.capabilities.read_only_binds)
        outputs = stack.enter_context(OutputSet(stage_artifacts=not upload_on_failure, quiet=quiet,
                                                job=record.name, node=node))
        tracker.outputs = outputs
        outputs.enter(plan.outputs + (artifacts_binding(record.name, job_dir),), resolved_out, job_dir, mats)
        run = prepare_mlflow(record, job_dir, backend, mats)
        tracker.lap("materialize")
        outcome = _execute(ws, plan, job_dir, backend, image, mats, tracker, cancel, echo, stack)
        tracker.set(JobStatus.FINALIZING, exit_code=outcome.exit_code)
        status, error, full = _judge(outcome, plan, run, job_dir, tracker)
        upload = status is JobStatus.COMPLETED or upload_on_failure
        # a version registered there since: not written there (a link planted since, leading to an older
        # version, is not followed as an output is finalized: ``mounts``, whose error says so)
        refused = registered_meanwhile(ws, plan.outputs, resolved_out, known)
        errors = outputs.close(upload=upload, hold_staged=bool(full), refused=refused)
        outputs.record_warnings(tracker.extra)  # what an output could not keep, named in the record
    tracker.lap("finalize")
    _remove_empty_scratch(job_dir)
    status, error = _after_finalize(tracker, outputs, errors, status, error, upload=upload and not full,
                                    held_back_why=f"the disk was full when it ended ({full}), so a file it "
                                                  "wrote may be incomplete" if full else None)
    registered = Registered()
    if status is JobStatus.COMPLETED and tracker.ended_elsewhere is None:
        try:
            registered = register_outputs(ws, record, plan)
        except RunnerError as err:  # its outputs are whole (uploaded): failed, not partial
            status, error = JobStatus.FAILED, err.render()
            failed_at_registration(tracker.extra)
            if isinstance(err, RegistrationFailed):  # those registered before it stay, in the record
                registered = err.registered
    registered.record_extra(tracker.extra)
    if cancel.requested.is_set() and outcome.reason != "canceled":
        tracker.extra[LATE_CANCEL] = LATE_CANCEL_NOTE
    return tracker.finish(status, error=error, outputs_partial=_outputs_partial(tracker, status),
                          registered_models=registered.models, registered_data=registered.data)


def _judge(outcome: Outcome, plan: RunPlan, run: MlflowRun, job_dir: JobDir, tracker: StatusTracker
           ) -> tuple[JobStatus, str | None, str | None]:
    """The status the command earned and its error, once its artifacts are collected (the links the
    job left in its folders, not followed, in ``extra["links_not_followed"]``); and, when it failed on
    a full disk, "no space left on <mount>": its writes may have failed halfway, so its outputs are
    held back rather than published."""
    status, error = _status_of(outcome, plan)
    full = no_space(job_dir.root) if status is JobStatus.FAILED and disk_full(job_dir.root) else None
    if full:
        error = f"{error}\n{full} (the job's folder) when the command ended: it may have failed for that"
    try:
        noted = collect_artifacts(run, job_dir, status)
        if noted:
            tracker.extra[LINKS_NOT_FOLLOWED] = noted
    except OSError as exc:  # a full disk must not keep the outputs from being finalized
        if not is_no_space(exc):
            raise
        status = JobStatus.FAILED
        full_at = no_space_error(exc, "collecting the artifacts", run.artifacts)  # a write names no file
        error = "\n".join(filter(None, [error, full_at.render()]))
    return status, error, full


def _outputs_partial(tracker: StatusTracker, status: JobStatus) -> bool:
    """``outputs_partial``: the job did not complete, yet some of its named outputs hold data of
    this run, at their targets or staged (``extra["outputs_with_data"]`` names them). Not the
    artifacts: the job's log is always there. False when its outputs were never entered. An error that
    ended the run left its outputs staged: the record names the ones that hold files, and where."""
    outputs = tracker.outputs
    if outputs is not None and outputs.closed and "held_back_outputs" not in tracker.extra and \
            (kept := outputs.kept_staged()):
        tracker.extra["held_back_outputs"] = {k: str(v) for k, v in sorted(kept.items())}
        tracker.extra["held_back_why"] = "an error ended its run before they were uploaded"
    if status is JobStatus.COMPLETED or outputs is None or not outputs.closed or \
            tracker.extra.get(FAILED_AT) == REGISTRATION:  # failed once its outputs were whole
        return False
    with_data = outputs.outputs_with_data()
    if with_data:
        tracker.extra["outputs_with_data"] = with_data
    return bool(with_data)


def _after_finalize(tracker: StatusTracker, outputs: OutputSet, errors: dict[str, RunnerError],
                    status: JobStatus, error: str | None, *, upload: bool,
                    held_back_why: str | None = None) -> tuple[JobStatus, str | None]:
    """The status and error once the outputs are finalized: an output that could not be made durable
    fails a job (named in its error, and as data: ``not_durable``); outputs held back
    (``--no-upload-on-failure``, or ``held_back_why``) are named with where they are."""
    notes = [error] if error else []
    if errors:
        status = JobStatus.FAILED if status is JobStatus.COMPLETED else status
        notes.append("outputs could not be made durable:\n" + "\n".join(e.render() for e in errors.values()))
        tracker.extra[NOT_DURABLE_KEY] = not_durable(errors)  # written with the status, by ``finish``
    if not upload:
        tracker.extra["held_back_outputs"] = {k: str(v) for k, v in sorted(outputs.held_back.items())}
        if held_back_why:
            tracker.extra["held_back_why"] = held_back_why
        notes.append(held_back_note(outputs, held_back_why or "--no-upload-on-failure"))
    return status, "\n".join(notes) or None


def not_durable(errors: dict[str, RunnerError]) -> dict[str, dict[str, int | str | None]]:
    """``extra["outputs_not_durable"]`` (read by ``runner.workspace.upload_state``): each output that could
    not be made durable -> how many of its files were not ("failed"), of how many ("total": when its
    transfer counted them), and where its staged data is kept ("staged"); None for what its error does not
    carry (not a transfer's: a mount that could not be released, a link refused)."""
    def entry(err: RunnerError) -> dict[str, int | str | None]:
        if not isinstance(err, TransferError):
            return {"failed": None, "total": None, "staged": None}
        return {"failed": len(err.failed) or None, "total": err.total,
                "staged": str(err.staged) if err.staged is not None else None}

    return {name: entry(err) for name, err in sorted(errors.items())}


def held_back_note(outputs: OutputSet, why: str = "--no-upload-on-failure") -> str:
    """What was kept out of the datastores, why, and where it is (for the record)."""
    kept = ", ".join(f"{name} in {path}" for name, path in sorted(outputs.held_back.items()))
    note = f"outputs not uploaded ({why}); kept staged: {kept or 'none'}"
    if outputs.written_in_place:
        note += (f"; written to their targets while the job ran, so not held back: "
                 f"{', '.join(sorted(outputs.written_in_place))}")
    if outputs.moved_in:
        note += ("; moved into place (the job's logs and artifacts, not a named output): "
                 f"{', '.join(outputs.moved_in)}")
    return note


def _user_cache_dir() -> Path:
    """Per-user cache (image id -> shell is a property of the engine's images, not of a workspace)."""
    return Path(os.environ.get("RUNNER_CACHE_DIR") or Path.home() / ".cache" / "runner")


def _remove_empty_scratch(job_dir: JobDir) -> None:
    """Drop the inputs/ and outputs/ scratch folders the strategies left empty (staged data stays)."""
    job_dir.remove_empty_scratch()


def _execute(ws: Workspace, plan: RunPlan, job_dir: JobDir, backend: Backend, image: PreparedImage,
             mats: Materializations, tracker: StatusTracker, cancel: CancelSignals,
             echo: Echo | None, stack: ExitStack) -> Outcome:
    job_dir.make_code_dirs()
    plan = replace(plan, code_dir=str(job_dir.code))
    mounts = [*mats.mounts]
    mounts.append(BindMount(str(job_dir.code), plan.working_dir, read_only=False))
    spec = RunSpec(plan=plan, mounts=tuple(mounts), env=mats.env,
                   labels={WORKSPACE_LABEL: str(ws.root)}, host_paths=mats.host_paths,
                   hosts_file=str(job_dir.etc_hosts))
    cancel.raise_now = False  # from here on a cancel stops the run and finalizes the outputs
    tracker.poll()  # ended meanwhile, or a cancel recorded in the record: no command starts
    if cancel.requested.is_set():
        raise JobCanceled()
    handle = backend.start(spec, image)
    tracker.lap("container_create_start")
    tracker.extra["network"] = handle.network
    try:
        if backend.capabilities.host_process_group:  # recovery kills it only if it is still this process
            tracker.extra["process_start"] = process_start_time(int(handle.ident))
            if isinstance(handle, ProcessRun):  # what finds its processes that left its group
                tracker.extra["process_tree"] = handle.process_tree
        # a container outlives a runner that dies; a host process would run on with nobody reading it
        deadline = time.time() + plan.timeout_s if plan.timeout_s else None
        tracker.watchdog = start_watchdog(ws.root, plan.job_name, handle.ident, deadline, cancel_grace_s(),
                                          job_dir.runner_log, std_log=job_dir.std_log)
        started_at = utcnow()
        outcome = supervise(handle, timeout_s=plan.timeout_s, cancel=cancel, check=tracker.poll,
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
        _stop_leftovers(handle, tracker)
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


def _stop_leftovers(handle: RunHandle, tracker: StatusTracker) -> None:
    """Kill what a process job's command started outside its process group (``setsid``, a double fork)
    and left running: nothing it started writes to the outputs while they are finalized."""
    if not isinstance(handle, ProcessRun):
        return
    watchdog = tracker.watchdog.process if tracker.watchdog is not None else None
    if stopped := handle.stop_leftovers(keep=[watchdog.pid] if watchdog is not None else []):
        note = (f"stopped {stopped} process(es) the command left running after it exited (started in "
                f"a session of their own), before its outputs were finalized")
        tracker.extra["warnings"] = [*(tracker.extra.get("warnings") or []), note]


def _status_of(outcome: Outcome, plan: RunPlan) -> tuple[JobStatus, str | None]:
    if outcome.reason == "canceled":
        return JobStatus.CANCELED, "canceled by the user; the job was stopped"
    if outcome.reason == "timeout":
        return JobStatus.FAILED, (f"the job timed out after {plan.timeout_s:g} s (limits.timeout) and was "
                                  f"stopped")
    if outcome.exit_code != 0:
        what = outcome.detail or f"the command exited with code {outcome.exit_code}"
        return JobStatus.FAILED, (f"{what}; its output is in user_logs/std_log.txt "
                                  f"(`runner job stream --name {plan.job_name}`)")
    return JobStatus.COMPLETED, None


def resolve_stored_plan(ws: Workspace, plan: RunPlan
                        ) -> tuple[dict[str, ResolvedPath], dict[str, ResolvedPath]]:
    """Every binding's canonical URI resolved again (filesystems are not stored in the record), now
    reading the objects: a remote input that is missing, unreachable or refused fails the job here,
    naming the input and its URL, as does one that is not what the plan expected (a folder for a
    ``uri_file``). Inputs and outputs apart: an input and an output may share a name, as in Azure."""
    resolver = Resolver(ws)
    resolved: dict[str, ResolvedPath] = {}
    for b in plan.inputs:
        with binding_datastore(b):  # its datastore deleted since the job was queued: the error names it
            found = resolver.resolve(b.uri, field=f"inputs.{b.name}")
        check_resolved(b, found)
        refuse_private_read(ws, b.name, found)  # again: a link may have come since the job was queued
        # the plan holds the model's storage path; its version's key finds it in the download cache
        if b.cache_key:
            found = dataclasses.replace(found, cache_key=b.cache_key)
        resolved[b.name] = found
    outputs: dict[str, ResolvedPath] = {}
    guard = WriteGuard(ws, resolver.datastores)  # again: a link or a version may have come since it queued
    for b in plan.outputs:
        with binding_datastore(b):
            outputs[b.name] = resolver.resolve_output(b.uri, job_name=plan.job_name, output_name=b.name,
                                                      field=f"outputs.{b.name}")
        check_resolved(b, outputs[b.name])
        guard.refuse(outputs[b.name], name=b.name, job_name=plan.job_name, mode=b.mode,
                     is_file=b.kind is PathKind.FILE)
    outputs[ARTIFACTS] = resolver.resolve_output(default_artifacts_uri(plan.job_name),
                                                  job_name=plan.job_name, output_name=ARTIFACTS)
    # direct bindings: credentials for their container only, read-only unless the job writes there
    return with_direct_credentials(plan.inputs, plan.outputs, resolved, outputs, resolver.datastores,
                                   timeout_s=plan.timeout_s)
