"""The pipelines' tables (schema 5, made by ``runner.workspace.schema`` like every table):

- ``components``: registered command components (``runner.workspace.components``), one row per version;
- ``step_reuse``: a completed step's fingerprint -> its job (``runner.pipelines.reuse``);
- ``content_digests``: a listing's signature -> the digest of its content (``runner.workspace.digests``).
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS components (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    version_num INTEGER,
    spec TEXT NOT NULL,
    source TEXT,
    description TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS step_reuse (
    fingerprint TEXT PRIMARY KEY,
    job_name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS content_digests (
    signature TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
