"""Archiving and restoring model and data asset versions, or a whole asset (``az ml model|data archive`` /
``restore``), for ``runner.workspace.assets.AssetStore``.

As in Azure ML, the asset (its container row) and each version keep their own flag, and a version shows
archived when either is set:

- archiving a whole asset sets the container's flag only: every version shows archived (hidden from
  ``list``, still usable by reference) and a version made meanwhile is born archived (``BORN_ARCHIVED``);
- restoring the whole asset clears the container's flag and the born-archived versions' (they were
  archived only because their asset was); a version archived on its own (``ARCHIVED``: by a version's
  archive, before or during the whole-asset archive) stays archived;
- a version cannot be restored while its asset is archived (restore the asset first).

A version's ``archived`` column is its own flag: 0, ``ARCHIVED`` or ``BORN_ARCHIVED``; born archived says
why (made under an archived asset, no version archive or restore since: ``archived_at_birth``). Schema 7
and older rewrote every version's flag on a whole-asset archive; ``own_flags_from_schema_7`` turns those
into the container's (schema 7 -> 8), so such an asset restores every version, as it did.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runner.errors import RegistryError

if TYPE_CHECKING:
    from runner.workspace.assets import AssetStore

ARCHIVED, BORN_ARCHIVED = 1, 2  # a version's own flag: by its archive action; made under an archived asset

# the versions table and the containers table of each kind (``AssetTable.versions`` / ``containers``)
ARCHIVABLE = (("models", "model_containers"), ("data_assets", "data_containers"))


def set_archived(store: AssetStore[Any], name: str, version: str | None, archived: bool) -> list[str]:
    """Archive or restore version ``version`` of ``name``, or (``None``) the whole asset. A whole restore
    returns the versions that stay archived (each archived on its own), oldest first; else ``[]``."""
    target = store.get(name, version=version)  # unknown -> ResolveError
    key = store.key(name)
    table, noun = store.table, store.table.schema.noun
    with store.workspace.transaction() as conn:
        if version is None:
            conn.execute(f"UPDATE {table.containers} SET archived = ? WHERE name = ?", (int(archived), key))
            if not archived:  # the versions archived only because their asset was come back with it
                conn.execute(f"UPDATE {table.versions} SET archived = 0 WHERE name = ? AND archived = ?",
                             (key, BORN_ARCHIVED))
                staying = conn.execute(f"SELECT version FROM {table.versions} WHERE name = ? AND "
                                       "archived != 0", (key,)).fetchall()
                return sorted((str(row["version"]) for row in staying), key=_oldest_first)
            return []
        container = conn.execute(f"SELECT archived FROM {table.containers} WHERE name = ?", (key,)).fetchone()
        if not archived and container and container["archived"]:
            raise RegistryError(
                f"cannot restore version {target.version} of {noun} '{name}': the {noun} '{name}' itself is "
                "archived",
                hint=f"restore the whole {noun} first: `runner {table.schema.cli} restore --name {name}`",
                python_hint=f"restore the whole {noun} first: `ml_client.{table.sdk}.restore('{name}')`")
        conn.execute(f"UPDATE {table.versions} SET archived = ? WHERE name = ? AND version = ?",
                     (ARCHIVED if archived else 0, key, target.version))
    return []


def staying_notice(noun: str, name: str, staying: list[str], *, restore: Callable[[str], str],
                   list_them: str) -> str:
    """What a whole restore says of the versions that stay archived (``staying``, oldest first; one at
    least), in the caller's words: ``restore(version)`` is the command or call restoring one
    (``<version>`` when there are several), ``list_them`` the one listing them."""
    shown = ", ".join(staying[:10]) + (f" and {len(staying) - 10} more" if len(staying) > 10 else "")
    if len(staying) == 1:
        return (f"restored {noun} '{name}'; version {shown} stays archived (archived on its own, not by the "
                f"{noun}'s archive): `{restore(shown)}` restores it")
    return (f"restored {noun} '{name}'; versions {shown} stay archived (each archived on its own, not by the "
            f"{noun}'s archive): `{restore('<version>')}` restores one (`{list_them}` lists them)")


def _oldest_first(version: str) -> tuple[bool, int, str]:
    """Numbered versions by number, then the others by name."""
    return not version.isdigit(), int(version) if version.isdigit() else 0, version


def archived_at_birth(store: AssetStore[Any], name: str, version: str) -> bool:
    """Whether version ``version`` of ``name`` is archived because it was made under an archived asset,
    with no archive or restore of it since (a version archived again by hand is archived for that reason)."""
    with store.workspace.reading() as conn:
        row = conn.execute(f"SELECT archived FROM {store.table.versions} WHERE name = ? AND version = ?",
                           (store.key(name), version)).fetchone()
    return row is not None and row["archived"] == BORN_ARCHIVED


def own_flags_from_schema_7(conn: sqlite3.Connection) -> None:
    """Schema 7 -> 8: a whole-asset archive of schema 7 set every version's flag to ``ARCHIVED`` (a
    version's own archive before it was lost then); under an asset archived now those flags are the
    asset's, so they are cleared and restoring the asset brings every version back, as it did. Under the
    write lock, and only while the database is older than 8 (a process that opened it at 7 too does not
    clear the archives made since another one migrated it)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < 8:
            for versions, containers in ARCHIVABLE:
                conn.execute(f"UPDATE {versions} SET archived = 0 WHERE archived = ? AND name IN "
                             f"(SELECT name FROM {containers} WHERE archived != 0)", (ARCHIVED,))
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
