"""``runner job finalize``: upload, after the job ended, an output its end could not make durable.

An ended job's output that did not reach its location keeps its data in its own staging folder
(``runner.workspace.upload_state``: held back, ``extra["held_back_outputs"]``; or its upload failed,
``extra["outputs_not_durable"]``). ``finalize_outputs`` finalizes each such output again, holding the
job's lock (the one recovery ends a job with: two finalizes, or a finalize and a recovery, never race):

* from the output's own staging folder only (``<job>/outputs/<o>``, ``.../staged`` for ``rw_mount``; no
  link on the way: ``own_staged``), never a path the record names elsewhere;
* to the output's recorded destination, resolved and guarded as the run resolves it (a version
  registered there since is refused, ``WriteGuard``), with the output strategy the job's own finalize
  uses (``mounts.upload.UploadStrategy``: the same upload or move into place, the same verification);
* each output independently: one that fails again keeps its data and says why in the same error, the
  others are finalized all the same.

The job's status (``status_once_durable``): a job that failed only because its outputs could not be made
durable (its command exited 0: its error is that alone) becomes Completed once every output is, its
named outputs registered as its end would have registered them (``runner.jobs.register``); any other
job keeps its status (a command that failed stays Failed, a Canceled job Canceled: its outputs are
uploaded, nothing is registered, as its end registers nothing). The record keeps every finalize
(``extra["finalized"]``: when, which outputs, by whom, the status before and after, the error before).
A Ray job's staged data is on its node: finalized here only when it is in this workspace's staging
folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import JobError, RunnerError, TransferError
from runner.jobs.recovery import follows_ray, job_lock
from runner.jobs.register import Registered, RegistrationFailed, failed_at_registration, register_outputs
from runner.modes import Mode, PathKind
from runner.plan.build import check_resolved
from runner.plan.stored import artifacts_binding, plan_from_dict
from runner.plan.types import Binding, RunPlan
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.protect import WriteGuard
from runner.workspace.resolve import Resolver
from runner.workspace.transfers import translated
from runner.workspace.trees import holds_files, is_folder
from runner.workspace.upload_state import NOT_DURABLE, NOT_DURABLE_KEY, incomplete_outputs, own_staged

log = logging.getLogger(__name__)

FINALIZED = "finalized"  # extra key: [{at, by, outputs, status_before, status, error_before?}, ...]
BY = "runner job finalize"
HELD_BACK = "held_back_outputs"


@dataclass
class Finalized:
    """What a finalize did: the outputs made durable, those that failed again (name -> error), the record."""

    record: JobRecord
    done: list[str] = field(default_factory=list)
    failed: dict[str, RunnerError] = field(default_factory=dict)
    registered: Registered = field(default_factory=Registered)


# -- the pure decisions ---------------------------------------------------------------------------------
def refuse_reason(record: JobRecord) -> str | None:
    """Why ``record``'s outputs cannot be finalized at all (not ended, a pipeline), or None."""
    if not record.status.is_terminal:
        return (f"job '{record.name}' is {record.status.value}: its outputs are finalized when it ends, by "
                "its own run")
    if record.spec.get("type") == "pipeline":
        return (f"job '{record.name}' is a pipeline: its outputs are its steps' (each a job of its own, "
                "finalized by name)")
    return None


def choose_outputs(record: JobRecord, pending: list[str], wanted: list[str] | None) -> list[str]:
    """The outputs to finalize: ``wanted`` (each one that is pending), else every pending one; one clear
    ``JobError`` when there is nothing to finalize or a wanted one is not pending."""
    if not pending:
        why = "it completed: its outputs were made durable when it ended" \
            if record.status is JobStatus.COMPLETED else "every output it has reached its location, or was " \
            "written in place while it ran (none is held back, none kept staged after a failed upload)"
        raise JobError(f"job '{record.name}' has no output to finalize: {why}",
                       hint=f"`runner job show --name {record.name}` shows its outputs")
    if not wanted:
        return pending
    unknown = [name for name in dict.fromkeys(wanted) if name not in pending]
    if unknown:
        raise JobError(f"job '{record.name}' has nothing to finalize for output(s) {', '.join(unknown)}: the "
                       f"output(s) it can finalize: {', '.join(pending)}", field="--output-name",
                       hint="name one of those, or give no --output-name to finalize them all")
    return list(dict.fromkeys(wanted))


