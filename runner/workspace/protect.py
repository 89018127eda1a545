"""Where a job may not write: a registered asset's files (model and data versions), another job's
outputs, the workspace's own folders. Checked when a job is planned, before anything runs, for every
output (any mode).

Paths are compared where they physically are, not as written: every datastore has a ``location``
(``file://<real path>`` or ``azure://<account>/<container>``), so a local path that lies inside a local
datastore, or a second datastore over the same container, cannot write around the check.

    refused = WriteGuard(workspace, datastores).refusal(output, job_name="j1")
"""

from __future__ import annotations

import os
import posixpath

from runner.modes import Mode
from runner.uris import DatastorePath, FsspecUrl, LocalPath, parse_path
from runner.workspace.assets import registered_locations
from runner.workspace.datastores import DatastoreStore
from runner.workspace.db import DEFAULT_DATASTORE, Workspace
from runner.workspace.resolved import ResolvedPath

REFUSAL_HINT = ("write the output somewhere else (or leave out path: for the job's own default location; "
                "upload or rw_mount for a container that holds registered versions), and set name/version "
                "on the output to register a new version")

# the default datastore's folders of job outputs (Azure's layout): each job writes only its own
JOB_OUTPUT_FOLDERS = ("azureml", "ExperimentRun")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def overlaps(a: str, b: str) -> bool:
    """One location is the other or inside it."""
    a, b = a.rstrip("/"), b.rstrip("/")
    return _inside(a, b) or _inside(b, a)


class WriteGuard:
    """Answers "may this job write there?" for one workspace (cheap to build; reads the tables once)."""

    def __init__(self, workspace: Workspace, datastores: DatastoreStore) -> None:
        self.workspace = workspace
        self.roots = {ds.name: ds.location(workspace.root) for ds in datastores.list()}
        self.assets = registered_locations(workspace)

    def location(self, uri: str) -> str | None:
        """Where ``uri`` physically is (None when that cannot be told without I/O: a job reference)."""
        ref = parse_path(uri)
        if isinstance(ref, DatastorePath) and ref.datastore in self.roots:
            relative = posixpath.normpath(ref.path) if ref.path else ""
            return self.roots[ref.datastore] + ("" if relative in ("", ".") else "/" + relative)
        if isinstance(ref, LocalPath) and os.path.isabs(ref.path):
            return "file://" + os.path.realpath(ref.path)
        if isinstance(ref, FsspecUrl):
            return uri.rstrip("/")
        return None

    def refusal(self, output: ResolvedPath, *, job_name: str, mode: Mode | None = None) -> str | None:
        """Why the job may not write to ``output`` in ``mode`` (None when it may). A ``direct`` output on
        a remote store gets credentials for its whole container, so no registered version and no other
        job's outputs may be in that container."""
        where = self.location(output.uri)
        if where is None:
            return None
        container_wide = mode is Mode.DIRECT and output.local_path is None
        if container_wide and output.datastore in self.roots:
            scope = self.roots[output.datastore]
            for asset in self.assets:
                there = self.location(asset.datastore_uri)
                if there is not None and overlaps(scope, there):
                    return (f"a direct output gets credentials for the whole container {scope}, which "
                            f"holds registered {asset.kind} {asset.name}:{asset.version} "
                            f"({asset.datastore_uri}); registered versions are immutable")
            default_root = self.roots.get(DEFAULT_DATASTORE)
            if default_root and overlaps(scope, default_root):
                return (f"a direct output gets credentials for the whole container {scope}, which holds "
                        f"other jobs' outputs ({DEFAULT_DATASTORE}); a job writes only its own")
        for asset in self.assets:
            there = self.location(asset.datastore_uri)
            if there is not None and overlaps(where, there):
                return (f"'{output.uri}' is where registered {asset.kind} {asset.name}:{asset.version} is "
                        f"stored ({asset.datastore_uri}); registered versions are immutable")
        own_ws = "file://" + os.path.realpath(self.workspace.root)
        if _inside(own_ws, where):
            return f"'{output.uri}' holds the workspace ({self.workspace.root})"
        if _inside(where, own_ws) and not any(_inside(where, root) for root in self.roots.values()):
            return f"'{output.uri}' is inside the workspace's own folders ({self.workspace.root})"
        default_root = self.roots.get(DEFAULT_DATASTORE)
        for folder in JOB_OUTPUT_FOLDERS if default_root else ():
            jobs_folder = f"{default_root}/{folder}"
            mine = (f"{jobs_folder}/{job_name}", f"{jobs_folder}/dcid.{job_name}")
            if overlaps(where, jobs_folder) and not any(_inside(where, own) for own in mine):
                return (f"'{output.uri}' is or holds other jobs' outputs ({DEFAULT_DATASTORE}: "
                        f"{folder}/); a job writes only its own")
        return None

