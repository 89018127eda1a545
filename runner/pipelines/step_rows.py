"""A pipeline's step rows (``extra["steps"]``, ``runner.pipelines.record``) brought up to date from its step
jobs' own records, for every reader: ``job show`` / ``ml_client.jobs.get`` (one pipeline), ``job list`` /
``ml_client.jobs.list`` and the web UI's list (a page of pipelines, their step jobs read in one query).

While its orchestrator lives, it writes the rows (it polls its steps several times a second). Once the
pipeline ended, a step may still change: one that was running when the orchestrator died goes on as a job
and ends later, and one never started can no longer start (``Skipped``). Those rows are followed here and
the record is written when one changed, so the next reader finds them settled and reads nothing more.
A row is settled when it is Completed, Failed, Canceled or Skipped: a job's end is final, so a reader that
read a step before it ended never puts its settled row back (``keep_settled``, merged in the write).

Light on purpose (the job table only): ``job list`` imports it, not the pipeline models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from runner.errors import StorageError
from runner.workspace.db import JobRecord, JobStatus, Workspace

log = logging.getLogger(__name__)

NOT_STARTED = "NotStarted"
SKIPPED = "Skipped"
PIPELINE_KEY = "pipeline"  # extra key of a pipeline record's plan
STEPS_KEY = "steps"  # extra key of its steps' state
SETTLED = frozenset({JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELED.value, SKIPPED})
_NAMES_PER_QUERY = 500  # under SQLite's smallest limit of bound parameters (999)


class StepJob(NamedTuple):
    """What a step row takes from its job's record."""

    status: str
    error: str | None


def step_jobs(ws: Workspace, names: Iterable[str]) -> dict[str, StepJob]:
    """The status and error of every named job that exists, read in one query (per 500 names)."""
    wanted = sorted(set(names))
    found: dict[str, StepJob] = {}
    with ws.reading() as conn:
        for start in range(0, len(wanted), _NAMES_PER_QUERY):
            chunk = wanted[start:start + _NAMES_PER_QUERY]
            query = ("SELECT name, status, json_extract(record, '$.error') AS error FROM jobs "
                     f"WHERE name IN ({', '.join('?' * len(chunk))})")
            for row in conn.execute(query, chunk):
                found[row["name"]] = StepJob(row["status"], row["error"])
    return found


def is_pipeline(record: JobRecord) -> bool:
    return PIPELINE_KEY in record.extra and record.spec.get("type") == "pipeline"


def ended_rows(record: JobRecord) -> dict[str, Any] | None:
    """The step rows of a pipeline that ended (None: not a pipeline, not ended, or no rows)."""
    states = record.extra.get(STEPS_KEY)
    if not is_pipeline(record) or not record.status.is_terminal or not isinstance(states, dict):
        return None
    return states


def _job_names(states: Mapping[str, Any]) -> list[str]:
    return [s["job"] for s in states.values() if isinstance(s, dict) and isinstance(s.get("job"), str)]


def _unsettled(states: Mapping[str, Any]) -> bool:
    return any(not isinstance(s, dict) or s.get("status") not in SETTLED for s in states.values())


def followed_rows(record: JobRecord, states: Mapping[str, Any], jobs: Mapping[str, StepJob]
                  ) -> dict[str, Any]:
    """Each step's row as its job's record says now (``jobs``: the step jobs that exist), and a step with
    no job that had not started Skipped, with the reason."""
    followed: dict[str, Any] = {}
    for step, state in states.items():
        state = dict(state) if isinstance(state, dict) else {}
        job = state.get("job")
        found = jobs.get(job) if isinstance(job, str) else None
        if found is not None:
            state["status"] = found.status
            if found.status in (JobStatus.FAILED.value, JobStatus.CANCELED.value) and found.error:
                state["error"] = found.error
        elif state.get("status") == NOT_STARTED:
            why = (record.error or "").splitlines()[0] if record.error else ""
            state.update(status=SKIPPED, note=f"skipped: the pipeline {record.status.value.lower()} before "
                                              f"this step could start" + (f" ({why})" if why else ""))
        followed[step] = state
    return followed


def keep_settled(rows: Mapping[str, Any]) -> Callable[[Any], dict[str, Any]]:
    """The merge of ``rows`` into the stored rows (``update_job``'s ``merge_extra`` calls it with them, in
    its transaction): each row as given, but a settled stored row stays over an unsettled one (a reader
    that read a step before it ended writes after one that read its end: a job's end is final)."""

    def merged(stored: Any) -> dict[str, Any]:
        kept = stored if isinstance(stored, dict) else {}
        return {step: kept[step] if _settled(kept.get(step)) and not _settled(row) else row
                for step, row in rows.items()}

    return merged


def _settled(row: Any) -> bool:
    return isinstance(row, dict) and row.get("status") in SETTLED


def _recorded(ws: Workspace, record: JobRecord, states: Mapping[str, Any], jobs: Mapping[str, StepJob]
              ) -> JobRecord:
    followed = followed_rows(record, states, jobs)
    if followed == states:
        return record
    try:  # merged in the write's own transaction: a key written since the read is kept, a settled row too
        return ws.update_job(record.name, merge_extra={STEPS_KEY: keep_settled(followed)})
    except StorageError as err:  # a workspace that cannot be written (a full disk) still shows them
        log.debug("step rows of pipeline %s not recorded: %s", record.name, err.message)
        return record.model_copy(update={"extra": {**record.extra, STEPS_KEY: followed}})


def follow_steps(ws: Workspace, record: JobRecord) -> JobRecord:
    """A pipeline that ended, with each step's row as its job's record says now (a step still running
    when the orchestrator died goes on as a job, and may be canceled or complete), and each step that
    has no job Skipped (it can no longer start), with the reason; recorded when a row changed. The
    orchestrator writes the rows while it lives: a pipeline not ended is returned as it is."""
    states = ended_rows(record)
    if states is None:
        return record
    return _recorded(ws, record, states, step_jobs(ws, _job_names(states)))


def follow_all_steps(ws: Workspace, records: Sequence[JobRecord]) -> list[JobRecord]:
    """``records`` with ``follow_steps`` applied to every pipeline that ended with a row not settled; the
    step jobs of all of them are read in one query, and a pipeline whose rows are settled reads nothing."""
    pending = {r.name: states for r in records
               if (states := ended_rows(r)) is not None and _unsettled(states)}
    if not pending:
        return list(records)
    jobs = step_jobs(ws, [job for states in pending.values() for job in _job_names(states)])
    return [_recorded(ws, r, pending[r.name], jobs) if r.name in pending else r for r in records]