def status_once_durable(record: JobRecord, remaining: set[str]) -> JobStatus:
    """The job's status once its outputs other than ``remaining`` are durable: Completed for a Failed job
    whose only failure was making its outputs durable (its command exited 0 and its error is that alone)
    when none remains; else its status as it is."""
    only_durability = record.status is JobStatus.FAILED and record.exit_code == 0 and \
        (record.error or "").startswith(NOT_DURABLE) and not record.extra.get(HELD_BACK)
    return JobStatus.COMPLETED if only_durability and not remaining else record.status


def finalized_line(note: dict[str, Any]) -> str:
    """The line a finalize appends to the error of a job that keeps its status."""
    return f"output(s) {', '.join(note['outputs'])} uploaded later by `{BY}` at {note['at']}"


def mount_cut(record: JobRecord, url: str) -> bool:
    """Whether ``record``'s error says the ``rw_mount`` of ``url`` ended under the job (``mounts.rw_mount``:
    its files still open then are kept staged, never uploaded: they may be incomplete)."""
    return f"the mount of {url} " in (record.error or "")


def without(extra: dict[str, Any], key: str, names: set[str]) -> dict[str, Any]:
    """``extra[key]`` (a dict by output) without ``names``; {} when it has none (a non-dict: {})."""
    value = extra.get(key)
    return {k: v for k, v in value.items() if k not in names} if isinstance(value, dict) else {}


# -- finalizing -------------------------------------------------------------------------------------------
def finalize_outputs(ws: Workspace, name: str, outputs: list[str] | None = None, *,
                     quiet: bool = False) -> Finalized:
    """Finalize ``name``'s held-back or not-durable outputs (those in ``outputs``, or all), holding the
    job's lock; the record says what was done. Refusals raise ``JobError`` before anything is done; an
    output that fails again is in ``Finalized.failed`` (its data kept), the others are finalized."""
    record = ws.get_job(name)
    with job_lock(ws, record):
        record = ws.get_job(name)  # as it is now: another finalize may have done it meanwhile
        if (why := refuse_reason(record)) is not None:
            raise JobError(f"cannot finalize: {why}",
                           hint=f"wait for it to end (`runner job stream --name {name}`)"
                           if not record.status.is_terminal else None)
        found = incomplete_outputs(ws, record, check=False)
        pending = sorted(found)
        chosen = choose_outputs(record, pending, outputs)
        if not isinstance(record.extra.get("plan"), dict):
            raise JobError(f"job '{name}' has no stored plan: where its outputs go is not known",
                           hint="run the job again")
        plan = plan_from_dict(record.extra["plan"])
        result = Finalized(record)
        for output in chosen:
            try:
                _refuse_on_node(record, output, found[output].node, found[output].removed_on)
                _finalize_one(ws, record, plan, output, quiet=quiet)
                result.done.append(output)
            except RunnerError as err:
                log.info("finalizing output %s of job %s failed: %s", output, name, err.message)
                result.failed[output] = err
        result.record = _record(ws, record, plan, pending, result)
    ws.job_dir(name).remove_empty_scratch()  # the staging folders uploads emptied (never raises)
    return result


def failure(result: Finalized) -> RunnerError | None:
    """The one error of a finalize some output of which failed again (its own, when one did), or None."""
    if not result.failed:
        return None
    if len(result.failed) == 1:
        return next(iter(result.failed.values()))
    name = result.record.name
    return JobError(f"job '{name}': output(s) {', '.join(sorted(result.failed))} could not be made durable "
                    "again; their staged data is kept:\n" +
                    "\n".join(err.render() for _, err in sorted(result.failed.items())),
                    hint=f"once the storage answers, `runner job finalize --name {name}` tries them again")


