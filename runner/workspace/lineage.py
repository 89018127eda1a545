"""Which jobs read which asset versions: an indexed table kept beside the job records.

A job's stored plan names every registered asset it reads by the input's content identity
(``cache_key``: ``model:[<registry>/]<name>:<version>``). ``Workspace.create_job`` copies those into
``job_asset_inputs`` in the same transaction as the record, so "the jobs that read model m" is an index
lookup, not a scan of every record's JSON. Records written before the table existed are indexed once,
by the schema migration (``backfill``).

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
ASSET_KINDS = ("model",)  # the cache_key prefixes that name a registered asset version


def asset_inputs(job_extra: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """``(input name, kind, stored asset name, version)`` of every registered asset a plan reads."""
    plan = job_extra.get("plan") or {}
    for binding in plan.get("inputs") or ():
        key = binding.get("cache_key") or ""
        kind, sep, rest = key.partition(":")
        name, sep2, version = rest.rpartition(":")
        if sep and sep2 and kind in ASSET_KINDS and name and version:
            yield binding["name"], kind, name, version


def index_job(conn: sqlite3.Connection, job_name: str, job_extra: dict[str, Any]) -> None:
    """Record what ``job_name`` reads (inside the caller's transaction)."""
    rows = [(job_name, *row) for row in asset_inputs(job_extra)]
    if rows:
        conn.executemany("INSERT OR REPLACE INTO job_asset_inputs (job_name, input_name, kind, asset_name, "
                         "asset_version) VALUES (?, ?, ?, ?, ?)", rows)


def backfill(conn: sqlite3.Connection) -> None:
    """Index every job recorded before the table existed (the schema migration runs it once)."""
    for row in conn.execute("SELECT name, record FROM jobs").fetchall():
        index_job(conn, row["name"], json.loads(row["record"]).get("extra") or {})


def reading_condition(kind: str, name: str, version: str | None) -> tuple[str, list[Any]]:
    """A ``WHERE`` condition on ``jobs`` (alias-free) for the jobs that read an asset (any version
    when ``version`` is None)."""
    condition = "name IN (SELECT job_name FROM job_asset_inputs WHERE kind = ? AND asset_name = ?"
    args: list[Any] = [kind, name]
    if version is not None:
        condition += " AND asset_version = ?"
        args.append(version)
    return condition + ")", args

