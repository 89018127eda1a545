"""The workspace: a directory with a SQLite database (models, data assets, jobs, datastores, environments)
and the default local datastore ``workspaceblobstore`` (which directory: ``runner.workspace.location``).

Layout::

    <ws>/                                   created owner-only (0700)
    <ws>/runner.db                          SQLite, WAL mode, owner-only permissions (0600)
    <ws>/datastores/workspaceblobstore/     the default local datastore root
    <ws>/jobs/<job-name>/                   per-job directory
    <ws>/cache/                             download content cache
    <ws>/staging/                           output data kept when an upload failed
    <ws>/secrets/                           datastore credentials, one 0600 file each (never in the
                                            database: ``runner.workspace.datastore_secrets``)
    <ws>/components/<name>/<version>/code/  a registered component's code snapshot (immutable)

Tables: models, model_containers, data_assets, data_containers, jobs, job_asset_inputs, datastores,
environments, computes, components, step_reuse, content_digests, meta, and the registered_assets view
(schema version 8, ``runner.workspace.schema``; every change is additive:
``CREATE TABLE IF NOT EXISTS`` and ``ALTER TABLE ... ADD COLUMN``). An older schema is migrated on open; a
newer one is opened when this runner knows the oldest schema it records a runner must know to write it
(``meta``'s minimum reader), else the workspace is refused with one error, every command alike.
A job's row holds its ``JobRecord`` as JSON (``runner.workspace.job_records``; its names are offered
here too), its ``archived`` flag included (``archived_condition`` selects on it: no column, no migration).

A full disk (the job filled it, or anything else did) leaves the workspace usable: ``<ws>/.space-reserve``
is a small preallocated file released to make room for the writes that end a job (its final status,
recovery's), so a job never stays Running because its end could not be recorded; reads that cannot
create SQLite's shared-memory file open the database read-only (``immutable``), so ``job list`` and
``job show`` still answer; writes that still fail say "no space left on <mount>", never "locked".

Concurrency: every write is one explicit transaction. ``BEGIN IMMEDIATE`` takes the write lock up front,
so read-then-write sequences (version allocation, job updates) never interleave between processes; a job's
status changes as a compare-and-set (``update_job(only_from=...)``: an ended job is never made active again);
``busy_timeout`` makes waiters queue instead of failing. Data files are written before the row that
points at them is committed, so a process that dies leaves at worst an unreferenced file, never a row
pointing at missing data.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import quote

from pydantic import ValidationError

from runner.errors import JobError, ResolveError, StorageError
from runner.workspace import lineage
from runner.workspace.datastore_secrets import mask_old_rows
from runner.workspace.job_records import (
    DEFAULT_DATASTORE,
    JobRecord,
    JobStatus,
    default_artifacts_uri,
    default_output_uri,
    utc_text,
    utcnow,
)
from runner.workspace.jobdir import JobDir
from runner.workspace.location import chosen_workspace_dir
from runner.workspace.schema import bring_up_to_date, refuse_newer
from runner.workspace.space import FREE_SPACE_HINT, SpaceReserve, disk_full, no_space

if TYPE_CHECKING:
    from runner.workspace.paging import Page

__all__ = [  # a job's record is runner.workspace.job_records's, offered here too
    "ACTIVE_STATUSES", "BUSY_TIMEOUT_MS", "DEFAULT_DATASTORE", "JobRecord", "JobStatus", "Workspace",
    "default_artifacts_uri", "default_output_uri", "utc_text", "utcnow",
]

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 60_000
ACTIVE_STATUSES = frozenset(status for status in JobStatus if not status.is_terminal)  # never left once ended


class Workspace:
    """A workspace directory. Cheap to construct; each thread keeps one connection to its database
    (opening one per operation cost a connect, and with WAL a checkpoint at every close)."""

    def __init__(self, root: str | Path | None = None) -> None:
        chosen = chosen_workspace_dir(root)
        self.root = Path(chosen).expanduser().resolve()
        self._local = threading.local()
        self._init_layout()

    # ---- layout -------------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.root / "runner.db"

    @property
    def datastores_dir(self) -> Path:
        return self.root / "datastores"

    @property
    def default_datastore_root(self) -> Path:
        return self.datastores_dir / DEFAULT_DATASTORE

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    def job_dir(self, name: str) -> JobDir:
        return JobDir(self.jobs_dir / name)

    def _init_layout(self) -> None:
        try:
            floor = None  # a workspace this runner may not write is refused before anything is made in it
            if self.db_path.exists():
                floor = refuse_newer(self._connection(), self.root)
            if not self.root.exists():  # a new workspace is its owner's alone (0700); its folders inside
                self.root.parent.mkdir(parents=True, exist_ok=True)
                self.root.mkdir(mode=0o700)
            for folder in (self.default_datastore_root, self.jobs_dir, self.cache_dir, self.staging_dir):
                folder.mkdir(parents=True, exist_ok=True)
            self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
            new_db = not self.db_path.exists()
            if new_db:  # create owner-only; SQLite gives -wal/-shm files the same mode
                os.close(os.open(self.db_path, os.O_CREAT | os.O_WRONLY, 0o600))
            conn = self._connection()
            bring_up_to_date(conn, floor)
            self._ensure_default_datastore()
            mask_old_rows(conn, self.secrets_dir)  # rows an older runner saved with secrets in them
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageError(f"cannot use workspace directory {self.root}: {no_space(self.root)}",
                                   hint=FREE_SPACE_HINT) from exc
            raise StorageError(f"cannot use workspace directory {self.root}: {exc.strerror or exc}",
                               hint="pass --workspace DIR (or set RUNNER_WORKSPACE) to a writable "
                                    "directory",
                               python_hint="give MLClient(workspace_dir=...) a writable directory (or set "
                                           "RUNNER_WORKSPACE to one)") from exc
        self.reserve.ensure()

    # ---- a full disk ------------------------------------------------------------------------------
    @property
    def reserve(self) -> SpaceReserve:
        return SpaceReserve(self.root)

    def disk_full(self) -> bool:
        """True when the workspace's filesystem has (almost) no space left."""
        return disk_full(self.root)

    def _ensure_default_datastore(self) -> None:
        with self.reading() as conn:
            if conn.execute("SELECT 1 FROM datastores WHERE name = ?", (DEFAULT_DATASTORE,)).fetchone():
                return  # the common case: no write lock taken when opening a workspace
        config = {"name": DEFAULT_DATASTORE, "type": "local",
                  "path": str(self.default_datastore_root.relative_to(self.root)),
                  "description": "The workspace's default datastore (a local folder)."}
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO datastores (name, type, config, created_at) "
                         "VALUES (?, ?, ?, ?)",
                         (DEFAULT_DATASTORE, "local", json.dumps(config), utcnow().isoformat()))

    # ---- connections and transactions ---------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")  # the first read maps the -shm file
        except sqlite3.OperationalError:
            if not self.disk_full():
                raise
            conn.close()
            return self._connect_immutable()
        return conn

    def _connect_immutable(self) -> sqlite3.Connection:
        """A read-only connection that needs no -shm file (which a full disk cannot hold). When no
        process has the database open its WAL was checkpointed into the file on the last close, so it
        reads the current records; when one does, that one made the -shm and this path is not taken."""
        logger.warning("the disk of workspace %s is full: reading its database read-only", self.root)
        uri = f"file:{quote(str(self.db_path))}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one in a forked child: connections are never shared)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = self._connect()
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _forget_connection(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error."""
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:  # the body or the COMMIT failed: the kept connection leaves it
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            raise self._database_error(exc) from exc

    def _database_error(self, exc: sqlite3.OperationalError) -> StorageError:
        """The one message for a write that failed: full disk, read-only, held too long, or else."""
        code = getattr(exc, "sqlite_errorcode", None)
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StorageError(f"workspace database {self.db_path} is unavailable: {exc}",
                                hint="another runner process may hold it for too long; retry")
        if code == sqlite3.SQLITE_FULL or self.disk_full():
            return StorageError(f"cannot write the workspace database {self.db_path}: {no_space(self.root)}",
                                hint=FREE_SPACE_HINT)
        return StorageError(f"cannot write the workspace database {self.db_path}: {exc}",
                            hint="check that the workspace folder is writable and its disk healthy")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only view (autocommit reads see one consistent WAL snapshot per statement)."""
        yield self._connection()

    # ---- jobs -----------------------------------------------------------------------------------
    def create_job(self, record: JobRecord) -> JobRecord:
        """Insert a new job record. A name that exists already is refused."""
        with self.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM jobs WHERE name = ?", (record.name,)).fetchone()
            if exists:
                raise JobError(f"a job named '{record.name}' exists already",
                               hint="give the job another name, or omit name to get a generated one")
            conn.execute("INSERT INTO jobs (name, status, experiment_name, created_at, record) "
                         "VALUES (?, ?, ?, ?, ?)", self._job_row(record))
            lineage.index_job(conn, record.name, record.extra)
        return record

    @overload
    def update_job(self, name: str, *, ending: bool = False, only_from: None = None,
                   merge_extra: dict[str, Any] | None = None, **fields: Any) -> JobRecord: ...

    @overload
    def update_job(self, name: str, *, ending: bool = False, only_from: Collection[JobStatus],
                   merge_extra: dict[str, Any] | None = None, **fields: Any) -> JobRecord | None: ...

    def update_job(self, name: str, *, ending: bool = False, only_from: Collection[JobStatus] | None = None,
                   merge_extra: dict[str, Any] | None = None, **fields: Any) -> JobRecord | None:
        """Change some fields of a job atomically; returns the updated record. ``ending``: the write
        that ends the job (its final status): on a full disk the space reserve is released for it.
        ``only_from``: a compare-and-set: written only when the job's status, read in the same
        transaction, is one of these, else nothing is and None is returned (a status change that must
        not overwrite an end passes ``ACTIVE_STATUSES``; Queued -> Preparing passes Queued alone).
        ``merge_extra``: keys set in the stored ``extra`` in that transaction, its other keys kept; a value
        that is a function is called with the key's stored value (None if absent) and its result is set."""
        try:
            return self._update_job(name, fields, only_from, merge_extra)
        except StorageError:
            if not (ending and self.reserve.release()):
                raise
            self._forget_connection()  # it may be the read-only one a full disk made
            return self._update_job(name, fields, only_from, merge_extra)

    def _update_job(self, name: str, fields: dict[str, Any], statuses: Collection[JobStatus] | None,
                    merge_extra: dict[str, Any] | None) -> JobRecord | None:
        with self.transaction() as conn:
            current = self._load_job(conn, name)
            if statuses is not None and current.status not in statuses:
                return None
            data = current.model_dump()
            data.update(fields)
            if merge_extra:
                data["extra"] = {**data["extra"], **{key: value(data["extra"].get(key)) if callable(value)
                                                     else value for key, value in merge_extra.items()}}
            try:
                updated = JobRecord.model_validate(data)
            except ValidationError as exc:
                raise JobError(f"invalid update of job '{name}': {exc}") from exc
            row = self._job_row(updated)
            conn.execute("UPDATE jobs SET status = ?, experiment_name = ?, created_at = ?, record = ? "
                         "WHERE name = ?", (*row[1:], name))
        return updated

    def get_job(self, name: str) -> JobRecord:
        with self.reading() as conn:
            return self._load_job(conn, name)

    def job_status(self, name: str) -> JobStatus | None:
        """Only the status of job ``name`` (no record read or parsed: for a loop that polls it); None when
        there is no such job."""
        with self.reading() as conn:
            row = conn.execute("SELECT status FROM jobs WHERE name = ?", (name,)).fetchone()
        return None if row is None else JobStatus(row["status"])

    def job_exists(self, name: str) -> bool:
        with self.reading() as conn:
            return conn.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone() is not None

    def list_jobs(self, *, status: str | None = None, experiment_name: str | None = None,
                  max_results: int | None = None, archived: bool | None = None) -> list[JobRecord]:
        """Jobs, newest first, optionally filtered (``archived``: only those, or only the others)."""
        query = f"SELECT record FROM jobs WHERE {archived_condition(archived)}"
        args: list[Any] = []
        if status:
            query, args = query + " AND status = ?", [*args, status]
        if experiment_name:
            query, args = query + " AND experiment_name = ?", [*args, experiment_name]
        query += " ORDER BY created_at DESC, rowid DESC"
        if max_results:
            query, args = query + " LIMIT ?", [*args, max_results]
        with self.reading() as conn:
            return [JobRecord.model_validate_json(r["record"]) for r in conn.execute(query, args)]

    def page_jobs(self, *, status: str | None = None, experiment_name: str | None = None,
                  backend: str | None = None, name_contains: str | None = None,
                  reads: tuple[str, str, str | None] | None = None, offset: int = 0,
                  limit: int | None = None, archived: bool | None = None, parent: str | None = None,
                  top_level: bool = False) -> Page[JobRecord]:
        """One page of jobs, newest first, filtered in SQL; ``reads`` is ``(kind, stored name,
        version or None)`` of an asset the jobs read as an input (``runner.workspace.lineage``);
        ``archived``: only the archived jobs, or only the others (None: every job); ``parent``: that
        pipeline's step jobs; ``top_level``: only the jobs that are no pipeline's step."""
        from runner.workspace.paging import Page, window  # start-up cost: a listing's (a validate lists none)

        offset, limit = window(offset, limit)
        where, args = [archived_condition(archived)], []
        if top_level:
            where.append("json_extract(record, '$.spec.parent_job_name') IS NULL")
        for condition, value in (("status = ?", status), ("experiment_name = ?", experiment_name),
                                 ("json_extract(record, '$.backend') = ?", backend),
                                 ("json_extract(record, '$.spec.parent_job_name') = ?", parent),
                                 ("instr(lower(name), lower(?)) > 0", name_contains)):
            if value:
                where.append(condition)
                args.append(value)
        if reads is not None:
            condition, more = lineage.reading_condition(*reads)
            where.append(condition)
            args += more
        query = f"FROM jobs WHERE {' AND '.join(where)}"
        with self.reading() as conn:
            total = conn.execute(f"SELECT count(*) {query}", args).fetchone()[0]
            rows = conn.execute(f"SELECT record {query} ORDER BY created_at DESC, rowid DESC "
                                "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return Page([JobRecord.model_validate_json(r["record"]) for r in rows], offset, limit, total)

    def _load_job(self, conn: sqlite3.Connection, name: str) -> JobRecord:
        row = conn.execute("SELECT record FROM jobs WHERE name = ?", (name,)).fetchone()
        if row is None:
            recent = [r["name"] for r in conn.execute(
                "SELECT name FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 10")]
            listing = ", ".join(recent) if recent else "none (no job has run in this workspace)"
            raise ResolveError(f"unknown job '{name}' in workspace {self.root}; recent jobs: {listing}",
                               hint="`runner job list` shows all jobs; check --workspace / "
                                    "RUNNER_WORKSPACE points at the workspace that ran it",
                               python_hint="`ml_client.jobs.list()` lists the jobs; check that MLClient("
                                           "workspace_dir=...) or RUNNER_WORKSPACE points at the workspace "
                                           "that ran it")
        return JobRecord.model_validate_json(row["record"])

    @staticmethod
    def _job_row(record: JobRecord) -> tuple[str, str, str | None, str, str]:
        return (record.name, record.status.value, record.experiment_name,
                record.created_at.isoformat(), record.model_dump_json())


def archived_condition(archived: bool | None) -> str:
    """The SQL condition on ``jobs`` rows of the archived jobs (True), the others (False; a record an
    older runner wrote has no flag: not archived) or every job (None). An equality either way, on the
    ``jobs_listing`` index's expression (``schema``), so both views read the index (``!= 0`` would scan):
    the flag is JSON ``true``/``false`` (``JobRecord.archived``), which ``json_extract`` reads as 1/0."""
    if archived is None:
        return "1=1"
    return f"IFNULL(json_extract(record, '$.archived'), 0) = {1 if archived else 0}"
