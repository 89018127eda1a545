"""Resolve typed path references against the workspace: every path format -> ``ResolvedPath``.

    resolver = Resolver(workspace)
    rp = resolver.resolve("azureml://datastores/workspaceblobstore/paths/models/m1", base_dir=None)
    rp.fs, rp.path, rp.kind, rp.url, rp.env, rp.cache_key
    out = resolver.resolve_output(None, job_name="j1", output_name="model", base_dir=None)

| reference                                   | resolves through                                     |
|---------------------------------------------|------------------------------------------------------|
| local relative / absolute / file://          | the host filesystem (relative to ``base_dir``)        |
| ``azureml://datastores/<ds>/paths/<p>``      | the datastore's filesystem + root (no ``..`` escape)  |
| ``azureml://jobs/<job>/outputs/<o>[/paths/<p>]``, ``runs:/`` | the job record's ``outputs`` map    |
| ``azureml:<n>:<v>``, ``@latest``, registry models | the model registry (the model's stored path)    |
| ``abfs://``, ``az://``, ``s3://``, ...       | fsspec (abfs/az reuse a matching datastore's credentials) |

``cache_key``: ``model:[<registry>/]<name>:<version>`` for models (immutable; the plan keeps it, see
``runner.jobs.run.resolve_stored_plan``); ``<ds>:<path>:<etag|mtime:size>`` for files; ``None`` for folders
that are not model versions (no cheap content identity).
"""

from __future__ import annotations

import dataclasses
import logging
import posixpath
import re
from pathlib import Path
from typing import Any

import fsspec
from fsspec import AbstractFileSystem

from runner.errors import ResolveError, SpecError, StorageError
from runner.modes import PathKind
from runner.uris import (
    ARTIFACTS,
    DatastorePath,
    FsspecUrl,
    JobOutputPath,
    LocalPath,
    ModelRef,
    PathRef,
    parse_path,
)
from runner.workspace.datastores import AzureDatastore, DatastoreStore, LocalDatastore, join_under_root
from runner.workspace.db import DEFAULT_DATASTORE, Workspace, default_artifacts_uri, default_output_uri
from runner.workspace.environments import EnvironmentStore
from runner.workspace.models import ModelStore
from runner.workspace.resolved import ResolvedPath

logger = logging.getLogger(__name__)



