"""The model tables: versions, their containers (archive), reads and the mutable fields.

``ModelStore`` is what resolution needs (``azureml:<name>:<version>`` → a model's row) and what the
registry (``runner.workspace.registry``) builds on to register new versions. Rules (``az ml model``):

- Archived versions and models are hidden from ``list`` unless asked for, but stay usable by reference;
  a version created under an archived model is archived; a version cannot be restored while its model
  is archived.
- Only ``description`` and ``tags`` can be updated.
- A registry (``--registry-name``) is a local namespace: its rows are stored as ``<registry>/<name>``
  (``/`` is not allowed in names).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from runner.errors import RegistryError, ResolveError, SpecError
from runner.spec.model import Model
from runner.spec.names import ASSET_NAME_PATTERN
from runner.workspace.db import Workspace, utcnow
from runner.workspace.paging import Page, window

Models = list[Model]  # (the class below has a method named ``list``)
Locations = list[tuple[str, str, str]]
_NEWEST_FIRST = "coalesce(m.version_num, 0) DESC, m.created_at DESC"


class ModelStore:
    """The model versions of a workspace, or of one registry namespace in it (``registry_name``)."""

    def __init__(self, workspace: Workspace, *, registry_name: str | None = None) -> None:
        self.workspace = workspace
        if registry_name is not None and not ASSET_NAME_PATTERN.match(registry_name):
            raise SpecError(f"invalid registry name {registry_name!r}", field="registry_name",
                            hint="use letters, digits, '-', '_' and '.'")
        self.registry_name = registry_name  # a local namespace (Azure's registries); None = workspace

    def ensure_container(self, conn: sqlite3.Connection, name: str) -> bool:
        conn.execute("INSERT OR IGNORE INTO model_containers (name, archived, created_at) VALUES (?, 0, ?)",
                     (name, utcnow().isoformat()))
        row = conn.execute("SELECT archived FROM model_containers WHERE name = ?", (name,)).fetchone()
        return bool(row["archived"])

    def next_version(self, name: str, conn: sqlite3.Connection | None = None) -> str:
        query = "SELECT max(version_num) FROM models WHERE name = ?"
        if conn is not None:
            return str((conn.execute(query, (name,)).fetchone()[0] or 0) + 1)
        with self.workspace.reading() as reader:
            return str((reader.execute(query, (name,)).fetchone()[0] or 0) + 1)

    def exists(self, name: str, version: str, conn: sqlite3.Connection | None = None) -> bool:
        query = "SELECT 1 FROM models WHERE name = ? AND version = ?"
        if conn is not None:
            return conn.execute(query, (name, version)).fetchone() is not None
        with self.workspace.reading() as reader:
            return reader.execute(query, (name, version)).fetchone() is not None

    def insert_version(self, conn: sqlite3.Connection, created: Model, *, source: str | None) -> None:
        """The row of a new version (inside the caller's transaction); ``source`` is the path as given."""
        assert created.name is not None and created.version is not None
        version = created.version
        conn.execute(
            "INSERT INTO models (name, version, version_num, type, path, source, description, tags, "
            "properties, stage, job_name, archived, created_at, datastore_uri, flavors) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.key(created.name), version, int(version) if version.isdigit() else None, created.type,
             created.path, source, created.description, json.dumps(created.tags),
             json.dumps(created.properties), created.stage, created.job_name, int(created.archived),
             created.created_at.isoformat() if created.created_at else None, created.datastore_uri,
             json.dumps(created.flavors) if created.flavors else None))

    # ---- read -----------------------------------------------------------------------------------
    def get(self, name: str, version: str | None = None, label: str | None = None) -> Model:
        """One version; ``label="latest"`` (or no version) is the newest non-archived version."""
        if label is not None and label != "latest":
            raise ResolveError(f"unknown label '{label}'", hint="the only label is 'latest'")
        versions = self._rows("WHERE m.name = ?", (self.key(name),))
        if not versions:
            raise ResolveError(f"unknown model '{name}'; {self.known_models()}",
                               hint="`runner model list --include-archived` shows every model")
        if version is None:
            visible = [m for m in versions if not m.archived]
            return (visible or versions)[0]
        for model in versions:
            if model.version == str(version):
                return model
        raise ResolveError(f"model '{name}' has no version {version}; its versions: "
                           + ", ".join(m.version or "" for m in versions),
                           hint=f"use one of those, or azureml:{name}@latest")

    def list(self, name: str | None = None, *, include_archived: bool = False, archived_only: bool = False,
             max_results: int | None = None) -> Models:
        """Without ``name``: one row per model (its latest version); with ``name``: its versions."""
        models = self._rows("WHERE m.name = ?", (self.key(name),)) if name is not None else \
            self._rows("", ())
        if archived_only:
            models = [m for m in models if m.archived]
        elif not include_archived:
            models = [m for m in models if not m.archived]
        if name is None:  # one row per model: its latest version among those shown
            latest: dict[str, Model] = {}
            for model in models:
                latest.setdefault(model.name or "", model)
            models = sorted(latest.values(), key=lambda m: m.name or "")
        return models[:max_results] if max_results else models

    def page(self, name: str | None = None, *, name_contains: str | None = None, tag: str | None = None,
             include_archived: bool = False, archived_only: bool = False, offset: int = 0,
             limit: int | None = None) -> Page[Model]:
        """One page of ``list``: without ``name`` the latest version of each model (by name), with
        ``name`` its versions (newest first). ``name_contains`` matches part of the name (any case);
        ``tag`` is ``key`` (the tag is set) or ``key=value``. Filtering, ordering and paging run in SQL:
        a model's latest shown version is one indexed lookup per model (``models``' key starts with the
        name), so a page reads its rows, not every version of every model."""
        offset, limit = window(offset, limit)
        prefix, scope, scope_args = self._scope("c.name")

        def shown(alias: str) -> str:  # the versions this view shows (archived: the version or its model)
            archived = f"({alias}.archived OR c.archived)"
            return archived if archived_only else "1" if include_archived else f"NOT {archived}"

        args: list[Any] = []
        if name is not None:
            where = f"m.name = ? AND {shown('m')}"
            args.append(self.key(name))
            order = _NEWEST_FIRST
        else:
            latest = (f"SELECT m2.rowid FROM models m2 WHERE m2.name = c.name AND {shown('m2')} "
                      f"ORDER BY {_NEWEST_FIRST.replace('m.', 'm2.')} LIMIT 1")
            where, order = f"m.rowid = ({latest}) AND {scope}", "c.name"
            args += scope_args
            if name_contains:
                where += " AND instr(lower(substr(c.name, ?)), lower(?)) > 0"
                args += [len(prefix) + 1, name_contains]
        if tag:
            key, sep, value = tag.partition("=")
            where += (" AND EXISTS (SELECT 1 FROM json_each(m.tags) t WHERE t.key = ? "
                      "AND (? IS NULL OR t.value = ?))")
            args += [key.strip(), value if sep else None, value if sep else None]
        body = f"FROM model_containers c JOIN models m ON c.name = m.name WHERE {where}"
        with self.workspace.reading() as conn:
            total = conn.execute(f"SELECT count(*) {body}", args).fetchone()[0]
            rows = conn.execute(f"SELECT m.*, c.archived AS container_archived {body} ORDER BY {order} "
                                "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return Page([_row_to_model(r, prefix) for r in rows], offset, limit, total)

    def _scope(self, column: str = "m.name") -> tuple[str, str, tuple[Any, ...]]:
        """(name prefix, SQL condition on ``column``, its arguments): this store's rows (a registry's,
        or the workspace's own, whose names hold no ``/``)."""
        prefix = f"{self.registry_name}/" if self.registry_name else ""
        if prefix:
            return prefix, f"substr({column}, 1, ?) = ?", (len(prefix), prefix)
        return prefix, f"instr({column}, '/') = 0", ()

    def _rows(self, where: str, args: tuple[Any, ...]) -> Models:
        prefix, scope, scope_args = self._scope()
        where = f"{where} AND {scope}" if where else f"WHERE {scope}"
        query = ("SELECT m.*, c.archived AS container_archived FROM models m "
                 "JOIN model_containers c ON c.name = m.name " + where +
                 f" ORDER BY m.name, {_NEWEST_FIRST}")
        with self.workspace.reading() as conn:
            return [_row_to_model(r, prefix) for r in conn.execute(query, (*args, *scope_args))]

    def locations(self) -> Locations:
        """(name, version, where its files are stored) of every version, in every registry namespace:
        the places no job may write (``runner.workspace.protect``)."""
        with self.workspace.reading() as conn:
            rows = conn.execute("SELECT name, version, datastore_uri FROM models "
                                "WHERE datastore_uri IS NOT NULL").fetchall()
        return [(row["name"], row["version"], row["datastore_uri"]) for row in rows]

    def key(self, name: str) -> str:
        """The stored name: ``<registry>/<name>`` in a registry namespace (``/`` is not allowed in names)."""
        return f"{self.registry_name}/{name}" if self.registry_name else name

    def reference(self, name: str, version: str) -> str:
        if self.registry_name:
            return f"azureml://registries/{self.registry_name}/models/{name}/versions/{version}"
        return f"azureml:{name}:{version}"

    def known_models(self) -> str:
        names = sorted({m.name or "" for m in self._rows("", ())})
        where = f"registry '{self.registry_name}'" if self.registry_name else "this workspace"
        return (f"models in {where}: " + ", ".join(names[:30])) if names else \
            f"no models are registered in {where}"

    # ---- update / archive -------------------------------------------------------------------------
    def update(self, name: str, version: str, *, set_values: dict[str, str] | None = None,
               remove: Iterable[str] = ()) -> Model:
        """``az ml model update``: ``--set description=..``, ``--set tags.k=v``, ``--remove tags.k``."""
        current = self.get(name, version=version)
        description, tags = current.description, dict(current.tags)
        for key, value in (set_values or {}).items():
            if key == "description":
                description = value
            elif key.startswith("tags.") and len(key) > 5:
                tags[key[5:]] = value
            elif key == "tags":
                tags = _parse_tags_value(value)
            else:
                raise immutable_error(key, name)
        for key in remove:
            if key.startswith("tags.") and len(key) > 5:
                tags.pop(key[5:], None)
            elif key == "description":
                description = None
            else:
                raise immutable_error(key, name)
        return self.update_fields(name, version, description=description, tags=tags)

    def update_fields(self, name: str, version: str, *, description: str | None,
                       tags: dict[str, str]) -> Model:
        with self.workspace.transaction() as conn:
            conn.execute("UPDATE models SET description = ?, tags = ? WHERE name = ? AND version = ?",
                         (description, json.dumps(tags), self.key(name), version))
        return self.get(name, version=version)

    def archive(self, name: str, version: str | None = None) -> None:
        self._set_archived(name, version, True)

    def restore(self, name: str, version: str | None = None) -> None:
        self._set_archived(name, version, False)

    def _set_archived(self, name: str, version: str | None, archived: bool) -> None:
        target = self.get(name, version=version)  # unknown -> ResolveError
        key = self.key(name)
        with self.workspace.transaction() as conn:
            container = conn.execute("SELECT archived FROM model_containers WHERE name = ?",
                                     (key,)).fetchone()
            if version is None:
                conn.execute("UPDATE model_containers SET archived = ? WHERE name = ?", (int(archived), key))
                conn.execute("UPDATE models SET archived = ? WHERE name = ?", (int(archived), key))
                return
            if not archived and container and container["archived"]:
                raise RegistryError(
                    f"cannot restore version {target.version} of model '{name}': the model '{name}' "
                    "itself is archived",
                    hint=f"restore the whole model first: `runner model restore --name {name}`")
            conn.execute("UPDATE models SET archived = ? WHERE name = ? AND version = ?",
                         (int(archived), key, target.version))



def immutable_error(field: str, name: str) -> RegistryError:
    what = "Asset paths" if field == "path" else f"'{field}'"
    return RegistryError(f"{what} cannot be updated: only description and tags of a model version "
                         f"can change", hint=f"register a new version of '{name}' instead "
                                             "(`runner model create` without --version)")


def _parse_tags_value(value: str) -> dict[str, str]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise RegistryError("--set tags=... needs a JSON object", hint="or use --set tags.<key>=<value>") \
            from exc
    if not isinstance(parsed, dict):
        raise RegistryError("--set tags=... needs a JSON object", hint="or use --set tags.<key>=<value>")
    return {str(k): str(v) for k, v in parsed.items()}


def _row_to_model(row: sqlite3.Row, prefix: str = "") -> Model:
    data = dict(row)
    return Model(
        name=data["name"][len(prefix):], version=data["version"], path=data["path"], type=data["type"],
        description=data["description"], tags=json.loads(data["tags"] or "{}"),
        properties=json.loads(data["properties"] or "{}"), stage=data["stage"],
        flavors=json.loads(data["flavors"]) if data.get("flavors") else None,
        created_at=data["created_at"], archived=bool(data["archived"] or data["container_archived"]),
        job_name=data["job_name"], datastore_uri=data.get("datastore_uri"))

