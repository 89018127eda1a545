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
| the same, for a data asset (uri_file, uri_folder, mltable) | the data assets (the version's stored path) |
| ``wasbs://<c>@<a>.blob.core.windows.net/<p>`` | that account+container's datastore, else anonymous |
| ``https://<a>.blob.core.windows.net/<c>/<p>``  | that account+container's datastore, else anonymous |
| ``abfss://<c>@<a>.dfs.core.windows.net/<p>``  | that account+container's datastore, else anonymous |
| ``abfs://``, ``az://``, ``s3://``, ...       | fsspec (abfs/az reuse a matching datastore's credentials) |

``check``: ``resolve(..., check=False)`` (what ``job validate`` and ``job create`` use) never contacts
storage: it checks the form, local paths (the host's and local datastores') and registry references,
and leaves a remote path's kind ``ANY``; the run resolves again with ``check=True`` and reads the
object, failing with "does not exist", "cannot connect" or "access denied" (``storage_errors``).

``cache_key``: ``model:[<registry>/]<name>:<version>`` for models (immutable; the plan keeps it, see
``runner.jobs.run.resolve_stored_plan``); ``<ds>:<path>:<etag|mtime:size>`` for files (a datastore's
``<ds>`` is ``<name>@<where>``, its endpoint and container or its folder: ``store_identity``; an ftp/sftp
URL's its scheme and host: ``ftp://h:2121/x:...``); ``None`` for folders that are not model versions.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import posixpath
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import ResolveError, SpecError, StorageError
from runner.modes import PathKind
from runner.spec.expressions import expand_output_path
from runner.uris import (
    ARTIFACTS,
    DatastorePath,
    FsspecUrl,
    JobOutputPath,
    LocalPath,
    ModelRef,
    PathRef,
    StorageUrl,
    check_asset_kind,
    parse_path,
)
from runner.url_secrets import without_secrets
from runner.workspace.archive_members import look_in_archive
from runner.workspace.chained_urls import join_chained
from runner.workspace.code_tree import special_kind
from runner.workspace.datastore_kinds import LOCAL_PROTOCOLS
from runner.workspace.datastores import AzureDatastore, DatastoreStore, FsspecDatastore, join_under_root
from runner.workspace.db import DEFAULT_DATASTORE, Workspace, default_artifacts_uri, default_output_uri
from runner.workspace.deferred_fs import planned_datastore
from runner.workspace.environments import EnvironmentStore
from runner.workspace.fsspec_reads import caches_host_files, open_fsspec_url, refuse_fsspec_read
from runner.workspace.resolved import ResolvedPath
from runner.workspace.storage_errors import (
    Failure,
    cannot_connect,
    classify,
    container_of,
    lacks_container,
    no_container,
    storage_error,
    unreachable,
)
from runner.workspace.storage_urls import datastore_for, public_filesystem
from runner.workspace.store_identity import azure_place, store_identity
from runner.workspace.through_file import through_file
from runner.workspace.url_hosts import with_host
from runner.workspace.url_protocols import protocols_hint

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from runner.workspace.assets import AssetStore

logger = logging.getLogger(__name__)

class Resolver:
    """Resolves references for one workspace (cheap; keeps opened datastore filesystems)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.datastores = DatastoreStore(workspace)
        self.environments = EnvironmentStore(workspace)

    # ---- inputs / existing paths ---------------------------------------------------------------
    def resolve(self, ref: PathRef | str, *, base_dir: Path | None = None, field: str | None = None,
                asset_type: str | None = None, check: bool = True) -> ResolvedPath:
        """Resolve an existing file or folder. Raises ``ResolveError`` when it does not exist.

        ``asset_type`` (the input's type) decides whether ``azureml:<name>:<version>`` is a model or a
        data asset."""
        try:
            resolved = self._locate(_as_ref(ref, field), base_dir=base_dir, field=field,
                                    asset_type=asset_type, check=check)
        except StorageError as err:
            if field is None:
                raise
            raise err.located(field, None) from err
        resolved = look_in_archive(resolved, field)  # a member of an archive here: looked up, planning too
        looked = check or resolved.local_path is not None or caches_host_files(resolved.fs)  # _stat looked
        if resolved.kind is PathKind.ANY and looked:
            from runner.workspace.not_found import not_found_hint, yaml_kind  # a failure's only: cold start
            hint = without_secrets(not_found_hint(resolved, yaml_kind(field, asset_type), self.workspace))
            raise ResolveError(f"'{without_secrets(resolved.uri)}' does not exist; a path that is read must "
                               "name an existing file or folder", hint=hint, field=field)
        return resolved

    def resolve_output(self, ref: PathRef | str | None, *, job_name: str, output_name: str,
                       base_dir: Path | None = None, field: str | None = None,
                       default_datastore: str = DEFAULT_DATASTORE, check: bool = True,
                       file: bool = False) -> ResolvedPath:
        """Where an output goes: ``ref``, or Azure's default location (on ``default_datastore``) when
        ``ref`` is None: a folder, or with ``file`` (a ``uri_file`` output) the file named after the
        output in that folder, as Azure ML gives it (``.../paths/azureml/<job>/<output>/<output>``).

        ``kind`` is FILE/FOLDER when the location exists already (and was looked at), ANY otherwise.
        """
        if ref is None:
            folder = default_output_uri(job_name, output_name).split("/paths/", 1)[1].strip("/")
            ref = DatastorePath(default_datastore, f"{folder}/{output_name}" if file else folder)
        elif isinstance(ref, str) and "${{" in ref:
            ref = expand_output_path(ref, job_name=job_name, output_name=output_name,
                                     default_datastore=default_datastore, field=field)
        parsed = _as_ref(ref, field)
        if isinstance(parsed, ModelRef):
            raise SpecError(f"an output cannot be written to a registered model ('{parsed}')",
                            field=field, hint="give the output a path (a datastore or local folder) and "
                                              "set name/version on the output to register it")
        try:
            resolved = self._locate(parsed, base_dir=base_dir, field=field, check=check)
        except StorageError as err:
            if field is None:
                raise
            raise err.located(field, None) from err
        if resolved.local_path is not None and resolved.local_root is None:
            resolved = dataclasses.replace(resolved, local_root=self._local_root_of(resolved.local_path))
        return resolved

    def _local_root_of(self, path: Path) -> Path | None:
        """The root of the (innermost) local datastore that a host path is in, as written: where an
        output given as a host path is written from without following links (None: no datastore)."""
        roots = [Path(root) for ds in self.datastores.list()
                 if (root := ds.host_root(self.workspace.root)) is not None]
        return max((root for root in roots if path.is_relative_to(root)), key=lambda root: len(root.parts),
                   default=None)

    def _locate(self, ref: PathRef, *, base_dir: Path | None, field: str | None,
                asset_type: str | None = None, check: bool = True) -> ResolvedPath:
        if isinstance(ref, LocalPath):
            return self._local(ref, base_dir)
        if isinstance(ref, DatastorePath):
            return self._datastore(ref, check=check, field=field)
        if isinstance(ref, JobOutputPath):
            return self._job_output(ref, base_dir=base_dir, field=field, check=check)
        if isinstance(ref, ModelRef):
            data = check_asset_kind(ref, asset_type, field=field)  # an ID of the other kind: one error
            from runner.workspace.data_assets import DataAssetStore  # a registered version's: cold start
            from runner.workspace.models import ModelStore
            return self._asset(ref, DataAssetStore if data else ModelStore, field=field, check=check)
        if isinstance(ref, StorageUrl):
            return self._storage_url(ref, check=check)
        return self._fsspec(ref, check=check, field=field)

    def _local(self, ref: LocalPath, base_dir: Path | None) -> ResolvedPath:
        path = Path(ref.path).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        path = Path(posixpath.normpath(str(path.absolute())))
        kind, cache_key = _stat(None, str(path), "file:", str(path))
        return ResolvedPath(uri=str(path), fs=None, path=str(path), url="file://" + str(path), kind=kind,
                            local_path=path, cache_key=cache_key)

    def _datastore(self, ref: DatastorePath, *, check: bool, field: str | None = None) -> ResolvedPath:
        ds = self.datastores.get(ref.datastore)
        fs: AbstractFileSystem | None = None  # a local folder's: made on first use (``ResolvedPath``)
        # a local datastore, or an fsspec one on this machine (file://): a host folder, never fsspec's
        # local filesystem (which follows links a job may have left below the root)
        host_root = ds.host_root(self.workspace.root)
        if host_root is not None:
            root = host_root
        else:  # an fsspec chain over this machine's files: guarded before it is opened
            if isinstance(ds, FsspecDatastore):
                refuse_fsspec_read(self.workspace, ds.url, field=field, datastore=ds, path=ref.path)
            ds, fs, root = self.datastores.open(ref.datastore) if check else \
                planned_datastore(self.datastores, ds, field)  # planning: contacts no storage
        fs_path = join_under_root(root, ref.path, datastore=ref.datastore)
        relative = fs_path[len(root.rstrip("/")):].strip("/")
        where = store_identity(ds, self.workspace.root)  # re-registered elsewhere: another key
        kind, cache_key = _stat(fs, fs_path, f"{ref.datastore}@{where}:{relative}:", str(ref), check=check,
                                datastore=ref.datastore)
        return ResolvedPath(
            uri=str(DatastorePath(ref.datastore, relative)), fs=fs, path=fs_path, url=ds.url_for(fs_path),
            kind=kind, local_path=Path(fs_path) if host_root is not None else None,
            local_root=Path(root) if host_root is not None else None,
            cache_key=cache_key, env=ds.env_for_direct(), datastore=ref.datastore)

    def _job_output(self, ref: JobOutputPath, *, base_dir: Path | None, field: str | None,
                    check: bool) -> ResolvedPath:
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
        resolved = self._locate(_join_ref(base_ref, sub), base_dir=base_dir, field=field, check=check)
        return dataclasses.replace(resolved, job=ref.job)

    def _asset(self, ref: ModelRef, store: type[AssetStore[Any]], *, field: str | None,
               check: bool) -> ResolvedPath:
        """A registered model or data version: its stored path, with its identity and lineage."""
        workspace_assets = store(self.workspace)
        scope = ""  # a registry's model is not the workspace's model of the same name and version
        if ref.registry:  # the registry's local namespace first, then the workspace's assets
            try:
                asset = store(self.workspace, registry_name=ref.registry).get(
                    ref.name, version=ref.version, label=ref.label)
                scope = f"{ref.registry}/"
            except ResolveError as in_registry:
                try:
                    asset = workspace_assets.get(ref.name, version=ref.version, label=ref.label)
                except ResolveError:
                    cli, python = store.table.register_there(ref.name, ref.version, ref.registry)
                    raise ResolveError(in_registry.message, hint=cli, python_hint=python) from in_registry
        else:
            asset = workspace_assets.get(ref.name, version=ref.version, label=ref.label)
        assert asset.path is not None and asset.version is not None
        resolved = self._locate(parse_path(asset.path), base_dir=None, field=field, check=check)
        identity = (asset.name or ref.name, asset.version)
        from runner.workspace.data_assets import DataAssetStore  # (imported by _locate already)
        if store is DataAssetStore:  # a data asset's stored path may be a datastore folder that changes
            # (no version cache_key); a registry's version is named by its stored name, ``<registry>/<n>``
            # (lineage, reuse), as a registry model's cache_key is
            return dataclasses.replace(resolved, data=(f"{scope}{identity[0]}", asset.version),
                                       job=asset.job_name or resolved.job)
        return dataclasses.replace(resolved, model=identity, job=asset.job_name or resolved.job,
                                   cache_key=f"model:{scope}{asset.name}:{asset.version}")

    def _storage_url(self, ref: StorageUrl, *, check: bool) -> ResolvedPath:
        """The datastore of the URL's account and container (its credentials and endpoint; shown as
        ``azureml://datastores/<ds>/paths/<p>``), or anonymous access when none matches."""
        datastore = datastore_for(ref, self.datastores.list())
        if datastore is not None:
            return self._datastore(DatastorePath(datastore.name, ref.path), check=check)
        fs, path, env = public_filesystem(ref)
        kind, cache_key = _stat(fs, path, f"{ref.endpoint}/{path}:", ref.written, check=check)  # its account
        return ResolvedPath(uri=ref.written, fs=fs, path=path, url=f"abfs://{path}", kind=kind,
                            cache_key=cache_key, env=env)

    def _fsspec(self, ref: FsspecUrl, *, check: bool, field: str | None = None) -> ResolvedPath:
        datastore = self.azure_datastore_for(ref.url)
        env: dict[str, str] = {}
        try:
            refuse_fsspec_read(self.workspace, ref.url, field=field)  # before fsspec opens anything
            if datastore is not None:
                _, fs, _root = self.datastores.open(datastore.name)
                path = fs._strip_protocol(ref.url)
                env = datastore.env_for_direct()
            else:  # a chain over this machine's file reads it following no link
                fs, path = open_fsspec_url(ref.url, field=field, check=check)  # planning: left closed
        except ImportError as exc:
            protocol = ref.url.rsplit("::", 1)[-1].split("://", 1)[0]  # a chain's storage is its last link
            raise ResolveError(f"no filesystem is installed for '{protocol}://' ({without_secrets(ref.url)})",
                               hint=f"install the fsspec backend for {protocol} (s3fs, gcsfs, adlfs ...)",
                               field=field) from exc
        except ValueError as exc:  # a protocol fsspec does not know: what a path may be
            raise ResolveError(without_secrets(f"cannot open '{ref.url}': {exc}"), hint=protocols_hint(),
                               field=field) from exc
        hosted = with_host(ref.url, path, {})  # ftp/sftp paths drop the host: put back (never a password)
        prefix = f"{ref.url}:" if "::" in ref.url else f"{hosted or ref.url.split('://', 1)[0] + ':' + path}:"
        if datastore is not None:  # its credentials and endpoint: the datastore's place names the key
            prefix = f"{datastore.name}@{store_identity(datastore, self.workspace.root)}:{prefix}"
        elif check and (place := azure_place(fs)):  # no datastore: the account adlfs reads it from
            prefix = f"{place}:{prefix}"
        kind, cache_key = _stat(fs, path, prefix, ref.url, check=check,  # a chain: all of it (which member)
                                datastore=datastore.name if datastore else None)
        local = Path(path) if ref.url.split("://", 1)[0] in LOCAL_PROTOCOLS else None  # local:// too
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
        raise ResolveError(without_secrets(f"path '{path}' escapes {what}"), hint="remove the '..' segments")
    return "" if normalized == "." else normalized


def _join_ref(base: PathRef, sub: str) -> PathRef:
    if not sub:
        return base
    if isinstance(base, DatastorePath):
        return DatastorePath(base.datastore, f"{base.path.rstrip('/')}/{sub}".strip("/"))
    if isinstance(base, LocalPath):
        return LocalPath(f"{base.path.rstrip('/')}/{sub}")
    return FsspecUrl(join_chained(str(base), sub))  # into the link fsspec reads (a chain's first)


def _stat(fs: AbstractFileSystem | None, path: str, key_prefix: str, uri: str, *,
          check: bool = True, datastore: str | None = None) -> tuple[PathKind, str | None]:
    """(kind, cache key) of ``path`` on ``fs`` (None: this machine's filesystem); ANY when it does not
    exist, or when ``check`` is False and ``fs`` is not on this machine (nothing remote is contacted
    then). ``datastore``: the one ``uri`` is read through, which a storage failure's hint names."""
    if fs is not None and not check and not _on_this_machine(fs):
        return PathKind.ANY, None
    if fs is not None and not _on_this_machine(fs) and (why := unreachable(fs)):
        raise cannot_connect(uri, why, datastore=datastore)
    try:
        info: dict[str, Any] = _local_info(path) if fs is None else fs.info(path)
    except Exception as exc:  # fsspec: OSError; adlfs: the Azure SDK's errors as well
        if classify(exc) is Failure.NOT_FOUND:
            if fs is not None and lacks_container(fs, path, exc):  # an answer: said before a job runs
                raise no_container(*container_of(fs, path), datastore) from exc
            return PathKind.ANY, None
        if isinstance(exc, NotADirectoryError):  # runner.db/x: a path below a file, no storage failure
            raise through_file(fs, path, uri) from None
        raise storage_error(exc, uri, datastore=datastore) from exc
    if info.get("type") == "directory":
        return PathKind.FOLDER, None
    if info.get("type") == "other":  # a device, FIFO or socket: reading it may never end (/dev/zero)
        raise ResolveError(f"'{without_secrets(path)}' is {special_kind(info.get('mode'))}, not a file or "
                           "folder", hint="inputs, outputs and models are regular files or folders; copy the "
                                          "data into a file first")
    identity = info.get("etag") or info.get("ETag") or info.get("CRC")  # CRC: a zip member's checksum
    if not identity:
        mtime = info.get("mtime") or info.get("last_modified") or info.get("LastModified") or ""
        identity = f"{mtime}:{info.get('size', '')}"
    return PathKind.FILE, f"{key_prefix}{str(identity).strip(chr(34))}"


def _local_info(path: str) -> dict[str, Any]:
    """What fsspec's ``LocalFileSystem.info`` says of ``path`` that ``_stat`` reads (the same values, so
    the same cache keys), without importing fsspec: a symlink is followed, a dangling one is missing."""
    st = os.stat(path)
    kind = "directory" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
    return {"name": path, "type": kind, "size": st.st_size, "mtime": st.st_mtime, "mode": st.st_mode}


def _on_this_machine(fs: AbstractFileSystem) -> bool:
    """A filesystem whose reads never leave this process's machine (the host's, or one in memory, or a
    cache over one: ``host_cache``'s, which follows no link, so planning sees a link there as a run does)."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    inner = getattr(fs, "fs", None)  # a cache's filesystem
    return bool({"file", "local", "memory"} & set(protocols)) or inner not in (None, fs) and \
        _on_this_machine(inner)
