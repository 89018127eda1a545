"""Registered command components: name + version assets a pipeline step names as
``component: azureml:<name>:<version>`` (or ``azureml:<name>@latest``).

    store = ComponentStore(workspace)
    record = store.create(load_component_spec("train.yml"))     # az ml component create --file
    spec = store.load("train", version="1")                     # the component, code in its snapshot

Rules (``az ml component create``): the version auto-increments from 1 when omitted; a version is
immutable: creating an existing name + version again with the same content returns it, with other content
is refused. ``runner component create`` (and ``ml_client.components.create_or_update``) without a version
returns the newest version when its content is the same (spec and code snapshot digest), as Azure ML
reuses an identical anonymous component: a CI that registers the same component on every run does not
grow versions. The component's ``code`` (an inline environment's
build context and conda file) is copied into ``<ws>/components/<name>/<version>/`` before its row is
committed, so a registered component keeps running the code it was registered with. A registry reference
(``azureml://registries/<r>/components/<name>/...``) is looked up by name here, as environments are.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.errors import RegistryError, ResolveError, SourceLocation, SpecError
from runner.file_urls import file_path, is_file_form
from runner.lazy_re import on_first_use
from runner.modes import AssetType
from runner.spec.component import CommandComponentSpec, component_from_data
from runner.spec.environment import load_environment_file, local_file
from runner.spec.job import InlineEnvironment
from runner.spec.job_io import LITERAL_TYPES
from runner.spec.validation import did_you_mean
from runner.workspace.code_tree import check_code_tree, copy_code_tree
from runner.workspace.db import Workspace, utc_text, utcnow
from runner.workspace.digests import local_tree_digest
from runner.workspace.environments import EnvironmentStore
from runner.workspace.snapshot_rules import snapshot_rules

_IGNORED_IN_SNAPSHOT = shutil.ignore_patterns(".git", "__pycache__")
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
# compiled at first use (``runner.lazy_re``): a pipeline whose components are files uses neither
_short_re = on_first_use(rf"^azureml:(?P<name>{_NAME}?)(?::(?P<ver>{_NAME})|@(?P<label>{_NAME}))?$")
_registry_re = on_first_use(rf"^azureml://registries/{_NAME}/components/(?P<name>{_NAME})"
                            rf"(?:/versions/(?P<ver>{_NAME})|/labels/(?P<label>{_NAME}))?$")


class ComponentRecord(BaseModel):
    """A registered component version: its YAML-ready spec (``code`` points at the stored snapshot)."""

    model_config = ConfigDict(defer_build=True)  # its validator: at first use (a file component: none)

    name: str
    version: str
    spec: dict[str, Any]
    source: str | None = None  # the file it was created from
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    unchanged: bool = Field(default=False, exclude=True)  # create() returned an existing version

    @property
    def reference(self) -> str:
        return f"azureml:{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """What ``component show -o json`` prints: the component's fields, its id and when it was made."""
        inputs = self.spec.get("inputs") or {}
        spec = {**self.spec, "inputs": {k: _shown_input(v) for k, v in inputs.items()},
                "outputs": {k: {"type": "uri_folder", **(v or {})}
                            for k, v in (self.spec.get("outputs") or {}).items()}}
        return {**spec, "name": self.name, "version": self.version, "id": self.reference,
                "creation_context": {"created_at": utc_text(self.created_at)}, "source": self.source}


