"""The asset tables, with one set of rules for model versions and data asset versions: versions, their
containers (archive), reads and the mutable fields.

``AssetStore`` is parameterized by an ``AssetTable`` (which tables, what the asset is called) and the
entity (``Model``, ``Data``); ``runner.workspace.models.ModelStore`` and
``runner.workspace.data_assets.DataAssetStore`` add only how their rows map to their entity. Rules
(``az ml model`` / ``az ml data``):

- Archived versions and assets are hidden from ``list`` unless asked for, but stay usable by reference;
  a version created under an archived asset is archived; a version cannot be restored while its asset
  is archived; the asset and each version keep their own flag, so restoring a whole asset leaves the
  versions archived on their own archived (``runner.workspace.asset_archive``).
- Only ``description`` and ``tags`` can be updated (az's generic ``--set``, ``--add``, ``--remove``), and
  a kind's own ``updatable`` fields (a model's ``stage``, free text as in Azure ML).
- A registry (``--registry-name``) is a local namespace: its rows are stored as ``<registry>/<name>``
  (``/`` is not allowed in names).

Both tables keep ``datastore_uri`` with the same meaning (where the version's files are), and the
``registered_assets`` view (``runner.workspace.db``) joins them: ``assets_at`` answers "is this location a
registered asset's?" for models and data with one query.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from runner.errors import RegistryError, ResolveError, SpecError
from runner.spec.asset import AssetBase, AssetSchema
from runner.spec.names import asset_name_re, check_label
from runner.workspace.asset_archive import BORN_ARCHIVED, archived_at_birth, set_archived
from runner.workspace.asset_places import AssetAt as AssetAt  # re-exported: where versions lie
from runner.workspace.asset_places import assets_at as assets_at
from runner.workspace.asset_places import registered_locations as registered_locations
from runner.workspace.db import Workspace, utcnow
from runner.workspace.paging import Page, window
from runner.workspace.tag_values import parse_tags_value

E = TypeVar("E", bound=AssetBase)

_NEWEST_FIRST = "coalesce(m.version_num, 0) DESC, m.created_at DESC"

# the columns every asset table has; a kind adds its own (models: stage, flavors)
COMMON_COLUMNS = ("name", "version", "version_num", "type", "path", "source", "description", "tags",
                  "properties", "job_name", "archived", "created_at", "datastore_uri")


@dataclass(frozen=True)
class AssetTable:
    """Where a kind of asset is kept and what it is called."""

    schema: AssetSchema  # noun ("model", "data asset"), command group, types, YAML keys
    versions: str  # the versions table: "models", "data_assets"
    containers: str  # the containers table (archive of a whole asset)
    registry_segment: str  # azureml://registries/<r>/<segment>/<name>/versions/<v>
    upload_folder: str  # where local files are copied on the default datastore: <folder>/<name>/<version>/

    @property
    def plural(self) -> str:
        return f"{self.schema.noun}s"

    @property
    def sdk(self) -> str:
        """Its ``ml_client.<sdk>`` (for a Python hint; the entity is ``cli.title()``): models, data."""
        return "models" if self.schema.cli == "model" else self.schema.cli

    def register_here(self, name: str, version: str | None) -> tuple[str, str]:
        """How to register ``name`` (``version``, else 1) in the workspace: the CLI's words, Python's."""
        kind = "uri_folder" if self.schema.cli == "data" else "custom_model"  # the create commands' default
        entity, version = self.schema.cli.title(), version or "1"
        return (f"register it: `runner {self.schema.cli} create --name {name} --version {version} --path "
                f"<local path or URL> --type {kind}`",
                f"register it: `ml_client.{self.sdk}.create_or_update({entity}(name='{name}', version="
                f"'{version}', path='<local path or URL>', type=AssetTypes.{kind.upper()}))`")

    def register_there(self, name: str, version: str | None, registry: str) -> tuple[str, str]:
        """How to register ``name`` (``version``) in registry ``registry``: the CLI's words, Python's."""
        entity, given = self.schema.cli.title(), f"version='{version}', " if version else ""
        return (f"register it there: `runner {self.schema.cli} create --registry-name {registry} --name "
                f"{name} --version {version} --path <path>` (or in the workspace without --registry-name)",
                f"register it there: `MLClient(registry_name='{registry}').{self.sdk}.create_or_update("
                f"{entity}(name='{name}', {given}path=...))` (or in the workspace: MLClient without "
                "registry_name)")


class AssetStore(Generic[E]):
    """The versions of one kind of asset in a workspace, or in one registry namespace of it."""

    table: ClassVar[AssetTable]
    updatable: ClassVar[tuple[str, ...]] = ()  # the kind's own columns that can change (models: stage)

    def __init__(self, workspace: Workspace, *, registry_name: str | None = None) -> None:
        self.workspace = workspace
        if registry_name is not None and not asset_name_re().match(registry_name):
            raise SpecError(f"invalid registry name {registry_name!r}", field="registry_name",
                            hint="use letters, digits, '-', '_' and '.'")
        self.registry_name = registry_name  # a local namespace (Azure's registries); None = workspace

    # ---- what a kind adds -----------------------------------------------------------------------
    def _entity(self, data: dict[str, Any], common: dict[str, Any]) -> E:
        """The entity of a row (``common``: the fields every asset has, already decoded)."""
        raise NotImplementedError

    def _own_columns(self, created: E) -> dict[str, Any]:
        """The kind's own columns for a new version (models: stage, flavors)."""
        return {}

    # ---- versions and containers --------------------------------------------------------------
    def ensure_container(self, conn: sqlite3.Connection, name: str) -> bool:
        """Make the container row if needed; returns whether the asset is archived."""
        conn.execute(f"INSERT OR IGNORE INTO {self.table.containers} (name, archived, created_at) "
                     "VALUES (?, 0, ?)", (name, utcnow().isoformat()))
        row = conn.execute(f"SELECT archived FROM {self.table.containers} WHERE name = ?", (name,)).fetchone()
        return bool(row["archived"])

    def next_version(self, name: str, conn: sqlite3.Connection | None = None) -> str:
        query = f"SELECT max(version_num) FROM {self.table.versions} WHERE name = ?"
        if conn is not None:
            return str((conn.execute(query, (name,)).fetchone()[0] or 0) + 1)
        with self.workspace.reading() as reader:
            return str((reader.execute(query, (name,)).fetchone()[0] or 0) + 1)

    def exists(self, name: str, version: str, conn: sqlite3.Connection | None = None) -> bool:
        query = f"SELECT 1 FROM {self.table.versions} WHERE name = ? AND version = ?"
        if conn is not None:
            return conn.execute(query, (name, version)).fetchone() is not None
        with self.workspace.reading() as reader:
            return reader.execute(query, (name, version)).fetchone() is not None

    def insert_version(self, conn: sqlite3.Connection, created: E, *, source: str | None) -> None:
        """The row of a new version (inside the caller's transaction); ``source`` is the path as given."""
        assert created.name is not None and created.version is not None
        version = created.version
        row = {"name": self.key(created.name), "version": version,
               "version_num": int(version) if version.isdigit() else None, "type": created.type,
               "path": created.path, "source": source, "description": created.description,
               "tags": json.dumps(created.tags), "properties": json.dumps(created.properties),
               "job_name": created.job_name, "archived": BORN_ARCHIVED if created.archived else 0,
               "created_at": created.created_at.isoformat() if created.created_at else None,
               "datastore_uri": created.datastore_uri, **self._own_columns(created)}
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO {self.table.versions} ({columns}) VALUES ({marks})", tuple(row.values()))

    # ---- read -----------------------------------------------------------------------------------
    def get(self, name: str, version: str | None = None, label: str | None = None) -> E:
        """One version; ``label="latest"`` (or no version) is the newest non-archived version."""
        noun = self.table.schema.noun
        check_label(label, noun=noun, name=name, cli=self.table.schema.cli)
        versions = self._rows("WHERE m.name = ?", (self.key(name),))
        if not versions:
            names = self.names()
            cli, python = (f"`runner {self.table.schema.cli} list --include-archived` shows every {noun}",
                           f"`ml_client.{self.table.sdk}.list(list_view_type=ListViewType.ALL)` shows every "
                           f"{noun}")
            if not names:  # nothing registered: how to register it, there or here
                cli, python = (self.table.register_there(name, version, self.registry_name)
                               if self.registry_name else self.table.register_here(name, version))
            raise ResolveError(f"unknown {noun} '{name}'; {self.known(names)}", hint=cli, python_hint=python)
        if version is None:
            visible = [m for m in versions if not m.archived]
            return (visible or versions)[0]
        for asset in versions:
            if asset.version == str(version):
                return asset
        raise ResolveError(f"{noun} '{name}' has no version {version}; its versions: "
                           + ", ".join(m.version or "" for m in versions),
                           hint=f"use one of those, or azureml:{name}@latest")

    def list(self, name: str | None = None, *, include_archived: bool = False, archived_only: bool = False,
             max_results: int | None = None) -> builtins.list[E]:
        """Without ``name``: one row per asset (its latest version, with ``latest_version`` set, as
        Azure's containers); with ``name``: its versions."""
        assets = self._rows("WHERE m.name = ?", (self.key(name),)) if name is not None else \
            self._rows("", ())
        if archived_only:
            assets = [m for m in assets if m.archived]
        elif not include_archived:
            assets = [m for m in assets if not m.archived]
        if name is None:  # one row per asset: its latest version among those shown
            latest: dict[str, E] = {}
            for asset in assets:
                latest.setdefault(asset.name or "", asset)
            assets = sorted((_with_latest(a) for a in latest.values()), key=lambda m: m.name or "")
        return assets[:max_results] if max_results else assets

    def page(self, name: str | None = None, *, name_contains: str | None = None, tag: str | None = None,
             include_archived: bool = False, archived_only: bool = False, offset: int = 0,
             limit: int | None = None) -> Page[E]:
        """One page of ``list``: without ``name`` the latest version of each asset (by name), with
        ``name`` its versions (newest first). ``name_contains`` matches part of the name (any case);
        ``tag`` is ``key`` (the tag is set) or ``key=value``. Filtering, ordering and paging run in SQL:
        an asset's latest shown version is one indexed lookup per asset (the versions' key starts with
        the name), so a page reads its rows, not every version of every asset."""
        offset, limit = window(offset, limit)
        prefix, scope, scope_args = self._scope("c.name")
        versions, containers = self.table.versions, self.table.containers

        def shown(alias: str) -> str:  # the versions this view shows (archived: the version or its asset)
            archived = f"({alias}.archived OR c.archived)"
            return archived if archived_only else "1" if include_archived else f"NOT {archived}"

        args: list[Any] = []
        if name is not None:
            where = f"m.name = ? AND {shown('m')}"
            args.append(self.key(name))
            order = _NEWEST_FIRST
        else:
            latest = (f"SELECT m2.rowid FROM {versions} m2 WHERE m2.name = c.name AND {shown('m2')} "
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
        body = f"FROM {containers} c JOIN {versions} m ON c.name = m.name WHERE {where}"
        with self.workspace.reading() as conn:
            total = conn.execute(f"SELECT count(*) {body}", args).fetchone()[0]
            rows = conn.execute(f"SELECT m.*, c.archived AS container_archived {body} ORDER BY {order} "
                                "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        items = [self._from_row(dict(r), prefix) for r in rows]
        return Page(items if name is not None else [_with_latest(a) for a in items], offset, limit, total)

    def _scope(self, column: str = "m.name") -> tuple[str, str, tuple[Any, ...]]:
        """(name prefix, SQL condition on ``column``, its arguments): this store's rows (a registry's,
        or the workspace's own, whose names hold no ``/``)."""
        prefix = f"{self.registry_name}/" if self.registry_name else ""
        if prefix:
            return prefix, f"substr({column}, 1, ?) = ?", (len(prefix), prefix)
        return prefix, f"instr({column}, '/') = 0", ()

    def _rows(self, where: str, args: tuple[Any, ...]) -> builtins.list[E]:
        prefix, scope, scope_args = self._scope()
        where = f"{where} AND {scope}" if where else f"WHERE {scope}"
        query = (f"SELECT m.*, c.archived AS container_archived FROM {self.table.versions} m "
                 f"JOIN {self.table.containers} c ON c.name = m.name " + where +
                 f" ORDER BY m.name, {_NEWEST_FIRST}")
        with self.workspace.reading() as conn:
            return [self._from_row(dict(r), prefix) for r in conn.execute(query, (*args, *scope_args))]

    def _from_row(self, data: dict[str, Any], prefix: str) -> E:
        common = {"name": data["name"][len(prefix):], "version": data["version"], "path": data["path"],
                  "type": data["type"], "description": data["description"],
                  "tags": json.loads(data["tags"] or "{}"),
                  "properties": json.loads(data["properties"] or "{}"), "created_at": data["created_at"],
                  "archived": bool(data["archived"] or data["container_archived"]),
                  "job_name": data["job_name"], "datastore_uri": data.get("datastore_uri")}
        return self._entity(data, common)

    def archived_at_birth(self, name: str, version: str) -> bool:
        """Whether a version is archived only because it was made under an archived asset (see
        ``runner.workspace.asset_archive``)."""
        return archived_at_birth(self, name, version)

    def key(self, name: str) -> str:
        """The stored name: ``<registry>/<name>`` in a registry namespace (``/`` is not allowed in names)."""
        return f"{self.registry_name}/{name}" if self.registry_name else name

    def reference(self, name: str, version: str) -> str:
        if self.registry_name:
            return (f"azureml://registries/{self.registry_name}/{self.table.registry_segment}/{name}/"
                    f"versions/{version}")
        return f"azureml:{name}:{version}"

    def names(self) -> builtins.list[str]:
        """The names registered, sorted."""
        return sorted({m.name or "" for m in self._rows("", ())})

    def known(self, names: builtins.list[str] | None = None) -> str:
        """What exists (``names``, else read), for an error message."""
        names = self.names() if names is None else names
        where = f"registry '{self.registry_name}'" if self.registry_name else "this workspace"
        return (f"{self.table.plural} in {where}: " + ", ".join(names[:30])) if names else \
            f"no {self.table.plural} are registered in {where}"

    # ---- update / archive -------------------------------------------------------------------------
    def update(self, name: str, version: str, *, set_values: Mapping[str, Any] | None = None,
               add_values: Mapping[str, str] | None = None, remove: Iterable[str] = ()) -> E:
        """az's generic update: ``--set description=..``, ``--set tags.k=v`` / ``--set tags={json}`` (a dict
        too, from Python), ``--add tags k=v`` (``add_values``: ``{"tags.k": "v"}``), ``--remove tags.k`` /
        ``tags`` / ``description``, and the kind's ``updatable`` fields (``--set stage=..``, ``--remove
        stage``). Any other field is refused (versions are immutable)."""
        current = self.get(name, version=version)
        description, tags = current.description, dict(current.tags)
        own = {field: getattr(current, field) for field in self.updatable}
        for key, value in (set_values or {}).items():
            if key == "description":
                description = value
            elif key.startswith("tags.") and len(key) > 5:
                tags[key[5:]] = value
            elif key == "tags":
                tags = parse_tags_value(value)
            elif key in own:
                own[key] = value or None
            else:
                raise self.immutable_error(key, name)
        for key, value in (add_values or {}).items():
            if not (key.startswith("tags.") and len(key) > 5):
                raise self.immutable_error(key.split(".")[0], name, verb="added to")
            tags[key[5:]] = value
        for key in remove:
            if key.startswith("tags.") and len(key) > 5:
                tags.pop(key[5:], None)
            elif key == "tags":
                tags = {}
            elif key == "description":
                description = None
            elif key in own:
                own[key] = None
            else:
                raise self.immutable_error(key, name)
        return self.update_fields(name, version, description=description, tags=tags, **own)

    def update_fields(self, name: str, version: str, *, description: str | None, tags: dict[str, str],
                      **own: str | None) -> E:
        """Write the mutable fields of a version: description, tags and the kind's ``updatable`` ones."""
        assert set(own) <= set(self.updatable), own
        columns = "".join(f", {field} = ?" for field in own)
        with self.workspace.transaction() as conn:
            conn.execute(f"UPDATE {self.table.versions} SET description = ?, tags = ?{columns} "
                         "WHERE name = ? AND version = ?",
                         (description, json.dumps(tags), *own.values(), self.key(name), version))
        return self.get(name, version=version)

    def immutable_error(self, field: str, name: str, *, verb: str = "updated",
                        detail: str | None = None) -> RegistryError:
        what = "Asset paths" if field == "path" else f"'{field}'"
        schema = self.table.schema
        mutable = ", ".join(("description", "tags", *self.updatable))
        mutable = " and ".join(mutable.rsplit(", ", 1))
        return RegistryError(f"{what} cannot be {verb}: only {mutable} of a {schema.noun} version can change"
                             + (f"; {detail}" if detail else ""),
                             hint=f"register a new version of '{name}' instead (`runner {schema.cli} create` "
                                  "without --version)",
                             python_hint=f"register a new version of '{name}' instead "
                                         f"(`{schema.cli.title()}(name='{name}', path=...)` without version)")

    def archive(self, name: str, version: str | None = None) -> None:
        """Archive a version, or (no version) the whole asset: its versions' own flags are kept."""
        set_archived(self, name, version, True)

    def restore(self, name: str, version: str | None = None) -> builtins.list[str]:
        """Restore a version, or the whole asset (a version archived on its own stays archived): the
        versions that stay archived, oldest first (``[]`` for a version's restore)."""
        return set_archived(self, name, version, False)


def _with_latest(asset: E) -> E:
    """An asset's entry in a list without a name: its latest shown version, carrying ``latest_version``
    as azure.ai.ml's containers do (the version's own fields stay: ``m.version`` is that version too)."""
    asset.latest_version = asset.version
    return asset

