"""The workspace database's tables, views and migrations (``runner.workspace.db`` applies them).

Every change is additive (``CREATE TABLE IF NOT EXISTS``, ``CREATE VIEW IF NOT EXISTS``, ``ALTER TABLE ...
ADD COLUMN``), so a database of any older version is brought up to date in place, and two processes
migrating at once do no harm; the one change of data (7 -> 8, archive flags) runs under the write lock and
only while the database is older than 8.

A runner opens a database of a newer schema as long as it may write it: the database records the oldest
schema a runner must know to write it (its minimum reader, ``MIN_READER_VERSION``), and a runner that knows
an older one refuses the workspace (``runner.workspace.db``). Runners before schema 8 never read it.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from pathlib import Path

from runner.errors import StorageError
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

# The oldest schema a runner must know to write a workspace of this schema: raised only by a change that an
# older runner would get wrong when it writes (8: a runner of 7 rewrites every version's archive flag on a
# whole-asset archive), left as is by an addition older runners may ignore (a table, a column they never
# write). Kept in the ``meta`` table, a row of a key-value table rather than a pragma: SQLite has one
# pragma for the application (``user_version``, the schema version); ``application_id`` names the file
# format, and misusing it would make ``file`` and other tools misname the database. Older runners leave
# an unknown table alone.
MIN_READER_VERSION = 8
MIN_READER_KEY = "min_reader_version"

META = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

SCHEMA = META + """
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


# The job list's index (``Workspace.page_jobs``: the archived flag and the pipeline a step is of are fields
# of a job's JSON record): with it the list's count and a page at any offset read the index, not every
# record (10,000 jobs: 71 -> 0.6 ms). Its expressions are the list's conditions to the letter
# (``archived_condition``, ``top_level``), or SQLite does not use it. An index changes no data: it is made
# on every open where it is missing (an older workspace's, schema 8 too), with no version of its own.
JOBS_LISTING_INDEX = """
CREATE INDEX IF NOT EXISTS jobs_listing ON jobs (IFNULL(json_extract(record, '$.archived'), 0),
                                                  json_extract(record, '$.spec.parent_job_name'), created_at);
"""


def bring_up_to_date(conn: sqlite3.Connection, floor: int | None) -> None:
    """Create a new database's tables, migrate an older one (a newer one is left as it is), make the
    indexes it lacks, and record the minimum reader where none or an older one is (``floor``: the one
    ``refuse_newer`` read)."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current < SCHEMA_VERSION:  # new or older: WAL is kept in the file once set
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        migrate(conn, current)
        conn.executescript(VIEWS)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.execute(JOBS_LISTING_INDEX)
    if floor is None or floor < MIN_READER_VERSION:  # new, migrated, or 8 written before the record was
        record_min_reader(conn)


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


def min_reader(conn: sqlite3.Connection) -> int | None:
    """The oldest schema a runner must know to write this database (None: none recorded, as in a database
    a runner older than this check wrote, or a new one)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = conn.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", (MIN_READER_KEY,)).fetchone()
    return None if row is None else int(row[0])


def refuse_newer(conn: sqlite3.Connection, root: Path) -> int | None:
    """The database's minimum reader (None: none recorded); a workspace that needs a runner knowing a newer
    schema than this one is refused, before anything is written to it."""
    floor = min_reader(conn)
    if floor is None or floor <= SCHEMA_VERSION:
        return floor
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    fix = "upgrade runner (`pip install -U runner`; in a checkout `git pull` and `pip install -e .`)"
    raise StorageError(f"workspace {root} was written by a newer runner: its schema {version} needs a "
                       f"runner that knows schema {floor} or later, and this runner knows schema "
                       f"{SCHEMA_VERSION}", hint=f"{fix}, or use another workspace (--workspace DIR or "
                                                 "RUNNER_WORKSPACE)",
                       python_hint=f"{fix}, or give MLClient(workspace_dir=...) another workspace")


def record_min_reader(conn: sqlite3.Connection) -> None:
    """Raise the recorded minimum reader to this schema's (never lower it: a newer runner may have raised
    it to one this runner knows); one statement, so two processes recording it at once do no harm."""
    conn.executescript(META)  # a schema-8 database written before the record has no table for it
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                 "value = max(CAST(value AS INTEGER), excluded.value)", (MIN_READER_KEY, MIN_READER_VERSION))
