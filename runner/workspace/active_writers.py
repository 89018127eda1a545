"""A path is not registered by reference while a job that has not ended (Queued, Preparing, Running,
Finalizing) writes an output at, inside or above it: the job would change the version's files after it
was registered (an ``upload`` output is written there when the job ends, a ``direct`` or ``rw_mount``
one as it runs), and registered versions never change. Where an output reaches is the write guard's
(``WriteGuard.reach``: a ``direct`` file output on the host is bound as its folder, a ``direct`` output on
a remote store reaches its whole container) and the overlap rule is its own (``overlaps``), turned round:
the guard keeps a job from writing where a version is, this keeps a version from being registered where
a job writes.

Checked inside the transaction that inserts the version (``runner.workspace.registry``), so no job is
recorded in between; a job recorded before the version's row is committed meets the version at its own
checks (when it starts, and before it finalizes: ``runner.jobs.run``). The job a registration names as
its lineage (a job registering its own outputs as it ends, its record still active) and that job's
pipeline (whose outputs are its steps') are not in the way.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from runner.errors import RegistryError, RunnerError
from runner.modes import Mode, PathKind
from runner.uris import ARTIFACTS
from runner.workspace.db import ACTIVE_STATUSES, Workspace, default_artifacts_uri
from runner.workspace.job_records import JobRecord
from runner.workspace.outbound_links import inside
from runner.workspace.protect import WriteGuard, overlaps
from runner.workspace.resolve import Resolver

logger = logging.getLogger(__name__)

Written = tuple[str, str, Mode | None, bool]  # output, its location as recorded, its mode, whether a file


def refuse_active_writer(conn: sqlite3.Connection, workspace: Workspace, resolver: Resolver, *, uri: str,
                         noun: str, name: str, own_job: str | None = None) -> None:
    """Refuse (``RegistryError`` on field ``path``) registering ``noun`` ``name`` at ``uri`` while a job that
    has not ended writes an output that overlaps it; ``own_job``: the job the registration names as its
    lineage. ``conn``: the inserting transaction's."""
    guard = WriteGuard(workspace, resolver.datastores)
    there = guard.location(uri)
    if there is None:  # not a place a job could be writing (a relative local path, a reference)
        return
    skipped = _lineage(conn, own_job)
    for record in _active(conn):
        if record.name in skipped:
            continue
        for output, written, mode, is_file in _outputs(record):
            try:
                resolved = resolver.resolve_output(written, job_name=record.name, output_name=output,
                                                   check=False, file=is_file)
            except RunnerError as err:  # the job cannot write there either: it fails when it starts
                logger.debug("output %s of job %s: %s", output, record.name, err.message)
                continue
            for place in guard.reach(resolved, mode=mode, is_file=is_file):
                if overlaps(there, place):
                    raise _refusal(record, output, written, noun=noun, name=name, uri=uri,
                                   how=_how(there, place))


def _active(conn: sqlite3.Connection) -> Iterator[JobRecord]:
    statuses = sorted(status.value for status in ACTIVE_STATUSES)
    marks = ", ".join("?" for _ in statuses)
    for row in conn.execute(f"SELECT record FROM jobs WHERE status IN ({marks})", statuses):
        yield JobRecord.model_validate_json(row["record"])


def _lineage(conn: sqlite3.Connection, job: str | None) -> set[str]:
    """``job`` and the pipeline it is a step of (empty without a job)."""
    if job is None:
        return set()
    row = conn.execute("SELECT record FROM jobs WHERE name = ?", (job,)).fetchone()
    parent = JobRecord.model_validate_json(row["record"]).spec.get("parent_job_name") if row else None
    return {job, parent} if isinstance(parent, str) else {job}


def _outputs(record: JobRecord) -> list[Written]:
    """What the job writes: each output of its stored plan with its mode (a record without one, an older
    runner's or a pipeline's, by its recorded outputs), and a command job's artifacts."""
    plan = record.extra.get("plan")
    bindings = plan.get("outputs") if isinstance(plan, dict) else None
    if isinstance(bindings, list):
        found = [(str(b["name"]), str(b["uri"]), _mode(b.get("mode")), b.get("kind") == PathKind.FILE.value)
                 for b in bindings if isinstance(b, dict) and b.get("name") and b.get("uri")]
    else:
        found = [(output, written, None, False) for output, written in record.outputs.items()]
    if record.spec.get("type") != "pipeline":
        found.append((ARTIFACTS, default_artifacts_uri(record.name), Mode.UPLOAD, False))
    return found


def _mode(value: object) -> Mode | None:
    try:
        return Mode(str(value))
    except ValueError:
        return None


def _how(there: str, place: str) -> str:
    there, place = there.rstrip("/"), place.rstrip("/")
    return "there" if there == place else "inside it" if inside(place, there) else "to a folder holding it"


def _refusal(record: JobRecord, output: str, written: str, *, noun: str, name: str, uri: str,
             how: str) -> RegistryError:
    job = record.name
    ref = f"azureml://jobs/{job}/outputs/{output}"
    return RegistryError(
        f"cannot register {noun} '{name}' from {uri}: job '{job}' ({record.status.value}) writes its output "
        f"'{output}'{'' if how == 'there' else f' ({written})'} {how}, so its files may still change; "
        "registered versions never change",
        field="path",
        hint=f"wait for the job to end (`runner job stream --name {job}`) and register then, e.g. its output "
             f"as --path {ref} (the job becomes the version's lineage); a job whose runner is gone is "
             f"marked Failed by `runner job show --name {job}`",
        python_hint=f"wait for the job to end (`ml_client.jobs.stream('{job}')`) and register then, e.g. its "
                    f"output as path='{ref}' (the job becomes the version's lineage)")
