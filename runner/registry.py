"""The model registry: versions, Azure's archive rules, lineage, and copying local models in.

Rules (``az ml model``):

- A local file or folder is copied (streamed) into the default datastore at the immutable location
  ``LocalUpload/<name>/<version>/<basename>``; datastore, job, run and URL paths are referenced, and a
  job path records the job as the model's lineage (``job_name``).
- The version auto-increments from 1 when omitted (allocated inside ``BEGIN IMMEDIATE``, so concurrent
  creates get distinct consecutive versions); an existing name + version is refused.
- ``mlflow_model`` must be a folder with an ``MLmodel`` file; ``triton_model`` must be a folder.
- Only ``description`` and ``tags`` can be updated.
- Archived versions and models are hidden from ``list`` unless asked for, but stay usable by reference;
  a version created under an archived model is archived; a version cannot be restored while its model
  is archived.

Data is written before the row that points at it is committed: a copy goes to a temporary location
first and is moved to its versioned place inside the transaction that inserts the row.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from runner.assets import Model, check_model_fields
from runner.errors import RegistryError, ResolveError, SpecError, StorageError
from runner.modes import AssetType, PathKind
from runner.uris import DatastorePath, LocalPath, ModelRef, parse_path
from runner.workspace import DEFAULT_DATASTORE, Workspace, utcnow

if TYPE_CHECKING:
    from runner.resolve import Resolver
    from runner.resolved import ResolvedPath

logger = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024
UPDATABLE = ("description", "tags")
_IMMUTABLE = ("path", "type", "properties", "stage", "flavors")
Models = list[Model]  # (the class below has a method named ``list``)
_REGISTRY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")


class ModelRegistry:
    def __init__(self, workspace: Workspace, *, resolver: Resolver | None = None,
                 registry_name: str | None = None) -> None:
        self.workspace = workspace
        if registry_name is not None and not _REGISTRY_NAME.match(registry_name):
            raise SpecError(f"invalid registry name {registry_name!r}", field="registry_name",
                            hint="use letters, digits, '-', '_' and '.'")
        self.registry_name = registry_name  # a local namespace (Azure's registries); None = workspace
        if resolver is None:
            from runner.resolve import Resolver

            resolver = Resolver(workspace)
        self.resolver = resolver

    # ---- create ---------------------------------------------------------------------------------
    def create(self, model: Model) -> Model:
        """Register a new version (``az ml model create``). An existing name + version is refused."""
        check_model_fields(model)
        assert model.name is not None and model.path is not None
        if model.version is not None:
            self._refuse_existing(self._key(model.name), model.version)
        source = self.resolver.resolve(model.path, base_dir=_base_dir(model), field="path")
        _check_kind(model, source)
        if isinstance(parse_path(model.path), LocalPath):
            return self._create_copied(model, source)
        stored_path = str(parse_path(model.path))
        if isinstance(parse_path(model.path), ModelRef):
            stored_path = source.uri
        return self._insert(model, stored_path=stored_path, datastore_uri=source.uri,
                            job_name=source.job or model.job_name)

    def create_or_update(self, model: Model) -> Model:
        """Python's ``create_or_update``: a new version, or a description/tags update of an existing one."""
        check_model_fields(model)
        assert model.name is not None
        if model.version is not None and self._exists(self._key(model.name), model.version):
            current = self.get(model.name, version=model.version)
            _refuse_immutable_changes(current, model)
            return self._update_fields(model.name, model.version, description=model.description,
                                       tags=dict(model.tags))
        return self.create(model)

    def _refuse_existing(self, name: str, version: str) -> None:
        if self._exists(name, version):
            raise RegistryError(f"model '{name}' version {version} exists already; versions are immutable",
                                hint=f"omit --version to get the next version ({self._next_version(name)}), "
                                     "or use `runner model update` to change description/tags")

    def _create_copied(self, model: Model, source: ResolvedPath) -> Model:
        """Copy a local file/folder into the default datastore, then commit the row."""
        assert model.name is not None and source.local_path is not None
        ds, fs, root = self.resolver.datastores.open(DEFAULT_DATASTORE)
        basename = source.local_path.name
        staging = f"{root.rstrip('/')}/LocalUpload/.incoming-{uuid.uuid4().hex}"
        copy_tree(source.fs, source.path, fs, f"{staging}/{basename}")
        try:
            return self._insert(model, job_name=model.job_name, copy_from=(fs, staging, root, basename))
        finally:
            with contextlib.suppress(Exception):  # best effort: staging is never referenced
                if fs.exists(staging):
                    fs.rm(staging, recursive=True)

    def _insert(self, model: Model, *, stored_path: str | None = None, datastore_uri: str | None = None,
                job_name: str | None = None,
                copy_from: tuple[AbstractFileSystem, str, str, str] | None = None) -> Model:
        assert model.name is not None
        key = self._key(model.name)
        with self.workspace.transaction() as conn:
            version = model.version or self._next_version(key, conn)
            if self._exists(key, version, conn):
                raise RegistryError(f"model '{model.name}' version {version} exists already",
                                    hint="omit the version to get the next one")
            if copy_from is not None:
                stored_path = _move_into_place(copy_from, key, version)
                datastore_uri = stored_path
            container_archived = self._ensure_container(conn, key)
            created = model.model_copy(update={
                "version": version, "path": stored_path, "datastore_uri": datastore_uri,
                "job_name": job_name, "archived": container_archived, "created_at": utcnow(),
                "base_path": None})
            conn.execute(
                "INSERT INTO models (name, version, version_num, type, path, source, description, tags, "
                "properties, stage, job_name, archived, created_at, datastore_uri, flavors) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, version, int(version) if version.isdigit() else None, created.type,
                 stored_path, model.path, created.description, json.dumps(created.tags),
                 json.dumps(created.properties), created.stage, job_name, int(container_archived),
                 created.created_at.isoformat() if created.created_at else None, datastore_uri,
                 json.dumps(created.flavors) if created.flavors else None))
        logger.info("registered model %s:%s at %s", created.name, version, stored_path)
        return created

    def _ensure_container(self, conn: sqlite3.Connection, name: str) -> bool:
        conn.execute("INSERT OR IGNORE INTO model_containers (name, archived, created_at) VALUES (?, 0, ?)",
                     (name, utcnow().isoformat()))
        row = conn.execute("SELECT archived FROM model_containers WHERE name = ?", (name,)).fetchone()
        return bool(row["archived"])

    def _next_version(self, name: str, conn: sqlite3.Connection | None = None) -> str:
        query = "SELECT max(version_num) FROM models WHERE name = ?"
        if conn is not None:
            return str((conn.execute(query, (name,)).fetchone()[0] or 0) + 1)
        with self.workspace.reading() as reader:
            return str((reader.execute(query, (name,)).fetchone()[0] or 0) + 1)

    def _exists(self, name: str, version: str, conn: sqlite3.Connection | None = None) -> bool:
        query = "SELECT 1 FROM models WHERE name = ? AND version = ?"
        if conn is not None:
            return conn.execute(query, (name, version)).fetchone() is not None
        with self.workspace.reading() as reader:
            return reader.execute(query, (name, version)).fetchone() is not None

    # ---- read -----------------------------------------------------------------------------------
    def get(self, name: str, version: str | None = None, label: str | None = None) -> Model:
        """One version; ``label="latest"`` (or no version) is the newest non-archived version."""
        if label is not None and label != "latest":
            raise ResolveError(f"unknown label '{label}'", hint="the only label is 'latest'")
        versions = self._rows("WHERE m.name = ?", (self._key(name),))
        if not versions:
            raise ResolveError(f"unknown model '{name}'; {self._known_models()}",
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
        models = self._rows("WHERE m.name = ?", (self._key(name),)) if name is not None else \
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

    def _rows(self, where: str, args: tuple[Any, ...]) -> Models:
        prefix = f"{self.registry_name}/" if self.registry_name else ""
        scope: tuple[str, tuple[Any, ...]] = ("substr(m.name, 1, ?) = ?", (len(prefix), prefix)) \
            if prefix else ("instr(m.name, '/') = 0", ())
        where = f"{where} AND {scope[0]}" if where else f"WHERE {scope[0]}"
        query = ("SELECT m.*, c.archived AS container_archived FROM models m "
                 "JOIN model_containers c ON c.name = m.name " + where +
                 " ORDER BY m.name, coalesce(m.version_num, 0) DESC, m.created_at DESC")
        with self.workspace.reading() as conn:
            return [_row_to_model(r, prefix) for r in conn.execute(query, (*args, *scope[1]))]

    def _key(self, name: str) -> str:
        """The stored name: ``<registry>/<name>`` in a registry namespace (``/`` is not allowed in names)."""
        return f"{self.registry_name}/{name}" if self.registry_name else name

    def reference(self, name: str, version: str) -> str:
        if self.registry_name:
            return f"azureml://registries/{self.registry_name}/models/{name}/versions/{version}"
        return f"azureml:{name}:{version}"

    def _known_models(self) -> str:
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
                raise _immutable_error(key, name)
        for key in remove:
            if key.startswith("tags.") and len(key) > 5:
                tags.pop(key[5:], None)
            elif key == "description":
                description = None
            else:
                raise _immutable_error(key, name)
        return self._update_fields(name, version, description=description, tags=tags)

    def _update_fields(self, name: str, version: str, *, description: str | None,
                       tags: dict[str, str]) -> Model:
        with self.workspace.transaction() as conn:
            conn.execute("UPDATE models SET description = ?, tags = ? WHERE name = ? AND version = ?",
                         (description, json.dumps(tags), self._key(name), version))
        return self.get(name, version=version)

    def archive(self, name: str, version: str | None = None) -> None:
        self._set_archived(name, version, True)

    def restore(self, name: str, version: str | None = None) -> None:
        self._set_archived(name, version, False)

    def _set_archived(self, name: str, version: str | None, archived: bool) -> None:
        target = self.get(name, version=version)  # unknown -> ResolveError
        key = self._key(name)
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

    # ---- download ---------------------------------------------------------------------------------
    def download(self, name: str, version: str | None, download_path: str | Path, *,
                 quiet: bool = False) -> Path:
        """Copy the model's files to ``<download_path>/<name>/<basename>``; returns that path."""
        model = self.get(name, version=version)
        source = self.resolver.resolve(self.reference(model.name or name, model.version or ""))
        basename = source.path.rstrip("/").rsplit("/", 1)[-1] or name
        target = Path(download_path).expanduser().resolve() / (model.name or name) / basename
        from runner.fetch import fetch

        return fetch(source.fs, source.path, target, is_file=source.kind is PathKind.FILE, quiet=quiet)


def copy_tree(src_fs: AbstractFileSystem, src: str, dst_fs: AbstractFileSystem, dst: str) -> int:
    """Stream a file or folder from one filesystem to another in 8 MiB chunks; returns bytes copied."""
    try:
        if src_fs.isdir(src):
            pairs = [(f, f"{dst}/{f[len(src.rstrip('/')):].lstrip('/')}")
                     for f in sorted(src_fs.find(src, withdirs=False))]
            if not pairs:
                dst_fs.makedirs(dst, exist_ok=True)
        else:
            pairs = [(src, dst)]
        total = 0
        for src_file, dst_file in pairs:
            parent = dst_file.rsplit("/", 1)[0]
            if parent:
                dst_fs.makedirs(parent, exist_ok=True)
            with src_fs.open(src_file, "rb") as reader, dst_fs.open(dst_file, "wb") as writer:
                while chunk := reader.read(CHUNK):
                    writer.write(chunk)
                    total += len(chunk)
        return total
    except Exception as exc:  # fsspec backends raise OSError and SDK-specific errors
        raise StorageError(f"copying {src} to {dst} failed: {type(exc).__name__}: {exc}") from exc


def _move_into_place(copy_from: tuple[AbstractFileSystem, str, str, str], name: str, version: str) -> str:
    """Move the staged copy to ``LocalUpload/<name>/<version>/`` (a rename on a local datastore; a
    server-side copy per file on object stores, which have no folder rename)."""
    fs, staging, root, basename = copy_from
    relative = f"LocalUpload/{name}/{version}"
    final_dir = f"{root.rstrip('/')}/{relative}"
    try:
        if fs.exists(final_dir):  # left by a process that died before committing: unreferenced
            fs.rm(final_dir, recursive=True)
        if isinstance(fs, LocalFileSystem):
            fs.makedirs(final_dir.rsplit("/", 1)[0], exist_ok=True)
            fs.mv(staging, final_dir, recursive=True)
        else:
            sources = sorted(fs.find(staging, withdirs=False))
            targets = [f"{final_dir}/{src[len(staging):].lstrip('/')}" for src in sources]
            fs.copy(sources, targets)
            fs.rm(staging, recursive=True)
    except Exception as exc:  # fsspec backends raise OSError and SDK-specific errors
        raise StorageError(f"storing model '{name}' version {version} in the default datastore failed: "
                           f"{type(exc).__name__}: {exc}") from exc
    return str(DatastorePath(DEFAULT_DATASTORE, f"{relative}/{basename}"))


def _base_dir(model: Model) -> Path | None:
    return Path(model.base_path) if model.base_path else None


def _check_kind(model: Model, source: ResolvedPath) -> None:
    if model.type == AssetType.MLFLOW_MODEL.value:
        if source.kind is not PathKind.FOLDER:
            raise RegistryError(f"an mlflow_model must be a folder with an MLmodel file; '{model.path}' is "
                                "a file", hint="point path at the MLflow model folder, or use "
                                               "--type custom_model for a single file")
        if not source.fs.exists(f"{source.path.rstrip('/')}/MLmodel"):
            raise RegistryError(f"'{model.path}' has no MLmodel file, so it is not an mlflow_model",
                                hint="point path at the folder MLflow saved (it contains MLmodel), or use "
                                     "--type custom_model")
    if model.type == AssetType.TRITON_MODEL.value and source.kind is not PathKind.FOLDER:
        raise RegistryError(f"a triton_model must be a folder (a Triton model repository); "
                            f"'{model.path}' is a file", hint="point path at the model repository folder")


def _refuse_immutable_changes(current: Model, new: Model) -> None:
    for field in _IMMUTABLE:
        old_value, new_value = getattr(current, field), getattr(new, field)
        if field == "path" and new_value != old_value and str(parse_path(new_value or "")) == old_value:
            continue
        if (old_value or None) != (new_value or None):
            raise _immutable_error(field, current.name or "")


def _immutable_error(field: str, name: str) -> RegistryError:
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