def _finalize_one(ws: Workspace, record: JobRecord, plan: RunPlan, output: str, *, quiet: bool) -> None:
    """Make one output durable from its own staging folder, as the job's end would have."""
    binding = _binding(ws, record, plan, output)
    workdir = ws.job_dir(record.name).scratch(binding.direction, output)
    resolver = Resolver(ws)
    what = f"output '{output}' ({binding.mode.value} to {binding.uri})"
    resolved = resolver.resolve_output(binding.uri, job_name=record.name, output_name=output,
                                       field=None if output == ARTIFACTS else f"outputs.{output}")
    check_resolved(binding, resolved)
    WriteGuard(ws, resolver.datastores).refuse(resolved, name=output, job_name=record.name, mode=binding.mode,
                                               is_file=binding.kind is PathKind.FILE)
    remote_mount = binding.mode is Mode.RW_MOUNT and resolved.local_path is None
    staging = workdir / "staged" if binding.mode is Mode.RW_MOUNT else workdir
    _refuse_staging(ws, record, output, staging)
    from runner.jobs.materialize import output_strategy, to_target  # start-up cost: the transfer engine

    target = to_target(resolved, binding)
    if remote_mount and mount_cut(record, target.url):
        raise JobError(f"output '{output}' of job '{record.name}' ({binding.mode.value} to {binding.uri}): "
                       "its mount ended while the job still had files open or went away under it, so the "
                       f"files kept in {staging} may be incomplete: they are not uploaded as if whole",
                       hint="run the job again (or check the staged files and copy them yourself)")
    # the strategy the run used (``rw_mount`` to a local folder is ``upload`` there on ``staged``); a remote
    # ``rw_mount``'s files left in ``staged`` are uploaded by ``upload``'s engine, without mounting again
    strategy = output_strategy(Mode.UPLOAD if remote_mount else binding.mode, quiet=quiet)
    with translated(what, job=record.name), \
            strategy.materialize(target, staging if remote_mount else workdir):
        pass  # nothing to write: leaving it finalizes what is staged (upload or move in, verified)


def _binding(ws: Workspace, record: JobRecord, plan: RunPlan, output: str) -> Binding:
    if output == ARTIFACTS:
        return artifacts_binding(record.name, ws.job_dir(record.name))
    for binding in plan.outputs:
        if binding.name == output:
            if binding.mode not in (Mode.UPLOAD, Mode.RW_MOUNT):
                raise JobError(f"output '{output}' of job '{record.name}' ({binding.mode.value}) was written "
                               "in place while the job ran: there is no staged data to upload",
                               hint="run the job again")
            return binding
    raise JobError(f"job '{record.name}' has no output '{output}' in its plan", field="--output-name")


def _refuse_on_node(record: JobRecord, output: str, node: str | None,
                    removed_on: str | None = None) -> None:
    """A Ray job's output whose staged data its record keeps on its node (never read from here), or says
    its node could not keep (removed there)."""
    if removed_on:
        raise JobError(f"output '{output}' of job '{record.name}' ran on a Ray cluster, and its staged data "
                       f"could not be kept on Ray node {removed_on}: it was removed with the node's "
                       "workspace, so there is nothing to upload", hint="run the job again")
    if node:
        raise JobError(f"output '{output}' of job '{record.name}' ran on a Ray cluster, and its staged data "
                       f"is kept on Ray node {node}, not in this workspace: it cannot be uploaded from here",
                       hint="copy it from the node with the storage's own tools (`runner job show --name "
                            f"{record.name}` says where it is there), or run the job again")


