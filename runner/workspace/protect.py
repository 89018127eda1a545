"""Where a job may not write: a registered asset's files (model and data versions), any datastore's
registry upload folders (``LocalUpload/``, ``DataUpload/``: a link left there would take a later
registration's copy wherever it points), any datastore's job folders (``azureml/``, ``ExperimentRun/``
but below the job's own name, ``runner/ray-jobs/``: ``runner.workspace.job_folders``; the default
datastore, a pipeline's ``default_datastore`` and a Ray compute's get jobs' outputs), the workspace's own
state (its secrets, database and journals, ``jobs/``, the cache: whatever of it lies outside a datastore
inside it), whatever datastore holds the workspace (a ``local`` one over $HOME holds the default
~/.local/share/runner), nor a folder that holds the workspace. Checked when a job is planned, before
anything runs, for every output (any mode), again when it starts, and against registered versions once
more before it finalizes (``registered_meanwhile``). What a job may not read:
``runner.workspace.read_refusals``.

Paths are compared where they physically are, not as written: every datastore has a ``location``
(``file://<real path>`` or ``azure://<account>/<container>``), so a local path that lies inside a local
datastore, a second datastore over the same container, an fsspec URL of either (``abfs://``, ``az://``,
``file://``, ``local://``) or a link that an earlier job left in a local datastore cannot write around
the check. A ``direct`` output on the host is bound as its folder (a file's parent), so the folder is
what is checked. A ``direct`` output on a remote store gets credentials for its whole container, so that
container may hold no registered version and be none where runner keeps jobs' outputs: the default
datastore's, a Ray compute's datastore's, one where a recorded job's output lies in a job folder, or one
whose job folder the output itself lies in (``_jobs_container``).

    refused = WriteGuard(workspace, datastores).refusal(output, job_name="j1")
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
from collections.abc import Collection, Iterable, Mapping
from functools import cached_property
from typing import Protocol

from runner.errors import RunnerError, SpecError
from runner.modes import Mode, PathKind
from runner.uris import DatastorePath, FsspecUrl, LocalPath, parse_path
from runner.workspace.asset_places import UPLOAD_FOLDERS, AssetAt, registered_locations
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import DEFAULT_DATASTORE, Workspace
from runner.workspace.job_folders import datastore_words, in_job_folder, job_folders, leads_to
from runner.workspace.outbound_links import inside
from runner.workspace.private_sources import private_places
from runner.workspace.resolved import ResolvedPath

REFUSAL_HINT = ("write the output somewhere else (or leave out path: for the job's own default location; "
                "upload or rw_mount for a container that holds registered versions), and set name/version "
                "on the output to register a new version")
DIRECT_HINT = ("use mode: upload or rw_mount (they write only the output's own path), or a direct output on "
               "another datastore, whose container holds no job's outputs (not the default one, a Ray "
               "compute's or a pipeline's default_datastore)")


def job_folder_hint(datastore: str) -> str:
    return (f"write the output to another path, e.g. azureml://datastores/{datastore}/paths/<something>, or "
            "leave out path: for the job's own default location (azureml/<job>/<output>/)")


JOB_FOLDER_HINT = job_folder_hint(DEFAULT_DATASTORE)
WORKSPACE_HINT = ("point the output below a folder that does not hold the workspace and is not inside it "
                  "(or leave out path: for the job's own default location); to write across the folder that "
                  "holds it, move the workspace out of it first (RUNNER_WORKSPACE or --workspace)")



def _uploader(folder: str) -> str:
    """The noun of the asset kind whose registering copies into ``folder`` (its table's)."""
    from runner.workspace.data_assets import DATA_TABLE  # a refusal's only: costly to import (cold start)
    from runner.workspace.models import MODEL_TABLE
    return next(table.schema.noun for table in (MODEL_TABLE, DATA_TABLE) if table.upload_folder == folder)


def overlaps(a: str, b: str) -> bool:
    """One location is the other or inside it."""
    a, b = a.rstrip("/"), b.rstrip("/")
    return inside(a, b) or inside(b, a)


def _how(where: str, there: str) -> str:
    """How ``where`` overlaps ``there``: it is, lies in or holds it."""
    where, there = where.rstrip("/"), there.rstrip("/")
    return "is" if where == there else "lies in" if inside(where, there) else "holds"


def workspace_state(workspace: Workspace) -> list[tuple[str, str]]:
    """(what it is, location) of the workspace's own state no job writes, each as written and where it
    really is: its secrets, database and journals, jobs' folders, download cache and staging folder."""
    db = workspace.db_path
    named = [("secrets, which hold its datastores' credentials", workspace.secrets_dir),
             *(("database", place) for place in private_places(workspace) if place.name.startswith(db.name)),
             ("jobs/ (other jobs' folders: their code, logs and outputs)", workspace.jobs_dir),
             ("download cache", workspace.cache_dir), ("staging folder", workspace.staging_dir)]
    found = []
    for what, place in named:
        for there in {str(place), os.path.realpath(place)}:
            found.append((what, "file://" + there))
    return found


Refusal = tuple[str, str]  # why the job may not write there, and how to fix it


class WrittenOutput(Protocol):
    """What ``registered_meanwhile`` reads of an output (a plan's ``Binding``)."""

    @property
    def name(self) -> str: ...
    @property
    def mode(self) -> Mode: ...
    @property
    def kind(self) -> PathKind: ...


class WriteGuard:
    """Answers "may this job write there?" for one workspace (cheap to build; reads the tables once)."""

    def __init__(self, workspace: Workspace, datastores: DatastoreStore, *,
                 known: Collection[AssetAt] = (), pending: Iterable[tuple[str, str, str]] = ()) -> None:
        self.workspace = workspace
        self.known = frozenset(known)  # versions checked already (when the job started): left out
        # (job, output, uri) that jobs not recorded yet will hold: a pipeline's, checked before any step runs
        self.pending = tuple(pending)
        self.roots = {ds.name: ds.location(workspace.root) for ds in datastores.list()}
        self.upload_folders = self._upload_folders()
        self.job_folders = job_folders(self.roots)
        self.own = "file://" + os.path.realpath(workspace.root)
        self.state = workspace_state(workspace)
        # datastores inside the workspace (its default one): writable below their roots
        self.inner_roots = [root for root in self.roots.values()
                            if inside(root, self.own) and root != self.own]

    @cached_property
    def assets(self) -> list[AssetAt]:
        """Every registered version but the ``known`` ones, read once when first asked."""
        return [asset for asset in registered_locations(self.workspace) if asset not in self.known]

    @cached_property
    def recorded(self) -> list[tuple[str, str, str, str]]:
        """(job, output, uri, location) of every recorded job's output that lies in a job folder (its
        place there), then of every ``pending`` one, read once when first asked (a ``direct`` output on a
        remote store asks)."""
        with self.workspace.reading() as conn:
            rows = conn.execute("SELECT name, json_extract(record, '$.outputs') AS outputs "
                                "FROM jobs").fetchall()
        held = [(row["name"], (json.loads(row["outputs"] or "{}") or {}).items()) for row in rows]
        held += [(job, [(output, uri)]) for job, output, uri in self.pending]
        found = []
        for job, outputs in held:
            for output, uri in outputs:
                there = None
                with contextlib.suppress(RunnerError, ValueError):
                    there = self.location(uri) if isinstance(uri, str) else None
                if there is not None and in_job_folder(there, self.job_folders):
                    found.append((job, output, uri, there))
        return found

    def _upload_folders(self) -> list[tuple[str, str, str]]:
        """(datastore, folder, location) of every datastore's registry upload folders (where registering a
        local file or folder copies it: ``runner.workspace.registry``); on the host also where the folder
        really is when a link (a job may have left one) makes it lead elsewhere."""
        found = []
        for datastore, root in self.roots.items():
            for folder in UPLOAD_FOLDERS:
                found += [(datastore, folder, place) for place in leads_to(f"{root.rstrip('/')}/{folder}")]
        return found

    def location(self, uri: str) -> str | None:
        """Where ``uri`` physically is (None when that cannot be told without I/O: a job reference). A
        host path is followed through any link it goes through (its real path)."""
        ref = parse_path(uri)
        if isinstance(ref, DatastorePath) and ref.datastore in self.roots:
            relative = posixpath.normpath(ref.path) if ref.path else ""
            root = self.roots[ref.datastore]
            if root.startswith("file://"):  # a link below the root (a job may have made it) is followed
                return "file://" + os.path.realpath(root.removeprefix("file://") + "/" + relative)
            return root + ("" if relative in ("", ".") else "/" + relative)
        if isinstance(ref, LocalPath) and os.path.isabs(ref.path):
            return "file://" + os.path.realpath(ref.path)
        if isinstance(ref, FsspecUrl):
            return _url_location(uri)
        return None

    def _physical(self, output: ResolvedPath) -> str | None:
        """Where a resolved output is: its host path, or its place in a datastore's container when an
        fsspec URL reached it through that datastore (``abfs://<container>/<p>`` and the like)."""
        if output.local_path is not None:
            return "file://" + os.path.realpath(output.local_path)
        root = self.roots.get(output.datastore or "")
        if root is not None and root.startswith("azure://") and isinstance(parse_path(output.uri), FsspecUrl):
            account = root.rsplit("/", 1)[0]  # azure://<account>; the fs path starts with the container
            return account + "/" + posixpath.normpath(output.path.strip("/"))
        return self.location(output.uri)

    def refusal(self, output: ResolvedPath, *, job_name: str, mode: Mode | None = None,
                is_file: bool = False) -> str | None:
        """Why the job may not write to ``output`` in ``mode`` (None when it may)."""
        found = self.explain(output, job_name=job_name, mode=mode, is_file=is_file)
        return found[0] if found else None

    def explain(self, output: ResolvedPath, *, job_name: str, mode: Mode | None = None,
                is_file: bool = False) -> Refusal | None:
        """Why the job may not write to ``output`` in ``mode`` and the hint (None when it may). A
        ``direct`` output on a remote store gets credentials for its whole container, so no registered
        version and no other job's outputs may be in that container; a ``direct`` file output on the host
        is bound as its folder, which is checked as the place written."""
        where = self._physical(output)
        if where is None:
            return None
        if folder := _bound_folder(where, mode, is_file):
            found = self._refusal_at(folder, f"the folder of '{output.uri}' (a direct file output is bound "
                                             f"as its folder, {folder.removeprefix('file://')})", job_name)
            if found:
                return found
        if output.local_path is not None:  # as written too: a link there may lead anywhere
            written = "file://" + os.path.normpath(output.local_path)
            if written != where and (why := self._workspace_refusal(written, f"'{output.uri}'")):
                return why, WORKSPACE_HINT
            if written != where and (why := self._upload_refusal(written, f"'{output.uri}'")):
                return why, REFUSAL_HINT
        if scope := self._container(output, mode):
            if asset := self._registered_at(scope):
                return (f"a direct output gets credentials for the whole container {scope}, which "
                        f"holds registered {asset.kind} {asset.name}:{asset.version} "
                        f"({asset.datastore_uri}); registered versions are immutable", REFUSAL_HINT)
            if why := self._jobs_container(scope, where, output.uri, job_name):  # in a job folder: say so
                return self._job_refusal(where, f"'{output.uri}'", job_name) or (
                    f"a direct output gets credentials for the whole container {scope}, {why}; a job writes "
                    "there only under its own name", DIRECT_HINT)
        return self._refusal_at(where, f"'{output.uri}'", job_name)

    def reach(self, output: ResolvedPath, *, mode: Mode | None = None, is_file: bool = False) -> list[str]:
        """Where writing ``output`` in ``mode`` can change files, as ``explain`` judges it: where it is, a
        ``direct`` file output's folder on the host, a ``direct`` output's remote container. No version may
        overlap them (``version_refusal``; ``runner.workspace.active_writers`` while the job is active)."""
        where = self._physical(output)
        if where is None:
            return []
        return [where, *filter(None, (_bound_folder(where, mode, is_file), self._container(output, mode)))]

    def version_refusal(self, output: ResolvedPath, *, mode: Mode | None = None,
                        is_file: bool = False) -> str | None:
        """Why nothing may be written to ``output`` for the registered versions alone (None: no version
        overlaps what it reaches): what a job checks again right before it finalizes its outputs."""
        places = self.reach(output, mode=mode, is_file=is_file)
        found = (self._asset_refusal(place, f"'{output.uri}'" if place == places[0] else
                                     f"what '{output.uri}' reaches ({place.removeprefix('file://')})")
                 for place in places)
        return next(filter(None, found), None)

    def _jobs_container(self, scope: str, where: str, uri: str, job_name: str) -> str | None:
        """Why container ``scope`` is one where runner keeps jobs' outputs (None: it is not): the default
        datastore's, a Ray compute's datastore's, one ``where`` (the direct output ``uri`` itself) lies in a
        job folder of, or one where a recorded job (not ``job_name``) has an output in a job folder."""
        from runner.workspace.computes import ComputeStore  # a direct output asks: not at a cold start

        default_root = self.roots.get(DEFAULT_DATASTORE)
        if default_root and overlaps(scope, default_root):
            return (f"the default datastore's ({DEFAULT_DATASTORE}), where runner keeps every job's default "
                    "outputs (azureml/<job>/…)")
        for compute in ComputeStore(self.workspace).list():
            root = self.roots.get(compute.datastore)
            if root and overlaps(scope, root):
                return (f"the datastore of Ray compute '{compute.name}' ({compute.datastore}), where runner "
                        "keeps every Ray job's default outputs, artifacts and control files")
        if found := in_job_folder(where, self.job_folders):
            datastore, folder, _ = found
            return (f"and '{uri}' lies in {folder.folder}/ of {datastore_words(datastore)}, where runner "
                    f"keeps {folder.kept}: other jobs' go to that container too")
        for job, output, written, there in self.recorded:
            if job != job_name and inside(there, scope):
                return f"which holds output '{output}' of job '{job}' ({written})"
        return None

    def _container(self, output: ResolvedPath, mode: Mode | None) -> str | None:
        """The container a ``direct`` output on a remote store gets credentials for (None: any other)."""
        remote = mode is Mode.DIRECT and output.local_path is None
        return self.roots.get(output.datastore or "") if remote else None

    def refuse(self, output: ResolvedPath, *, name: str, job_name: str, mode: Mode | None = None,
               is_file: bool = False) -> None:
        """``explain`` as one ``SpecError`` naming output ``name`` (field ``outputs.<name>``: a caller that
        knows the spec points it at the ``path:`` line)."""
        if found := self.explain(output, job_name=job_name, mode=mode, is_file=is_file):
            why, hint = found
            raise SpecError(f"output '{name}' cannot be written there: {why}", field=f"outputs.{name}",
                            hint=hint)

    def _registered_at(self, where: str) -> AssetAt | None:
        """The registered version stored exactly at ``where``, else the nearest one it holds or lies in."""
        found = []
        for asset in self.assets:
            there = self.location(asset.datastore_uri)
            if there is not None and overlaps(where, there):
                found.append((abs(len(there.rstrip("/")) - len(where.rstrip("/"))), asset))
        return min(found, key=lambda pair: pair[0])[1] if found else None

    def _workspace_refusal(self, where: str, what: str) -> str | None:
        """Why nothing may be written at ``where`` (a real location): it holds the workspace, or lies in
        it outside the datastores inside it, or is, holds or lies in its state. A datastore that holds
        the workspace (a local one over $HOME) makes no difference."""
        if inside(self.own, where):
            return (f"{what} holds the workspace ({self.workspace.root}): the job could reach its secrets, "
                    "database and other jobs' folders there")
        if not inside(where, self.own):
            return None
        for state, there in self.state:
            if overlaps(where, there):
                return (f"{what} {_how(where, there)} {there.removeprefix('file://')}, the workspace's "
                        f"{state}; only the runner writes there")
        if any(inside(where, root) for root in self.inner_roots):
            return None
        return (f"{what} is inside the workspace's own folders ({self.workspace.root}), in none of its "
                "datastores; only the runner writes there")

    def _refusal_at(self, where: str, what: str, job_name: str) -> Refusal | None:
        """Why nothing of job ``job_name`` may be written at location ``where`` (``what`` names it)."""
        in_workspace = self._workspace_refusal(where, what)
        if why := self._asset_refusal(where, what):  # named first, as before: the workspace's hint if both
            return why, WORKSPACE_HINT if in_workspace else REFUSAL_HINT
        if in_workspace:
            return in_workspace, WORKSPACE_HINT
        # named as before where both hold: the default datastore's job folders, then the upload folders,
        # then other datastores' job folders
        if found := self._job_refusal(where, what, job_name, default=True):
            return found
        if why := self._upload_refusal(where, what):
            return why, REFUSAL_HINT
        return self._job_refusal(where, what, job_name, default=False)

    def _asset_refusal(self, where: str, what: str) -> str | None:
        """Why not at ``where``: it is, holds or lies in where a registered version is stored."""
        if asset := self._registered_at(where):
            there = self.location(asset.datastore_uri) or ""
            how = {"is": "is", "lies in": "lies in the folder", "holds": "holds the folder"}[
                _how(where, there)]
            return (f"{what} {how} where registered {asset.kind} {asset.name}:{asset.version} is "
                    f"stored ({asset.datastore_uri}); registered versions are immutable")
        return None

    def _job_refusal(self, where: str, what: str, job_name: str, *,
                     default: bool | None = None) -> Refusal | None:
        """Why not at ``where``: it is, holds or lies in a datastore's folder where runner keeps jobs' files
        (``runner.workspace.job_folders``), and not below the job's own name there (whether other jobs
        wrote there yet or not). ``default``: only the default datastore's folders, or only the others'."""
        for datastore, folder, there in self.job_folders:
            if default is not None and (datastore == DEFAULT_DATASTORE) is not default:
                continue
            own = folder.own_place(there, job_name)
            if overlaps(where, there) and not (own and inside(where.rstrip("/"), own)):
                return (f"{what} {_how(where, there)} {folder.folder}/ of {datastore_words(datastore)}, "
                        f"where runner keeps {folder.kept}; {folder.rule()}", job_folder_hint(datastore))
        return None

    def _upload_refusal(self, where: str, what: str) -> str | None:
        """Why nothing may be written at ``where``: it is, holds or lies in a registry upload folder."""
        for datastore, folder, there in self.upload_folders:
            if overlaps(where, there):
                how = "is" if where.rstrip("/") == there else "lies in" if inside(where, there) else "holds"
                return (f"{what} {how} {folder}/ on datastore '{datastore}' ({there}), where "
                        f"registering a {_uploader(folder)} copies its local files; only the registry "
                        "writes there")
        return None


def _bound_folder(where: str, mode: Mode | None, is_file: bool) -> str | None:
    """The folder a ``direct`` file output on the host is bound as (None: any other output)."""
    bound = mode is Mode.DIRECT and is_file and where.startswith("file://")
    return posixpath.dirname(where) if bound else None


def _url_location(url: str) -> str:
    """An fsspec URL's physical location where it names the host (``file://``, ``local://``): the real
    path; any other URL as written (an Azure one reached through a datastore is placed by ``_physical``)."""
    protocol, _, rest = url.partition("://")
    if protocol in ("file", "local"):
        return "file://" + os.path.realpath("/" + rest.lstrip("/"))
    return url.rstrip("/")


def registered_meanwhile(workspace: Workspace, outputs: Iterable[WrittenOutput],
                         resolved: Mapping[str, ResolvedPath], known: Collection[AssetAt],
                         datastores: DatastoreStore | None = None) -> dict[str, str]:
    """The outputs (by name, in their order) that a version registered since ``known`` was read overlaps
    where they write (``WriteGuard.version_refusal``), and why: the write guard's rule against versions,
    checked again right before a job's outputs are written. Each caller reacts its own way: a local run
    does not finalize them there (``OutputSet.close(refused=...)``), a Ray submission raises at the
    output's ``path:`` line."""
    guard = WriteGuard(workspace, datastores or DatastoreStore(workspace), known=known)
    return {out.name: why for out in outputs if (why := guard.version_refusal(
        resolved[out.name], mode=out.mode, is_file=out.kind is PathKind.FILE))}
