"""Which jobs read which asset versions: an indexed table kept beside the job records.

A job's stored plan names every registered asset it reads: a model input by its content identity
(``cache_key``: ``model:[<registry>/]<name>:<version>``), a data asset input by the version it read
(``asset``: ``{"kind": "data", "name": "[<registry>/]<name>", "version": ...}``; its ``cache_key`` is the
files' identity, not the version's). ``@latest`` is stored as the version it resolved to when the plan was
made. ``Workspace.create_job`` copies those into ``job_asset_inputs`` in the same transaction as the
record, so "the jobs that read model m" is an index lookup, not a scan of every record's JSON. Records
written before the table existed, or before it held data inputs (schema 6), are indexed by the schema
migration (``backfill``).

A pipeline step reused from an earlier identical step (``runner.pipelines.reuse``) is not planned: its
record has no plan, only ``extra["reused_from"]``. It is indexed as reading what that step read, by the
same input names (an identical step reads the same versions: its fingerprint holds each registered
input by name and version, ``@latest`` as the version it resolved to), so it is listed among the readers
beside the step it reused; the ones recorded before schema 7 are indexed by its migration.

This module knows rows and plain dicts only (the job record type lives in ``runner.workspace.db``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_asset_inputs (
    job_name TEXT NOT NULL,
    input_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    asset_name TEXT NOT NULL,
    asset_version TEXT NOT NULL,
    PRIMARY KEY (job_name, input_name)
);
CREATE INDEX IF NOT EXISTS job_asset_inputs_asset ON job_asset_inputs (kind, asset_name, asset_version);
"""
ASSET_KINDS = ("model", "data")  # the kinds of registered asset versions a job input can read


def asset_inputs(job_extra: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """``(input name, kind, stored asset name, version)`` of every registered asset a plan reads."""
    plan = job_extra.get("plan") or {}
    for binding in plan.get("inputs") or ():
        read = _asset_read(binding)
        if read is not None:
            yield (binding["name"], *read)


def _asset_read(binding: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(kind, stored name, version)`` of the asset version one planned input reads, if any."""
    kind, sep, rest = (binding.get("cache_key") or "").partition(":")
    name, sep2, version = rest.rpartition(":")
    if sep and sep2 and kind == "model" and name and version:  # scoped by its registry, if any
        return kind, name, version
    asset = binding.get("asset") or {}
    if asset.get("kind") == "data" and asset.get("name") and asset.get("version"):
        return "data", str(asset["name"]), str(asset["version"])
    return None


MAX_REUSE_CHAIN = 16  # reused_from links followed to a planned step (a record names the original: 1)


def _planned_extra(conn: sqlite3.Connection, job_extra: dict[str, Any]) -> dict[str, Any]:
    """The ``extra`` that holds the plan of what a job read: its own, or, for a reused step, that of
    the step it reused (``{}`` when that job is not recorded)."""
    seen: set[str] = set()
    while not job_extra.get("plan") and isinstance(earlier := job_extra.get("reused_from"), str):
        if earlier in seen or len(seen) >= MAX_REUSE_CHAIN:
            return {}
        seen.add(earlier)
        row = conn.execute("SELECT record FROM jobs WHERE name = ?", (earlier,)).fetchone()
        if row is None:
            return {}
        job_extra = json.loads(row[0]).get("extra") or {}
    return job_extra


def index_job(conn: sqlite3.Connection, job_name: str, job_extra: dict[str, Any]) -> None:
    """Record what ``job_name`` reads (inside the caller's transaction); a reused step reads what the
    step it reused read."""
    rows = [(job_name, *row) for row in asset_inputs(_planned_extra(conn, job_extra))]
    if rows:
        conn.executemany("INSERT OR REPLACE INTO job_asset_inputs (job_name, input_name, kind, asset_name, "
                         "asset_version) VALUES (?, ?, ?, ?, ?)", rows)


def backfill(conn: sqlite3.Connection) -> None:
    """Index every recorded job (the schema migration runs it once, for the jobs recorded before the
    table existed, before it held data inputs or reused steps; ``INSERT OR REPLACE`` keeps what was there)."""
    for row in conn.execute("SELECT name, record FROM jobs").fetchall():
        index_job(conn, row["name"], json.loads(row["record"]).get("extra") or {})


def job_reads(conn: sqlite3.Connection, job_name: str) -> list[tuple[str, str, str, str]]:
    """``(input name, kind, stored asset name, version)`` of every asset ``job_name`` is indexed as
    reading (a reused step's too, which its own record cannot say)."""
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(
        "SELECT input_name, kind, asset_name, asset_version FROM job_asset_inputs WHERE job_name = ? "
        "ORDER BY input_name", (job_name,))]


def reading_condition(kind: str, name: str, version: str | None) -> tuple[str, list[Any]]:
    """A ``WHERE`` condition on ``jobs`` (alias-free) for the jobs that read an asset (any version
    when ``version`` is None)."""
    condition = "name IN (SELECT job_name FROM job_asset_inputs WHERE kind = ? AND asset_name = ?"
    args: list[Any] = [kind, name]
    if version is not None:
        condition += " AND asset_version = ?"
        args.append(version)
    return condition + ")", args