def _refuse_staging(ws: Workspace, record: JobRecord, output: str, staging: Path) -> None:
    """The output's own staging folder, a real folder holding files (no link on the way), or one error."""
    outputs = ws.job_dir(record.name).outputs
    if own_staged(outputs, output, str(staging)) is not None and is_folder(staging) and holds_files(staging):
        return
    if follows_ray(record):
        raise JobError(f"output '{output}' of job '{record.name}' ran on a Ray cluster, and its staged data "
                       f"is kept on the node that ran it, not in this workspace ({staging} holds none)",
                       hint="copy it from the node's staging folder with the storage's own tools, or run the "
                            "job again")
    raise JobError(f"output '{output}' of job '{record.name}' has no staged data to upload: {staging} is not "
                   "a folder holding files (a link there is not followed)",
                   hint="run the job again")


def _record(ws: Workspace, record: JobRecord, plan: RunPlan, pending: list[str],
            result: Finalized) -> JobRecord:
    """Write what the finalize did: the outputs made durable out of ``held_back_outputs`` and
    ``outputs_not_durable`` (one that failed again: in ``outputs_not_durable``, with its new count), the
    status, the versions registered, and a note (``extra["finalized"]``)."""
    from runner.jobs.run import not_durable  # the run's own entry for a failed output (start-up cost)

    done, failed = set(result.done), set(result.failed)
    # an upload that failed again may have placed part of it: no longer "never uploaded" but not durable,
    # with its new count; one refused before any upload (its store unreachable, a refusal) stays as it was
    tried: dict[str, RunnerError] = {name: err for name, err in result.failed.items()
                                     if isinstance(err, TransferError)}
    extra = dict(record.extra)
    extra[HELD_BACK] = without(extra, HELD_BACK, done | set(tried))
    if not extra[HELD_BACK]:
        extra.pop(HELD_BACK)
        extra.pop("held_back_why", None)
    extra[NOT_DURABLE_KEY] = {**without(extra, NOT_DURABLE_KEY, done), **not_durable(tried)}
    status = status_once_durable(record, set(pending) - done)
    fields: dict[str, Any] = {}
    if status is JobStatus.COMPLETED:
        status, fields = _register(ws, record, plan, result, extra)
    now = utcnow()
    if status is not record.status:
        extra["status_times"] = {**extra.get("status_times", {}), status.value: utc_text(now)}
    note: dict[str, Any] = {"at": utc_text(now), "by": BY, "outputs": sorted(done),
                            "failed": sorted(failed), "status_before": record.status.value,
                            "status": status.value}
    extra[FINALIZED] = [*(extra.get(FINALIZED) or []), note]
    if "error" in fields:  # Completed (no error), or failed at registering its outputs
        note["error_before"] = record.error
    elif done:  # its error says what was kept staged: now what became of it
        fields["error"] = "\n".join(filter(None, [record.error, finalized_line(note)]))
    updated = ws.update_job(record.name, only_from={record.status}, status=status, extra=extra, **fields)
    if updated is None:  # the lock keeps every other writer of an ended job out: not expected
        raise JobError(f"job '{record.name}' changed while its outputs were finalized",
                       hint=f"`runner job show --name {record.name}` shows it now")
    return updated


def _register(ws: Workspace, record: JobRecord, plan: RunPlan, result: Finalized,
              extra: dict[str, Any]) -> tuple[JobStatus, dict[str, Any]]:
    """Register the job's named outputs as its end would have; Completed, or Failed at registration."""
    try:
        result.registered = register_outputs(ws, record, plan)
        status, error = JobStatus.COMPLETED, None
    except RunnerError as err:  # its outputs are whole: failed at registration, as the run says it
        status, error = JobStatus.FAILED, err.render()
        failed_at_registration(extra)
        if isinstance(err, RegistrationFailed):
            result.registered = err.registered
    result.registered.record_extra(extra)
    fields: dict[str, Any] = {"error": error, "registered_models": result.registered.models,
                              "registered_data": result.registered.data}
    if status is JobStatus.COMPLETED:
        fields["outputs_partial"] = False
        extra.pop("outputs_with_data", None)
    return status, fields