class Resolver:
    """Resolves references for one workspace (cheap; keeps opened datastore filesystems)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.datastores = DatastoreStore(workspace)
        self.environments = EnvironmentStore(workspace)

    # ---- inputs / existing paths ---------------------------------------------------------------
    def resolve(self, ref: PathRef | str, *, base_dir: Path | None = None,
                field: str | None = None) -> ResolvedPath:
        """Resolve an existing file or folder. Raises ``ResolveError`` when it does not exist."""
        resolved = self._locate(_as_ref(ref, field), base_dir=base_dir, field=field)
        if resolved.kind is PathKind.ANY:
            raise ResolveError(f"'{resolved.uri}' does not exist; a path that is read must name an "
                               "existing file or folder", hint=_not_found_hint(resolved), field=field)
        return resolved

    def resolve_output(self, ref: PathRef | str | None, *, job_name: str, output_name: str,
                       base_dir: Path | None = None, field: str | None = None,
                       default_datastore: str = DEFAULT_DATASTORE) -> ResolvedPath:
        """Where an output goes: ``ref``, or Azure's default location (on ``default_datastore``) when
        ``ref`` is None.

        ``kind`` is FILE/FOLDER when the location exists already, ANY otherwise.
        """
        if ref is None:
            ref = DatastorePath(default_datastore, default_output_uri(job_name, output_name)
                                .split("/paths/", 1)[1].strip("/"))
        parsed = _as_ref(ref, field)
        if isinstance(parsed, ModelRef):
            raise SpecError(f"an output cannot be written to a registered model ('{parsed}')",
                            field=field, hint="give the output a path (a datastore or local folder) and "
                                              "set name/version on the output to register it")
        return self._locate(parsed, base_dir=base_dir, field=field)

    def _locate(self, ref: PathRef, *, base_dir: Path | None, field: str | None) -> ResolvedPath:
        if isinstance(ref, LocalPath):
            return self._local(ref, base_dir)
        if isinstance(ref, DatastorePath):
            return self._datastore(ref)
        if isinstance(ref, JobOutputPath):
            return self._job_output(ref, base_dir=base_dir, field=field)
        if isinstance(ref, ModelRef):
            return self._model(ref, field=field)
        return self._fsspec(ref)

    def _local(self, ref: LocalPath, base_dir: Path | None) -> ResolvedPath:
        path = Path(ref.path).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        path = Path(posixpath.normpath(str(path.absolute())))
        fs = fsspec.filesystem("file")
        kind, cache_key = _stat(fs, str(path), "file:")
        return ResolvedPath(uri=str(path), fs=fs, path=str(path), url="file://" + str(path), kind=kind,
                            local_path=path, cache_key=cache_key)

    def _datastore(self, ref: DatastorePath) -> ResolvedPath:
        ds, fs, root = self.datastores.open(ref.datastore)
        fs_path = join_under_root(root, ref.path, datastore=ref.datastore)
        relative = fs_path[len(root.rstrip("/")):].strip("/")
        kind, cache_key = _stat(fs, fs_path, f"{ref.datastore}:{relative}:")
        return ResolvedPath(
            uri=str(DatastorePath(ref.datastore, relative)), fs=fs, path=fs_path, url=ds.url_for(fs_path),
            kind=kind, local_path=Path(fs_path) if isinstance(ds, LocalDatastore) else None,
            cache_key=cache_key, env=ds.env_for_direct(), datastore=ref.datastore)

    def _job_output(self, ref: JobOutputPath, *, base_dir: Path | None, field: str | None) -> ResolvedPath:
        record = self.workspace.get_job(ref.job)  # unknown -> ResolveError listing recent jobs
        location = record.outputs.get(ref.output)
        if location is None and ref.output == ARTIFACTS:
            location = default_artifacts_uri(ref.job)
        if location is None:
            known = ", ".join(sorted(record.outputs)) or "none"
            raise ResolveError(f"job '{ref.job}' has no output named '{ref.output}'; its outputs: {known}",
                               hint=f"use azureml://jobs/{ref.job}/outputs/<one of those>/paths/<p>")
        sub = _relative_inside(ref.path, f"output '{ref.output}' of job '{ref.job}'")
        base_ref = parse_path(location)
        if isinstance(base_ref, JobOutputPath | ModelRef):
            raise ResolveError(f"job '{ref.job}' recorded an unusable location for '{ref.output}': "
                               f"{location}")
        resolved = self._locate(_join_ref(base_ref, sub), base_dir=base_dir, field=field)
        return dataclasses.replace(resolved, job=ref.job)

    def _model(self, ref: ModelRef, *, field: str | None) -> ResolvedPath:
        workspace_models = ModelStore(self.workspace)
        scope = ""  # a registry's model is not the workspace's model of the same name and version
        if ref.registry:  # the registry's local namespace first, then the workspace's models
            try:
                model = ModelStore(self.workspace, registry_name=ref.registry).get(
                    ref.name, version=ref.version, label=ref.label)
                scope = f"{ref.registry}/"
            except ResolveError as in_registry:
                try:
                    model = workspace_models.get(ref.name, version=ref.version, label=ref.label)
                except ResolveError:
                    raise ResolveError(
                        in_registry.message,
                        hint=f"register it there: `runner model create --registry-name {ref.registry} "
                             f"--name {ref.name} --version {ref.version} --path <path>` (or in the "
                             "workspace without --registry-name)") from in_registry
        else:
            model = workspace_models.get(ref.name, version=ref.version, label=ref.label)
        assert model.path is not None and model.version is not None
        resolved = self._locate(parse_path(model.path), base_dir=None, field=field)
        return dataclasses.replace(resolved, model=(model.name or ref.name, model.version),
                                   cache_key=f"model:{scope}{model.name}:{model.version}",
                                   job=model.job_name or resolved.job)

    def _fsspec(self, ref: FsspecUrl) -> ResolvedPath:
        datastore = self.azure_datastore_for(ref.url)
        env: dict[str, str] = {}
        try:
            if datastore is not None:
                _, fs, _root = self.datastores.open(datastore.name)
                path = fs._strip_protocol(ref.url)
                env = datastore.env_for_direct()
            else:
                fs, path = fsspec.core.url_to_fs(ref.url)
        except ImportError as exc:
            protocol = ref.url.split("://", 1)[0]
            raise ResolveError(f"no filesystem is installed for '{protocol}://' ({ref.url})",
                               hint=f"install the fsspec backend for {protocol} (s3fs, gcsfs, adlfs ...)"
                               ) from exc
        except ValueError as exc:
            raise ResolveError(f"cannot open '{ref.url}': {exc}") from exc
        kind, cache_key = _stat(fs, path, f"{ref.url.split('://', 1)[0]}:{path}:")
        local = Path(path) if ref.url.startswith("file://") else None
        return ResolvedPath(uri=ref.url, fs=fs, path=path, url=ref.url, kind=kind, local_path=local,
                            cache_key=cache_key, env=env, datastore=datastore.name if datastore else None)

    def azure_datastore_for(self, url: str) -> AzureDatastore | None:
        """An Azure datastore whose container the abfs/az URL names (to reuse its credentials)."""
        match = re.match(r"^(abfss?|az)://(?P<container>[^/@]+)(@(?P<account>[^./]+)[^/]*)?/", url + "/")
        if not match:
            return None
        for ds in self.datastores.list():
            if isinstance(ds, AzureDatastore) and (ds.container_name or ds.filesystem) == match["container"] \
                    and (not match["account"] or match["account"] == ds.account_name):
                return ds
        return None


def _as_ref(ref: PathRef | str, field: str | None) -> PathRef:
    return parse_path(ref, field=field) if isinstance(ref, str) else ref


def _relative_inside(path: str, what: str) -> str:
    rel = path.strip("/")
    normalized = posixpath.normpath(rel) if rel else ""
    if normalized == ".." or normalized.startswith("../"):
        raise ResolveError(f"path '{path}' escapes {what}", hint="remove the '..' segments")
    return "" if normalized == "." else normalized


def _join_ref(base: PathRef, sub: str) -> PathRef:
    if not sub:
        return base
    if isinstance(base, DatastorePath):
        return DatastorePath(base.datastore, f"{base.path.rstrip('/')}/{sub}".strip("/"))
    if isinstance(base, LocalPath):
        return LocalPath(f"{base.path.rstrip('/')}/{sub}")
    return FsspecUrl(f"{str(base).rstrip('/')}/{sub}")


def _stat(fs: AbstractFileSystem, path: str, key_prefix: str) -> tuple[PathKind, str | None]:
    """(kind, cache key) of ``path``; ANY when it does not exist."""
    try:
        info: dict[str, Any] = fs.info(path)
    except FileNotFoundError:
        return PathKind.ANY, None
    except OSError as exc:
        raise StorageError(f"cannot read '{path}': {exc}", hint="check the datastore's credentials "
                                                                 "and that the service is reachable") from exc
    except Exception as exc:  # azure/http errors from adlfs that are not OSError
        raise StorageError(f"cannot read '{path}': {type(exc).__name__}: {str(exc)[:200]}",
                           hint="check the datastore's credentials and endpoint") from exc
    if info.get("type") == "directory":
        return PathKind.FOLDER, None
    identity = info.get("etag") or info.get("ETag")
    if not identity:
        mtime = info.get("mtime") or info.get("last_modified") or info.get("LastModified") or ""
        identity = f"{mtime}:{info.get('size', '')}"
    return PathKind.FILE, f"{key_prefix}{str(identity).strip(chr(34))}"


def _not_found_hint(resolved: ResolvedPath) -> str:
    """Name the nearest existing parent folder and what it holds."""
    parent = resolved.path.rstrip("/")
    for _ in range(6):
        parent = posixpath.dirname(parent)
        if not parent or parent == "/":
            break
        try:
            names = sorted(posixpath.basename(p.rstrip("/")) for p in resolved.fs.ls(parent, detail=False))
        except Exception:  # noqa: BLE001 - only for the hint; keep walking up
            continue
        shown = ", ".join(names[:15]) + (" ..." if len(names) > 15 else "") if names else "nothing"
        return f"check the path{_relative_note(resolved)}; the nearest existing folder '{parent}' " \
               f"contains: {shown}"
    if resolved.uri.startswith("azureml://"):
        return "check the path on the datastore; if a job writes it, run that job first"
    return f"check the path{_relative_note(resolved)}"


def _relative_note(resolved: ResolvedPath) -> str:
    local = resolved.uri.startswith("/")  # a local path (datastore and job paths are azureml:// URIs)
    return (" (relative local paths are relative to the job YAML's folder, or to the current directory "
            "for a job built in Python)") if local else ""
