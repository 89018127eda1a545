"""A job's record (``JobRecord``, ``JobStatus``, the times and default output locations it holds) lives
in ``runner.workspace.job_records``, which needs no database: importing it loads no SQLite and no
``Workspace``. Every name is still importable from ``runner.workspace.db``, the same object."""

from __future__ import annotations

import os
import subprocess
import sys

from repo_paths import REPO

from runner.workspace import db, job_records

MOVED = ("DEFAULT_DATASTORE", "JobRecord", "JobStatus", "default_artifacts_uri", "default_output_uri",
         "utc_text", "utcnow")


def test_every_moved_name_is_the_same_from_db() -> None:
    assert [name for name in MOVED if getattr(db, name) is not getattr(job_records, name)] == []


def test_job_records_import_no_database() -> None:
    code = ("import sys, runner.workspace.job_records; "
            "print(sorted(m for m in sys.modules if m in ('sqlite3', 'runner.workspace.db')))")
    result = subprocess.run([sys.executable, "-P", "-c", code], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