def yaml_spec(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored spec in the component YAML's terms: an asset input's default path as ``default`` (the
    stored form, the job input model's, holds it as ``path``, which a component file may not write)."""
    inputs = stored.get("inputs") or {}
    return {**stored, "inputs": {k: _shown_input(v) if isinstance(v, dict) and "path" in v else v
                                 for k, v in inputs.items()}}


def _shown_input(value: Any) -> dict[str, Any]:
    """A stored input declaration as the component YAML writes it: always a type (the stored form leaves
    out the default ``uri_folder``), an asset's default path as ``default`` (stored as ``path``)."""
    entry = dict(value) if isinstance(value, dict) else {"default": value}
    literal = entry.get("type") in LITERAL_TYPES or ("path" not in entry and ("value" in entry
                                                                             or "default" in entry))
    default = entry.pop("path", None) if "path" in entry else entry.pop("value", None) if "value" in entry \
        else entry.pop("default", None)
    kind = entry.pop("type", None) or ("uri_folder" if not literal else "boolean" if isinstance(default, bool)
                                       else "integer" if isinstance(default, int)
                                       else "number" if isinstance(default, float) else "string")
    return {"type": kind, **({"default": default} if default is not None else {}), **entry}


def parse_component_ref(text: str) -> tuple[str, str | None] | None:
    """``azureml:<n>:<v>`` / ``azureml:<n>@latest`` / ``azureml:<n>`` / a registry URI -> (name, version);
    None when ``text`` is not a reference (a file)."""
    value = text.strip()
    if not value.startswith("azureml:"):  # (both forms start so) a file
        return None
    match = _short_re().match(value) or _registry_re().match(value)
    if not match:
        raise SpecError(f"'{value}' is not a component reference",
                        hint="use azureml:<name>:<version> or azureml:<name>@latest (or a file path)")
    if match["label"] and match["label"] != "latest":
        raise SpecError(f"unknown label '{match['label']}' in '{value}'", hint="the only label is 'latest'")
    return match["name"], match["ver"]


class ComponentStore:
    """The component versions of a workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def root(self) -> Path:
        return self.workspace.root / "components"

    # ---- create ---------------------------------------------------------------------------------
    def create(self, spec: CommandComponentSpec, *, reuse_newest: bool = False) -> ComponentRecord:
        """Register ``spec`` (see the module docstring for the version rules). With ``reuse_newest``
        (``runner component create``) and no version, the newest version is returned (``unchanged``)
        when it has the same content (spec and code snapshot digest), instead of making the next one."""
        if not spec.name:
            raise SpecError("a component needs a name to be registered", field="name",
                            where=spec.where("name"), hint="add name: <component name>")
        inline_image = isinstance(spec.environment, InlineEnvironment) and spec.environment.image
        try:  # checked as a job's environment is (job validate), at the line it is written on
            EnvironmentStore(self.workspace).check(spec.environment, spec.base_dir)
        except (ResolveError, SpecError) as err:
            at = ("environment", "conda_file") if err.field == "environment.conda_file" else \
                ("environment", "image") if inline_image else ("environment",)
            raise err.located(*spec.field_location(*at)) from err
        from runner.workspace.trees import remove_tree  # start-up cost (mounts): only to register

        staging = self.root / f".incoming-{uuid.uuid4().hex}"
        try:
            data = _snapshot(spec, staging)
            with self.workspace.transaction() as conn:
                newest = self._newest(conn, spec.name) if reuse_newest and not spec.version else None
                if newest is not None and _same_content(newest.spec, data):
                    return newest.model_copy(update={"unchanged": True})
                version = spec.version or self._next_version(conn, spec.name)
                existing = self._row(conn, spec.name, version)
                if existing is not None:
                    return self._same_or_refuse(existing, data, spec.name, version)
                final = self.root / spec.name / version
                data = _relocate(data, staging, final)
                if final.exists():  # left by a process that died before committing: unreferenced
                    remove_tree(final)  # any depth, no link followed
                final.parent.mkdir(parents=True, exist_ok=True)
                staging.rename(final)
                record = ComponentRecord(name=spec.name, version=version, spec=data,
                                         source=str(spec.source) if spec.source else None)
                conn.execute(
                    "INSERT INTO components (name, version, version_num, spec, source, description, "
                    "archived, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    (record.name, version, int(version) if version.isdigit() else None, json.dumps(data),
                     record.source, spec.description, record.created_at.isoformat()))
            return record
        finally:
            remove_tree(staging)  # a snapshot can nest deeper than Python's recursion limit

    def _same_or_refuse(self, existing: ComponentRecord, data: dict[str, Any], name: str,
                        version: str) -> ComponentRecord:
        if _same_content(existing.spec, data):
            return existing.model_copy(update={"unchanged": True})
        raise RegistryError(f"component '{name}' version {version} exists already with other content; "
                            "versions are immutable",
                            hint=f"omit the version to get the next one ({self.next_version(name)}), or "
                                 "give another --version",
                            python_hint="leave version unset to get the next one "
                                        f"({self.next_version(name)}), or give another version=")

    def next_version(self, name: str) -> str:
        with self.workspace.reading() as conn:
            return self._next_version(conn, name)

    @staticmethod
    def _next_version(conn: sqlite3.Connection, name: str) -> str:
        row = conn.execute("SELECT max(version_num) FROM components WHERE name = ?", (name,)).fetchone()
        return str((row[0] or 0) + 1)

    @staticmethod
    def _newest(conn: sqlite3.Connection, name: str) -> ComponentRecord | None:
        row = conn.execute("SELECT * FROM components WHERE name = ? ORDER BY coalesce(version_num, 0) DESC, "
                           "created_at DESC LIMIT 1", (name,)).fetchone()
        return _record(row) if row is not None and not row["archived"] else None

    # ---- read -----------------------------------------------------------------------------------
    def _row(self, conn: sqlite3.Connection, name: str, version: str) -> ComponentRecord | None:
        row = conn.execute("SELECT * FROM components WHERE name = ? AND version = ?",
                           (name, version)).fetchone()
        return _record(row) if row is not None else None

    def list(self, name: str | None = None) -> list[ComponentRecord]:
        """Without ``name``: the latest version of each component; with it: its versions, newest first."""
        query = "SELECT * FROM components" + (" WHERE name = ?" if name else "")
        order = " ORDER BY name, coalesce(version_num, 0) DESC, created_at DESC"
        with self.workspace.reading() as conn:
            records = [_record(r) for r in conn.execute(query + order, (name,) if name else ())]
        if name is None:
            latest: dict[str, ComponentRecord] = {}
            for record in records:
                latest.setdefault(record.name, record)
            records = list(latest.values())
        return records

    def get(self, name: str, version: str | None = None) -> ComponentRecord:
        """One version; the newest when ``version`` is None (``@latest``)."""
        versions = self.list(name)
        if not versions:
            names = [r.name for r in self.list()]
            known = ", ".join(names[:30]) or "none are registered in this workspace"
            raise ResolveError(f"unknown component '{name}'{did_you_mean(name, names)}; components: {known}",
                               hint="register it: `runner component create --file <component.yml>`",
                               python_hint="register it: `ml_client.components.create_or_update("
                                           "load_component('<component.yml>'))`")
        if version is None:
            return next((r for r in versions if not r.archived), versions[0])
        for record in versions:
            if record.version == str(version):
                return record
        raise ResolveError(f"component '{name}' has no version {version}; its versions: "
                           + ", ".join(r.version for r in versions),
                           hint=f"use one of those, or azureml:{name}@latest")

    def set_archived(self, name: str, version: str | None, archived: bool) -> None:
        """Archive (or restore) one version, or every version of the component (``version`` None), as
        azure.ai.ml's ``ml_client.components.archive`` / ``restore``; an unknown one is ``get``'s error."""
        self.get(name, version)
        where, args = ("name = ? AND version = ?", (name, version)) if version else ("name = ?", (name,))
        with self.workspace.transaction() as conn:
            conn.execute(f"UPDATE components SET archived = ? WHERE {where}", (int(archived), *args))

    def load(self, name: str, version: str | None = None) -> CommandComponentSpec:
        """The registered component as a spec (its code and build context are the stored snapshot)."""
        record = self.get(name, version)
        return component_from_data(yaml_spec(record.spec), base_dir=self.root / record.name / record.version)


def _snapshot(spec: CommandComponentSpec, staging: Path) -> dict[str, Any]:
    """Copy the code, an inline build context and a conda file into ``staging`` (an environment YAML,
    ``file:<env.yml>``, is registered as what it says); the spec's data pointing there."""
    data = spec.to_yaml_dict()
    data.pop("$schema", None)
    for name, declared in spec.inputs.items():  # a type written out is kept, uri_folder (the default) too:
        kept = (data.get("inputs") or {}).get(name)  # an untyped input takes its binding's (pipeline steps)
        written = getattr(declared, "type", None) if "type" in declared.model_fields_set else None
        if isinstance(kept, dict) and "type" not in kept and isinstance(written, AssetType):
            kept["type"] = written.value
    for name, value in (data.get("inputs") or {}).items():  # a default path: from the component's folder
        if isinstance(value, dict) and isinstance(value.get("path"), str):
            value["path"] = _default_path(spec, name, value["path"])
    code = _local_path(spec, spec.code, "code") if spec.code else None  # refused before anything is made
    staging.mkdir(parents=True)
    if code is not None:
        data["code"] = str(staging / "code")
        _copy(spec.base_dir / code, staging / "code", "code", spec.where("code"))
    environment = data.get("environment")
    if isinstance(environment, str) and is_file_form(environment.strip()):  # an environment YAML
        loaded = load_environment_file(_local_file(spec, environment, "environment").resolve())
        environment = data["environment"] = loaded.model_dump(mode="json", exclude_defaults=True,
                                                              exclude_none=True)
    if isinstance(environment, dict) and isinstance(environment.get("build"), dict):
        build = environment["build"]
        _copy(spec.base_dir / build["path"], staging / "build", "environment.build.path",
              spec.where("environment", "build", "path"))
        build["path"] = str(staging / "build")
    if isinstance(environment, dict) and isinstance(environment.get("conda_file"), str):
        conda = _local_file(spec, environment["conda_file"], "environment", "conda_file")
        _copy(conda, staging / "conda", "environment.conda_file", spec.where("environment", "conda_file"))
        environment["conda_file"] = str(staging / "conda" / conda.name)
    return data


def _local_path(spec: CommandComponentSpec, value: str, *field_path: str) -> str:
    """``value`` with its ``file:`` forms read as a job's (``runner.file_urls``: ``file://localhost/x`` is
    ``/x``, percent-decoded); a file URL naming another host is one ``SpecError`` at the field's line."""
    try:
        return file_path(value, None)
    except SpecError as err:
        raise err.located(*spec.field_location(*field_path)) from None


def _local_file(spec: CommandComponentSpec, value: str, *field_path: str) -> Path:
    """An environment's file (``local_file``: ``file:`` forms read as a job's), from the component's folder;
    a file URL naming another host is one ``SpecError`` at the field's line."""
    try:
        return local_file(value, spec.base_dir, ".".join(field_path))
    except SpecError as err:
        raise err.located(*spec.field_location(*field_path)) from None


def _default_path(spec: CommandComponentSpec, name: str, path: str) -> str:
    """An asset input's default path as registered: a local one (``file:`` forms read as a job's) made
    absolute from the component's folder; a URL or an ``azureml:`` reference as written."""
    if path.startswith("azureml:") or ("://" in path and not is_file_form(path)):
        return path
    return str((spec.base_dir / _local_path(spec, path, "inputs", name, "default")).resolve())


def _copy(source: Path, target: Path, field: str, where: SourceLocation) -> None:
    if source.is_dir():  # any depth, no recursion; a FIFO, a socket, an unreadable file: one SpecError
        try:  # code: left out as a job's snapshot leaves it out (.amlignore, a workspace inside)
            ignore = snapshot_rules(source, keep_out=[target]) if field == "code" else _IGNORED_IN_SNAPSHOT
        except SpecError as err:  # its ignore file cannot be read
            raise err.located(field, where) from None
        copy_code_tree(source, target, field=field, where=where, ignore=ignore)
    elif source.is_file():
        check_code_tree(source, field=field, where=where)  # readable
        target.mkdir(parents=True)
        shutil.copy2(source, target / source.name)
    elif os.path.lexists(source):  # a FIFO, a socket (never opened)
        check_code_tree(source, field=field, where=where)
    else:  # named but not there: exit 1, as a missing input path
        raise ResolveError(f"{field} '{source}' does not exist", field=field, where=where,
                           hint="point it at a folder relative to the component YAML, or create the folder")


def _relocate(data: dict[str, Any], staging: Path, final: Path) -> dict[str, Any]:
    text = json.dumps(data).replace(json.dumps(str(staging))[1:-1], json.dumps(str(final))[1:-1])
    return json.loads(text)  # type: ignore[no-any-return]


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """The spec less its version and the snapshot paths (their files are compared by ``_same_tree``):
    every other field counts, ``environment.build.dockerfile_path`` too."""
    comparable = {k: v for k, v in data.items() if k not in ("code", "version")}
    environment = data.get("environment")
    if isinstance(environment, dict):
        comparable["environment"] = {k: ({n: x for n, x in v.items() if n != "path"} if k == "build"
                                         and isinstance(v, dict) else v)
                                     for k, v in environment.items()
                                     if not (k == "conda_file" and isinstance(v, str))}
    return comparable


def _snapshot_paths(data: dict[str, Any]) -> list[str | None]:
    """Where a stored (or staged) spec's copied files are: code, build context, conda file."""
    environment = data.get("environment")
    env = environment if isinstance(environment, dict) else {}
    build, conda = env.get("build"), env.get("conda_file")
    return [data.get("code"), build.get("path") if isinstance(build, dict) else None,
            conda if isinstance(conda, str) else None]


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return _comparable(old) == _comparable(new) and _same_tree(old, new)


def _same_tree(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The stored snapshot holds the same files (names and bytes) as the new one; a stored path that is
    not a snapshot (a relative conda_file of an older record) never matches."""
    for left, right in zip(_snapshot_paths(old), _snapshot_paths(new), strict=True):
        if (left is None) != (right is None):
            return False
        if left is not None and right is not None and (
                not os.path.isabs(left) or not os.path.exists(left)
                or local_tree_digest(left) != local_tree_digest(right)):
            return False
    return True


def _record(row: sqlite3.Row) -> ComponentRecord:
    return ComponentRecord(name=row["name"], version=row["version"], spec=json.loads(row["spec"]),
                           source=row["source"], archived=bool(row["archived"]),
                           created_at=row["created_at"])
