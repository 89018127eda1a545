"""Registering asset versions (models, data assets): copying local files in, referencing stored ones,
lineage, download.

Rules (``az ml model create`` / ``az ml data create``):

- A local file or folder is copied (streamed) into the datastore at the immutable location
  ``<upload folder>/<name>/<version>/<basename>`` (``LocalUpload/`` for models, ``DataUpload/`` for data;
  data may name another ``datastore``); datastore, job, run and URL paths are referenced, and a job path
  records the job as the asset's lineage (``job_name``).
- The version auto-increments from 1 when omitted (allocated inside ``BEGIN IMMEDIATE``, so concurrent
  creates get distinct consecutive versions); ``create`` refuses an existing name + version, and
  ``create_or_update`` (``runner model/data create``) takes it given again with the same path, or a local
  path holding what that version's upload holds (``runner.workspace.same_content``), as Azure does.
- ``mlflow_model`` must be a folder with an ``MLmodel`` file; ``triton_model`` must be a folder;
  ``uri_file`` a file, ``uri_folder`` a folder, ``mltable`` a folder with an ``MLTable`` file. Like
  Azure, a data asset's remote path is not read when it is registered (only local paths are checked).

From a folder on this machine, files, folders and links to files are copied; a link to a folder, a
dangling link, a FIFO or a device is one error naming it, and nothing of the workspace's secrets or
database is copied, checked on what the copy opens (``runner.workspace.private_sources``).

Data is written before the row that points at it is committed: a copy goes to a temporary location
first and is moved to its versioned place inside the transaction that inserts the row
(``runner.workspace.staged_copy``). On a folder on this machine (a ``local`` datastore, an ``fsspec`` one
over ``file://``) the copy, the move, the removal of a stale copy and the cleanup follow no link below the
datastore's root (a job's ``direct`` output may have left one): a link on the way fails the registration,
naming it. A path is not referenced while a job that has not ended writes an output at, inside or above
it (``runner.workspace.active_writers``): the job would change the version's files. The tables, reads,
updates and archive rules are ``runner.workspace.assets.AssetStore``'s.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fsspec.implementations.local import LocalFileSystem

from runner.errors import RegistryError, RunnerError, StorageError
from runner.modes import AssetType, PathKind
from runner.spec.data import MLTABLE_FILE, Data, check_data_fields
from runner.spec.model import Model, check_model_fields
from runner.uris import DatastorePath, LocalPath, ModelRef, PathRef, parse_path
from runner.workspace.active_writers import refuse_active_writer
from runner.workspace.assets import AssetStore, E
from runner.workspace.data_assets import DataAssetStore
from runner.workspace.db import DEFAULT_DATASTORE, Workspace, utcnow
from runner.workspace.mlmodel import MLMODEL_FILE, mlmodel_flavors
from runner.workspace.models import ModelStore
from runner.workspace.private_sources import LocalSource, refuse_holding_upload_folder, refuse_private_source
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.same_content import first_difference, on_this_machine
from runner.workspace.staged_copy import StagedCopy
from runner.workspace.transfers import fetch
from runner.workspace.upload_place import refuse_kept_upload_place

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileEntry:
    """One file of an asset version: its path inside the version (``/``-separated) and size in bytes."""

    path: str
    size: int


class AssetRegistry(AssetStore[E]):
    """An asset store plus registration (``create``) and ``download``."""

    immutable: ClassVar[tuple[str, ...]] = ("path", "type", "properties")
    read_from_files: ClassVar[tuple[str, ...]] = ()  # immutable, read from the files when not given
    check_remote: ClassVar[bool] = True  # read a remote path when registering (models; data: no)

    def __init__(self, workspace: Workspace, *, resolver: Resolver | None = None,
                 registry_name: str | None = None) -> None:
        super().__init__(workspace, registry_name=registry_name)
        self.resolver = resolver or Resolver(workspace)

    # ---- what a kind adds -----------------------------------------------------------------------
    def check_fields(self, asset: E) -> None:
        raise NotImplementedError

    def check_source(self, asset: E, source: ResolvedPath) -> None:
        """The kind's rules about what the path holds (a folder with MLmodel, a single file ...)."""

    def upload_datastore(self, asset: E) -> str:
        return DEFAULT_DATASTORE

    def with_read_fields(self, asset: E, source: ResolvedPath) -> E:
        """``asset`` with the ``read_from_files`` fields it was not given, read from its checked files."""
        return asset

    # ---- create ---------------------------------------------------------------------------------
    def create(self, asset: E) -> E:
        """Register a new version. An existing name + version is refused."""
        self.check_fields(asset)
        assert asset.name is not None and asset.path is not None
        if asset.version is not None:
            self._refuse_existing(self.key(asset.name), asset.version)
        try:
            ref = parse_path(asset.path, field="path")
            source = self._source(asset, ref)
            refuse_private_source(self.workspace, source, noun=self.table.schema.noun,
                                  copied=isinstance(ref, LocalPath))
            self.check_source(asset, source)
            asset = self.with_read_fields(asset, source)
        except RunnerError as err:  # about the path: where its YAML wrote it (file:line:col), if it did
            if err.field != "path" or asset.path_where is None:
                raise
            raise err.located("path", asset.path_where) from err
        if isinstance(ref, LocalPath):
            return self._create_copied(asset, source)
        stored_path = source.uri if isinstance(ref, ModelRef) else str(ref)
        return self._insert(asset, stored_path=stored_path, datastore_uri=source.uri,
                            job_name=source.job or asset.job_name, own_job=source.job)

    def _source(self, asset: E, ref: PathRef) -> ResolvedPath:
        base_dir = Path(asset.base_path) if asset.base_path else None
        return self.resolver.resolve(ref, base_dir=base_dir, field="path", asset_type=asset.type,
                                     check=self.check_remote)

    def create_or_update(self, asset: E) -> E:
        """Python's ``create_or_update`` (and ``runner model/data create``): a new version, or an existing
        one given again with the same path or content (an update of description and tags as given, and of
        the kind's ``updatable`` fields given: a re-run that names no stage keeps the one a promotion set)."""
        self.check_fields(asset)
        assert asset.name is not None
        if asset.version is not None and self.exists(self.key(asset.name), asset.version):
            current = self.get(asset.name, version=asset.version)
            self._refuse_immutable_changes(current, asset)
            own = {f: given for f in self.updatable if (given := getattr(asset, f)) is not None}
            return self.update_fields(asset.name, asset.version, description=asset.description,
                                      tags=dict(asset.tags), **own)
        return self.create(asset)

    def _refuse_existing(self, name: str, version: str) -> None:
        if self.exists(name, version):
            noun, cli, following = self.table.schema.noun, self.table.schema.cli, self.next_version(name)
            shown = name[len(self.registry_name) + 1:] if self.registry_name else name  # key() -> its name
            raise RegistryError(f"{noun} '{name}' version {version} exists already; versions are immutable",
                                hint=f"omit --version to get the next version ({following}), "
                                     f"or use `runner {cli} update` to change description/tags",
                                python_hint=f"leave version unset to get the next version ({following}), or "
                                            "change description/tags with `ml_client."
                                            f"{self.table.sdk}.update('{shown}', '{version}', "
                                            "set_values={'description': ...})`")

    def _refuse_immutable_changes(self, current: E, new: E) -> None:
        for field in self.immutable:
            old_value, new_value = getattr(current, field), getattr(new, field)
            if field in self.read_from_files and new_value is None:  # not given: the version's own
                continue
            if field == "path" and new_value != old_value:
                if (why := self._other_path(current, new)) is not None:
                    raise self.immutable_error(field, current.name or "", detail=why)
            elif field != "path" and (old_value or None) != (new_value or None):
                raise self.immutable_error(field, current.name or "")

    def _other_path(self, current: E, new: E) -> str | None:
        """Why ``new.path`` is not the path version ``current`` was registered from (None: it is). A local
        path is that version's when the version is its own upload and holds the same names and bytes (as
        Azure names an upload by its content); any other path when it is the same URL."""
        old, version, ref = current.path or "", current.version, parse_path(new.path or "", field="path")
        if not isinstance(ref, LocalPath):
            given = self._source(new, ref).uri if isinstance(ref, ModelRef) else str(ref)
            same = given.rstrip("/") == old.rstrip("/")
            return None if same else f"version {version} is registered from {old}"
        place = str(DatastorePath(self.upload_datastore(new),
                                  f"{self.table.upload_folder}/{self.key(current.name or '')}/{version}"))
        basename = old[len(place) + 1:]
        if not old.startswith(f"{place}/") or "/" in basename:
            return f"version {version} is registered from {old}, not uploaded from a local path to {place}/"
        source = self._source(new, ref)
        noun = self.table.schema.noun
        refuse_private_source(self.workspace, source, noun=noun, copied=True)
        self.check_source(new, source)
        assert source.local_path is not None
        if source.local_path.name != basename:
            return f"version {version} holds '{basename}', the new path is '{source.local_path.name}'"
        stored = self.resolver.resolve(old, field="path")
        stored, anchor = on_this_machine(stored, self.resolver.datastores)
        why = first_difference(LocalSource(self.workspace, source, noun=noun).files, source.kind, stored,
                               anchor=anchor, shown=basename, given=str(source.local_path))
        if why is None:
            return None
        return f"{source.local_path} differs from what version {version} holds ({why})"

    def _create_copied(self, asset: E, source: ResolvedPath) -> E:
        """Copy a local file/folder into the datastore, then commit the row."""
        assert asset.name is not None and source.local_path is not None
        datastore = self.upload_datastore(asset)
        ds, fs, root = self.resolver.datastores.open(datastore)
        host = ds.host_root(self.workspace.root)
        local_root = host if host is not None else root if isinstance(fs, LocalFileSystem) else None
        if local_root is not None:  # the staging is made there: a source holding it would copy itself
            refuse_holding_upload_folder(source, f"{local_root.rstrip('/')}/{self.table.upload_folder}",
                                         datastore=datastore, datastore_root=local_root,
                                         noun=self.table.schema.noun)
        staged = StagedCopy(fs, root, self.table.upload_folder, f".incoming-{uuid.uuid4().hex}",
                            source.local_path.name, datastore, host=Path(host) if host is not None else None)
        try:  # a copy that fails halfway (a full disk, Ctrl-C, a link) leaves nothing behind either
            # read again as the check read it, each file checked as it is opened: nothing swapped in since
            files = LocalSource(self.workspace, source, noun=self.table.schema.noun).files()
            staged.copy_from(source, files, what=f"copying {self.table.schema.noun} '{self.key(asset.name)}' "
                                                 f"from {source.local_path} into datastore '{datastore}'")
            return self._insert(asset, job_name=asset.job_name, copy_from=staged, source=source.local_path)
        finally:
            staged.discard()

    def _insert(self, asset: E, *, stored_path: str | None = None, datastore_uri: str | None = None,
                job_name: str | None = None, copy_from: StagedCopy | None = None,
                source: Path | None = None, own_job: str | None = None) -> E:
        """The version's row (a copy moved into place first); a reference is refused while a job that has
        not ended writes there (``own_job``: the job it is the output of), checked in the same transaction."""
        assert asset.name is not None
        key = self.key(asset.name)
        with self.workspace.transaction() as conn:
            if copy_from is None and datastore_uri is not None:
                refuse_active_writer(conn, self.workspace, self.resolver, uri=datastore_uri,
                                     noun=self.table.schema.noun, name=asset.name, own_job=own_job)
            version = asset.version or self.next_version(key, conn)
            if self.exists(key, version, conn):
                raise RegistryError(f"{self.table.schema.noun} '{asset.name}' version {version} exists "
                                    "already", hint="omit the version to get the next one")
            if copy_from is not None:  # what is at the place must not be the user's (upload_place)
                refuse_kept_upload_place(conn, noun=self.table.schema.noun, cli=self.table.schema.cli,
                                         place=f"{self.table.upload_folder}/{key}/{version}",
                                         datastore=copy_from.datastore, version=version, name=asset.name,
                                         local_root=copy_from.local_root, source=source)
                stored_path = copy_from.move_into_place(key, version, self.table.schema.noun)
                datastore_uri = stored_path
            try:
                created = asset.model_copy(update={
                    "version": version, "path": stored_path, "datastore_uri": datastore_uri,
                    "job_name": job_name, "archived": self.ensure_container(conn, key),
                    "created_at": utcnow(), "base_path": None, "latest_version": None})
                self.insert_version(conn, created, source=asset.path)
            except BaseException:  # no row, so no copy: nothing may stay behind unreferenced
                if copy_from is not None:
                    copy_from.remove_moved(key, version)
                raise
        logger.info("registered %s %s:%s at %s", self.table.schema.noun, created.name, version, stored_path)
        return created

    def files(self, name: str, version: str | None = None, *, limit: int = 1000
              ) -> tuple[list[FileEntry], bool]:
        """The version's files with their sizes, in path order, at most ``limit`` of them (read from
        its storage, folder by folder); the flag says whether there were more."""
        asset = self.get(name, version=version)
        source = self.resolver.resolve(self.reference(asset.name or name, asset.version or ""),
                                       asset_type=asset.type)
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
            raise StorageError(f"cannot list the files of {self.table.schema.noun} '{name}' version "
                               f"{asset.version} at {source.uri}: {exc}",
                               hint="check the datastore it is stored on") from exc
        return sorted(found, key=lambda f: f.path), False

    # ---- download ---------------------------------------------------------------------------------
    def download(self, name: str, version: str | None, download_path: str | Path, *,
                 quiet: bool = False) -> Path:
        """Copy the version's files to ``<download_path>/<name>/<basename>``; returns that path."""
        asset = self.get(name, version=version)
        source = self.resolver.resolve(self.reference(asset.name or name, asset.version or ""),
                                       asset_type=asset.type)
        basename = source.path.rstrip("/").rsplit("/", 1)[-1] or name
        target = Path(download_path).expanduser().resolve() / (asset.name or name) / basename
        return fetch(source.fs, source.path, target, is_file=source.kind is PathKind.FILE, quiet=quiet)


