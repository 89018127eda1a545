"""Pipelines and their step jobs in the job table: a step job's record names its pipeline in
``spec.parent_job_name`` (Azure's field), so listings can fold children under their parent.

    list_top_level(workspace, max_results=20)    # jobs that are no pipeline's step, newest first
    list_children(workspace, "p1")               # p1's step jobs, in the order they were created
"""

from __future__ import annotations

from runner.workspace.db import JobRecord, Workspace, archived_condition

_PARENT = "json_extract(record, '$.spec.parent_job_name')"


def list_top_level(ws: Workspace, *, max_results: int | None = None,
                   archived: bool | None = None) -> list[JobRecord]:
    """``archived``: only the archived jobs, or only the others (None: every one)."""
    query = (f"SELECT record FROM jobs WHERE {_PARENT} IS NULL AND {archived_condition(archived)} "
             "ORDER BY created_at DESC, rowid DESC")
    args: tuple[int, ...] = ()
    if max_results:
        query, args = query + " LIMIT ?", (max_results,)
    with ws.reading() as conn:
        return [JobRecord.model_validate_json(r["record"]) for r in conn.execute(query, args)]


def list_children(ws: Workspace, parent: str) -> list[JobRecord]:
    query = f"SELECT record FROM jobs WHERE {_PARENT} = ? ORDER BY created_at, rowid"
    with ws.reading() as conn:
        return [JobRecord.model_validate_json(r["record"]) for r in conn.execute(query, (parent,))]
