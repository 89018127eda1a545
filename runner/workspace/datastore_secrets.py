"""Which datastore options are secrets (masked as ``***`` for display and the database), and the cleaning
of rows an older runner saved with some of them in plain text.

``masked`` replaces every value under a secret-looking key at any depth and the password of any URL in a
string (``runner.workspace.datastores.public_dict`` uses it for ``show`` and the database row; the real
values live only in the owner-only ``secrets/datastore-<name>.json``).

Runners before the masking at any depth kept fsspec ``storage_options`` masked at the top level only, so
``client_kwargs: {headers: {Authorization: ...}}`` or ``passwd`` stayed in plain text in ``runner.db``
(and its WAL) until the datastore was saved again. ``mask_old_rows`` (run each time a workspace is
opened: one read of the fsspec rows, nothing written when all are masked) does what a save would: the
secrets file is written first when there is none (from the row: all there was; owner-only, never
through a link: a link at its place or the folder's leaves the rows for a later open, with one warning),
then the row keeps the masked copy, written with ``secure_delete`` (the old cell is zeroed); the WAL is
then checkpointed and truncated so no frame keeps the old page, and where this SQLite does not zero freed
space by default the database is vacuumed once, as earlier deletes may have left the plaintext in free
pages.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from runner.errors import StorageError
from runner.uris import without_password
from runner.workspace.secret_files import keep_file

logger = logging.getLogger(__name__)

REDACTED = "***"

# parts of the names of storage options (and headers) that hold secrets: account_key, api_key, secret,
# client_secret, token, password, passwd, passphrase, credential(s), connection_string, sas, sig(nature),
# Authorization / Proxy-Authorization / X-Auth-Token, Cookie, private_key, session
_SECRET_WORDS = ("key", "secret", "token", "passw", "passphrase", "credential", "connection", "sas", "sig",
                 "auth", "cookie", "private", "session")


def looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(w in lowered for w in _SECRET_WORDS)


def masked(value: Any, *, secret: bool = False) -> Any:
    """``value`` (storage options: mappings, lists, strings) with every value under a secret-looking key
    replaced by ``***``, at any depth (``client_kwargs: {headers: {Authorization: ...}}``), and the
    password of any URL in a string (``user:***@host``)."""
    if isinstance(value, dict):
        return {k: masked(v, secret=secret or looks_secret(str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, secret=secret) for v in value]
    if secret and value is not None and not isinstance(value, bool):
        return REDACTED
    return without_password(value) if isinstance(value, str) else value


def mask_old_rows(conn: sqlite3.Connection, secrets_dir: Path) -> list[str]:
    """Mask the fsspec datastore rows that keep a secret in plain text (the secrets file written first
    when missing), then leave no copy of the old rows in the database or its WAL. The names changed."""
    if not _unmasked(conn):
        return []  # the common case: one read, no lock
    zeroes_freed_space = conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    try:
        conn.execute("PRAGMA secure_delete=ON")  # the old cells are overwritten, not only unlinked
        conn.execute("BEGIN IMMEDIATE")
        try:
            changed = _unmasked(conn)  # again under the write lock: a save meanwhile is not undone
            for name, (config, public) in changed.items():
                _keep_secret_file(secrets_dir, f"datastore-{name}.json", config)
                conn.execute("UPDATE datastores SET config = ? WHERE name = ?", (public, name))
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.execute(f"PRAGMA secure_delete={int(zeroes_freed_space)}")
    except (sqlite3.Error, OSError, StorageError) as exc:  # a read-only or full disk, a planted link:
        message = exc.render() if isinstance(exc, StorageError) else str(exc)  # left for the next open
        logger.warning("could not move the plain-text secrets of older datastore rows out of the "
                       "database (tried again the next time the workspace is opened): %s", message)
        return []
    if not changed:  # another process masked them between the first look and the lock: its work
        return []
    _scrub(conn, vacuum=not zeroes_freed_space)
    logger.info("datastore(s) %s: secrets kept in plain text by an older runner were moved out of the "
                "database", ", ".join(changed))
    return list(changed)


def _unmasked(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """name -> (row, the row as a save would write it) of each fsspec row that keeps a secret."""
    found = {}
    for name, config in conn.execute("SELECT name, config FROM datastores WHERE type = 'fsspec'"):
        try:
            data = json.loads(config)
        except ValueError:
            continue  # not ours to fix: loading it says what is wrong
        public = dict(data)
        if "storage_options" in data:
            public["storage_options"] = masked(data["storage_options"])
        if isinstance(data.get("url"), str):  # refused since, shown as user:***@ by any newer runner
            public["url"] = without_password(data["url"])
        if public != data:
            found[name] = (config, json.dumps(public))
    return found


def _keep_secret_file(secrets_dir: Path, name: str, config: str) -> None:
    """Write ``config`` (the row: all an older runner left) as the owner-only secrets file ``name`` when
    there is none, before the row is masked (``keep_file``: one made meanwhile is kept); a link at the
    folder's or the file's place is one ``StorageError`` (the row waits for an open once it is gone)."""
    keep_file(secrets_dir, name, config.encode(), over=False)


def _scrub(conn: sqlite3.Connection, *, vacuum: bool) -> None:
    scrub(conn, vacuum=vacuum, what="datastore rows")


def scrub(conn: sqlite3.Connection, *, vacuum: bool, what: str) -> None:
    """No old page left: free pages rewritten (``vacuum``), the WAL copied in and truncated to nothing.
    Another process reading at that moment keeps the WAL: the next open that masks nothing does not
    retry, so this is said (the rows themselves, the masked ``what``, are masked either way)."""
    try:
        if vacuum:
            conn.execute("VACUUM")
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.Error as exc:
        busy, why = 1, str(exc)
    else:
        why = "another process was reading the database"
    if busy:
        logger.warning("the database's write-ahead log could not be emptied (%s): an older copy of the "
                       "masked %s may stay in runner.db-wal until it is checkpointed", why, what)