class NotThatModelType(RegistryError):
    """The files are not a model of the type given (an ``mlflow_model`` without its MLmodel file).
    ``hint`` is ``runner model create``'s (its ``--type``), ``python_hint`` Python's; ``job_hint`` is the
    fix where the model is a job's output, registered when the job ends (``runner.jobs.register``): what
    the job writes there, or the output's ``type``."""

    def __init__(self, message: str, *, hint: str | None = None, python_hint: str | None = None,
                 job_hint: str | None = None) -> None:  # optional: copy.copy (the UI's words) calls cls(msg)
        super().__init__(message, field="path", hint=hint, python_hint=python_hint)
        self.job_hint = job_hint


_MLFLOW_JOB_HINT = ("make the job write the folder MLflow saves (it contains MLmodel) to the output, or set "
                    "the output's `type: custom_model`")


class ModelRegistry(AssetRegistry[Model], ModelStore):
    """The model store plus registration (``create``) and ``download``."""

    immutable = ("path", "type", "properties", "flavors")  # stage is updatable (``ModelStore``)
    read_from_files = ("flavors",)  # an mlflow_model's, from its MLmodel file (``runner.workspace.mlmodel``)

    def check_fields(self, asset: Model) -> None:
        check_model_fields(asset)

    def with_read_fields(self, asset: Model, source: ResolvedPath) -> Model:
        if asset.type != AssetType.MLFLOW_MODEL.value or asset.flavors is not None:
            return asset
        flavors = mlmodel_flavors(source.fs, source.path, shown=asset.path or source.uri)
        return asset if flavors is None else asset.model_copy(update={"flavors": flavors})

    def check_source(self, asset: Model, source: ResolvedPath) -> None:
        if asset.type == AssetType.MLFLOW_MODEL.value:
            if source.kind is PathKind.FILE:
                raise NotThatModelType(f"an mlflow_model must be a folder with an MLmodel file; "
                                       f"'{asset.path}' is a file",
                                       hint="point path at the MLflow model folder, or use --type "
                                            "custom_model for a single file",
                                       python_hint="point path at the MLflow model folder, or give "
                                                   "type=AssetTypes.CUSTOM_MODEL for a single file",
                                       job_hint=_MLFLOW_JOB_HINT)
            if source.kind is PathKind.FOLDER and \
                    not source.fs.exists(f"{source.path.rstrip('/')}/{MLMODEL_FILE}"):
                raise NotThatModelType(f"'{asset.path}' has no MLmodel file, so it is not an mlflow_model",
                                       hint="point path at the folder MLflow saved (it contains MLmodel), or "
                                            "use --type custom_model",
                                       python_hint="point path at the folder MLflow saved (it contains "
                                                   "MLmodel), or give type=AssetTypes.CUSTOM_MODEL",
                                       job_hint=_MLFLOW_JOB_HINT)
        if asset.type == AssetType.TRITON_MODEL.value and source.kind is PathKind.FILE:
            raise RegistryError(f"a triton_model must be a folder (a Triton model repository); "
                                f"'{asset.path}' is a file", field="path",
                                hint="point path at the model repository folder")


