"""A user's registration of a job's output (``azureml://jobs/<job>/outputs/<o>``, ``runs:/<job>/...``)
waits for the job to end: while it is Queued, Preparing, Running or Finalizing its output is not written
(or not whole), so the registration is refused saying so and how to wait, rather than that a folder
does not exist. A Failed or Canceled job's output is registered, with a warning that it may be partial
(Azure registers what is there too), unless it failed only at registering its outputs, once they were
whole (``extra["failed_at"]`` is ``"registration"``: ``runner.jobs.register``); one it ended before
writing is refused saying so (not that a datastore folder does not exist, listing other jobs' folders),
and so is one that was not (all) uploaded (held back, or its upload failed or was cut short:
``runner.workspace.upload_state``), saying where its data is kept: part of it is never registered as if
it were the whole.

The registration a job makes of its own outputs as it ends (``runner.jobs.register``, on the registry
directly: a job on Ray still reads Running then) is not a user's and does not come here; the Python
client's and the CLI's do (``runner.client``).
"""

from __future__ import annotations

import logging

from runner.errors import RegistryError, RunnerError
from runner.modes import PathKind
from runner.uris import JobOutputPath, parse_path
from runner.workspace.db import Workspace
from runner.workspace.fsspec_reads import caches_host_files
from runner.workspace.job_records import JobRecord, JobStatus
from runner.workspace.upload_state import incomplete_outputs, output_location

logger = logging.getLogger(__name__)

PARTIAL = (JobStatus.FAILED, JobStatus.CANCELED)
FAILED_AT = "failed_at"  # a record's extra: where the job failed, when its outputs are whole all the same
REGISTRATION = "registration"  # ...at registering its outputs: its command completed, its outputs uploaded


def check_job_output(workspace: Workspace, path: str | None, *, noun: str, check: bool = True) -> None:
    """Refuse (``RegistryError`` on field ``path``) registering a ``noun`` from the output of a job that
    has not ended, that ended Failed or Canceled before writing it, or whose output was not (all)
    uploaded; warn when it ended so after writing it. Any other path, a malformed one or an unknown job
    is left to the registration, which says what is wrong with it. ``check``: whether a remote store may
    be read (as the registration reads it)."""
    try:
        ref = parse_path(path, field="path") if path else None
    except RunnerError:
        return
    if not isinstance(ref, JobOutputPath) or not workspace.job_exists(ref.job):
        return
    record = workspace.get_job(ref.job)
    status, job = record.status, ref.job
    if not status.is_terminal:
        raise RegistryError(
            f"cannot register {noun} '{ref}': job '{job}' is {status.value}, and its output "
            f"'{ref.output}' is written when it ends", field="path",
            hint=f"wait for it (`runner job stream --name {job}`, or `ml_client.jobs.stream('{job}')` in "
                 "Python) and register it then")
    incomplete = incomplete_outputs(workspace, record, [ref.output], check=check)
    if ref.output in incomplete:
        found = incomplete[ref.output]
        raise RegistryError(f"cannot register {noun} '{ref}': job '{job}' ended {status.value} and "
                            f"{found.sentence()}", field="path", hint=found.hint(register=True))
    if status in PARTIAL and not _written(workspace, record, ref.output, check=check):
        raise RegistryError(
            f"cannot register {noun} '{ref}': job '{job}' ended {status.value} before its output "
            f"'{ref.output}' was written", field="path",
            hint=f"`runner job show --name {job}` says why it ended; register the output of a run that "
                 "wrote it", python_hint=f"`ml_client.jobs.get('{job}').error` says why it ended; register "
                                         "the output of a run that wrote it")
    warning = partial_warning(record, ref.output)
    if warning:
        logger.warning("%s; registering %s '%s' as asked", warning, noun, ref)


def partial_warning(record: JobRecord, output: str) -> str | None:
    """The warning a registration of the job's ``output`` gives (None: none): a Failed or Canceled job's
    output may be partial, unless the job failed only at registering its outputs, once they were whole."""
    if record.status in PARTIAL and record.extra.get(FAILED_AT) != REGISTRATION:
        return (f"job '{record.name}' ended {record.status.value}: its output '{output}' may be partial "
                "(what it wrote before it ended)")
    return None


def _written(workspace: Workspace, record: JobRecord, output: str, *, check: bool) -> bool:
    """Whether the job's output is there (its whole location, not a path inside it). True when that
    cannot be told without reading a remote store (``check`` False), or when the job's record names no
    usable location: the registration says what is wrong then."""
    resolved = output_location(workspace, record, output, check=check)
    if resolved is None:
        return True
    looked = check or resolved.local_path is not None or caches_host_files(resolved.fs)  # as resolve()
    return resolved.kind is not PathKind.ANY or not looked
