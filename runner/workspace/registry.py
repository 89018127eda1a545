"""Registering model versions: copying local models in, referencing stored ones, lineage, download.

Rules (``az ml model create``):

- A local file or folder is copied (streamed) into the default datastore at the immutable location
  ``LocalUpload/<name>/<version>/<basename>``; datastore, job, run and URL paths are referenced, and a
  job path records the job as the model's lineage (``job_name``).
- The version auto-increments from 1 when omitted (allocated inside ``BEGIN IMMEDIATE``, so concurrent
  creates get distinct consecutive versions); an existing name + version is refused.
- ``mlflow_model`` must be a folder with an ``MLmodel`` file; ``triton_model`` must be a folder.

Data is written before the row that points at it is committed: a copy goes to a temporary location
first and is moved to its versioned place inside the transaction that inserts the row. The tables,
reads, updates and archive rules are ``runner.workspace.models.ModelStore``'s.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from runner.errors import RegistryError, StorageError
from runner.modes import AssetType, PathKind
from runner.spec.model import Model, check_model_fields
from runner.uris import DatastorePath, LocalPath, ModelRef, parse_path
from runner.workspace.db import DEFAULT_DATASTORE, Workspace, utcnow
from runner.workspace.models import ModelStore, immutable_error
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.transfers import copy_tree, fetch

logger = logging.getLogger(__name__)

_IMMUTABLE = ("path", "type", "properties", "stage", "flavors")


@dataclass(frozen=True)
class FileEntry:
    """One file of a model version: its path inside the version (``/``-separated) and size in bytes."""

    path: str
    size: int


class ModelRegistry(ModelStore):
    """The model store plus registration (``create``) and ``download``."""

    def __init__(self, workspace: Workspace, *, resolver: Resolver | None = None,
                 registry_name: str | None = None) -> None:
        super().__init__(workspace, registry_name=registry_name)
        self.resolver = resolver or Resolver(workspace)

    # ---- create ---------------------------------------------------------------------------------
    def create(self, model: Model) -> Model:
        """Register a new version (``az ml model create``). An existing name + version is refused."""
        check_model_fields(model)
        assert model.name is not None and model.path is not None
        if model.version is not None:
            self._refuse_existing(self.key(model.name), model.version)
        ref = parse_path(model.path, field="path")
        source = self.resolver.resolve(ref, base_dir=_base_dir(model), field="path")
        _check_kind(model, source)
        if isinstance(ref, LocalPath):
            return self._create_copied(model, source)
        stored_path = source.uri if isinstance(ref, ModelRef) else str(ref)
        return self._insert(model, stored_path=stored_path, datastore_uri=source.uri,
                            job_name=source.job or model.job_name)

    def create_or_update(self, model: Model) -> Model:
        """Python's ``create_or_update``: a new version, or a description/tags update of an existing one."""
        check_model_fields(model)
        assert model.name is not None
        if model.version is not None and self.exists(self.key(model.name), model.version):
            current = self.get(model.name, version=model.version)
            _refuse_immutable_changes(current, model)
            return self.update_fields(model.name, model.version, description=model.description,
                                      tags=dict(model.tags))
        return self.create(model)

    def _refuse_existing(self, name: str, version: str) -> None:
        if self.exists(name, version):
            raise RegistryError(f"model '{name}' version {version} exists already; versions are immutable",
                                hint=f"omit --version to get the next version ({self.next_version(name)}), "
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
        key = self.key(model.name)
        with self.workspace.transaction() as conn:
            version = model.version or self.next_version(key, conn)
            if self.exists(key, version, conn):
                raise RegistryError(f"model '{model.name}' version {version} exists already",
                                    hint="omit the version to get the next one")
            if copy_from is not None:
                stored_path = _move_into_place(copy_from, key, version)
                datastore_uri = stored_path
            created = model.model_copy(update={
                "version": version, "path": stored_path, "datastore_uri": datastore_uri,
                "job_name": job_name, "archived": self.ensure_container(conn, key),
                "created_at": utcnow(), "base_path": None})
            self.insert_version(conn, created, source=model.path)
        logger.info("registered model %s:%s at %s", created.name, version, stored_path)
        return created

    # ---- files ------------------------------------------------------------------------------------
    def files(self, name: str, version: str | None = None, *, limit: int = 1000
              ) -> tuple[list[FileEntry], bool]:
        """The version's files with their sizes, in path order, at most ``limit`` of them (read from
        its storage, folder by folder); the flag says whether there were more."""
        model = self.get(name, version=version)
        source = self.resolver.resolve(self.reference(model.name or name, model.version or ""))
        root = source.path.rstrip("/")
        try:
            if source.kind is PathKind.FILE:
                info = source.fs.info(source.path)
                return [FileEntry(root.rsplit("/", 1)[-1], int(info.get("size") or 0))], False
            found: list[FileEntry] = []
            for _folder, _dirs, files in source.fs.walk(root, detail=True):
                for entry in sorted(files.values(), key=lambda e: str(e["name"])):
                    if len(found) == limit:
                        return sorted(found, key=lambda f: f.path), True
                    relative = str(entry["name"]).rstrip("/")[len(root):].lstrip("/")
                    found.append(FileEntry(relative, int(entry.get("size") or 0)))
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot list the files of model '{name}' version {model.version} at "
                               f"{source.uri}: {exc}", hint="check the datastore it is stored on") from exc
        return sorted(found, key=lambda f: f.path), False

    # ---- download ---------------------------------------------------------------------------------
    def download(self, name: str, version: str | None, download_path: str | Path, *,
                 quiet: bool = False) -> Path:
        """Copy the model's files to ``<download_path>/<name>/<basename>``; returns that path."""
        model = self.get(name, version=version)
        source = self.resolver.resolve(self.reference(model.name or name, model.version or ""))
        basename = source.path.rstrip("/").rsplit("/", 1)[-1] or name
        target = Path(download_path).expanduser().resolve() / (model.name or name) / basename
        return fetch(source.fs, source.path, target, is_file=source.kind is PathKind.FILE, quiet=quiet)


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
                                "a file", field="path", hint="point path at the MLflow model folder, or use "
                                                             "--type custom_model for a single file")
        if not source.fs.exists(f"{source.path.rstrip('/')}/MLmodel"):
            raise RegistryError(f"'{model.path}' has no MLmodel file, so it is not an mlflow_model",
                                field="path", hint="point path at the folder MLflow saved (it contains "
                                                   "MLmodel), or use --type custom_model")
    if model.type == AssetType.TRITON_MODEL.value and source.kind is not PathKind.FOLDER:
        raise RegistryError(f"a triton_model must be a folder (a Triton model repository); "
                            f"'{model.path}' is a file", field="path",
                            hint="point path at the model repository folder")


def _refuse_immutable_changes(current: Model, new: Model) -> None:
    for field in _IMMUTABLE:
        old_value, new_value = getattr(current, field), getattr(new, field)
        if field == "path" and new_value != old_value and str(parse_path(new_value or "")) == old_value:
            continue
        if (old_value or None) != (new_value or None):
            raise immutable_error(field, current.name or "")