class DataRegistry(AssetRegistry[Data], DataAssetStore):
    """The data asset store plus registration (``create``) and ``download``."""

    check_remote = False  # Azure does not read a remote uri_file/uri_folder when registering it

    def check_fields(self, asset: Data) -> None:
        check_data_fields(asset)

    def upload_datastore(self, asset: Data) -> str:
        return asset.datastore or DEFAULT_DATASTORE

    def check_source(self, asset: Data, source: ResolvedPath) -> None:
        if source.kind is PathKind.ANY:  # remote, not read (as Azure)
            return
        if asset.type == AssetType.URI_FILE.value and source.kind is not PathKind.FILE:
            raise RegistryError(f"a uri_file data asset must be a file; '{asset.path}' is a folder",
                                field="path",
                                hint="use --type uri_folder for a folder, or point path at one file",
                                python_hint="give type=AssetTypes.URI_FOLDER for a folder, or point path at "
                                            "one file")
        if asset.type != AssetType.URI_FILE.value and source.kind is not PathKind.FOLDER:
            raise RegistryError(f"a {asset.type} data asset must be a folder; '{asset.path}' is a file",
                                field="path",
                                hint="use --type uri_file for a single file, or point path at its folder",
                                python_hint="give type=AssetTypes.URI_FILE for a single file, or point path "
                                            "at its folder")
        if asset.type == AssetType.MLTABLE.value and \
                not source.fs.exists(f"{source.path.rstrip('/')}/{MLTABLE_FILE}"):
            raise RegistryError(f"'{asset.path}' has no {MLTABLE_FILE} file, so it is not an mltable",
                                field="path",
                                hint="point path at a folder with an MLTable file, or use --type uri_folder",
                                python_hint="point path at a folder with an MLTable file, or give "
                                            "type=AssetTypes.URI_FOLDER")
