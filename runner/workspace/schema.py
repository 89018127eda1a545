"""The workspace database's tables, views and migrations (``runner.workspace.db`` applies them).

Every change is additive (``CREATE TABLE IF NOT EXISTS``, ``CREATE VIEW IF NOT EXISTS``, ``ALTER TABLE ...
ADD COLUMN``), so a database of any older version is brought up to date in place, and two processes
migrating at once do no harm; the one change of data (7 -> 8, archive flags) runs under the write lock and
only while the database is older than 8.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from runner.workspace import lineage, pipeline_schema
from runner.workspace.asset_archive import own_flags_from_schema_7

# 2 -> 3: data assets (data_assets, data_containers, the registered_assets view);
# 3 -> 4: the computes table (Ray clusters) and the lineage index (job_asset_inputs);
# 4 -> 5: components, step_reuse, content_digests (pipelines);
# 5 -> 6: the lineage index holds data asset inputs too (the jobs recorded before are indexed again);
# 6 -> 7: a reused pipeline step is indexed as reading what the step it reused read (the jobs recorded
#         before are indexed again, so the reused steps recorded before are listed among the readers);
# 7 -> 8: a version's ``archived`` is its own flag, kept by a whole-asset archive and restore (the flags a
#         whole-asset archive rewrote before are cleared under the assets archived now: asset_archive)
SCHEMA_VERSION = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_containers (
    name TEXT PRIMARY KEY,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    version_num INTEGER,
    type TEXT NOT NULL,
    path TEXT NOT NULL,
    source TEXT,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    properties TEXT NOT NULL DEFAULT '{}',
    stage TEXT,
    job_name TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    datastore_uri TEXT,
    flavors TEXT,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    experiment_name TEXT,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE INDEX IF NOT EXISTS jobs_backend ON jobs (json_extract(record, '$.backend'));
CREATE TABLE IF NOT EXISTS datastores (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS computes (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS data_containers (
    name TEXT PRIMARY KEY,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS data_assets (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    version_num INTEGER,
    type TEXT NOT NULL,
    path TEXT NOT NULL,
    source TEXT,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    properties TEXT NOT NULL DEFAULT '{}',
    job_name TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    datastore_uri TEXT,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS environments (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    version_num INTEGER,
    image TEXT,
    build_context TEXT,
    dockerfile TEXT,
    description TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
""" + lineage.SCHEMA + pipeline_schema.SCHEMA

# Made after the migrations (a view names columns older tables gain in ``migrate``). One query answers
# "is this location a registered asset's?" for models and data alike: ``datastore_uri`` has the same
# meaning in both tables (where the version's files are: ``azureml://datastores/<ds>/paths/<p>`` or a URL).
VIEWS = """
CREATE VIEW IF NOT EXISTS registered_assets AS
    SELECT 'model' AS kind, name, version, type, datastore_uri, job_name FROM models
    UNION ALL
    SELECT 'data' AS kind, name, version, type, datastore_uri, job_name FROM data_assets;
"""


def migrate(conn: sqlite3.Connection, from_version: int) -> None:
    """Bring tables created by an older schema up to date (additive changes only; new tables and views
    come from ``SCHEMA`` / ``VIEWS``, which only create what is missing)."""
    if from_version == 1:
        for column in ("datastore_uri TEXT", "flavors TEXT"):
            # the column may exist already (two processes migrating at once)
            with suppress(sqlite3.OperationalError):
                conn.execute(f"ALTER TABLE models ADD COLUMN {column}")
    # jobs recorded before the lineage index (< 4), before it held data inputs (< 6) or reused pipeline
    # steps (< 7); idempotent (INSERT OR REPLACE: a row of the index is what its job's record says)
    if 0 < from_version < 7:
        conn.execute("BEGIN IMMEDIATE")
        try:
            lineage.backfill(conn)
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    if 0 < from_version < 8:  # versions of an asset archived whole by schema 7: their flags are the asset's
        own_flags_from_schema_7(conn)
