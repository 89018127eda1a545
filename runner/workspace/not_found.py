"""What a path that is read but does not exist is told (``runner.workspace.resolve``, which imports this
only then): the nearest existing folder and what it holds (a private place of the workspace's: not its
entries), and what a relative local path was relative to.
"""

from __future__ import annotations

import posixpath

from runner.modes import AssetType
from runner.workspace.db import Workspace
from runner.workspace.read_refusals import private_place_at
from runner.workspace.resolved import ResolvedPath

# the input types whose ``azureml:<name>:<version>`` names a data asset (the others name a model)
DATA_ASSET_TYPES = frozenset({AssetType.URI_FILE.value, AssetType.URI_FOLDER.value, AssetType.MLTABLE.value})


def yaml_kind(field: str | None, asset_type: str | None) -> str:
    """What kind of file a relative path was written in: a registered asset's own ``path`` (field
    ``path``, ``runner.workspace.registry``) is a model's or a data asset's, any other one a job's."""
    if field != "path":
        return "job"
    return "data" if asset_type in DATA_ASSET_TYPES else "model"


def not_found_hint(resolved: ResolvedPath, kind: str, workspace: Workspace) -> str:
    """Name the nearest existing parent folder and what it holds (never the workspace's secrets)."""
    parent = resolved.path.rstrip("/")
    for _ in range(6):
        parent = posixpath.dirname(parent)
        if not parent or parent == "/":
            break
        try:
            names = sorted(posixpath.basename(p.rstrip("/")) for p in resolved.fs.ls(parent, detail=False))
        except Exception:  # noqa: BLE001 - only for the hint; keep walking up
            continue
        if posixpath.isabs(parent) and (private := private_place_at(workspace, parent)) is not None:
            return f"check the path; the nearest existing folder '{parent}' is the workspace's private " \
                   f"{private.name}: its entries are not listed"
        shown = ", ".join(names[:15]) + (" ..." if len(names) > 15 else "") if names else "nothing"
        return f"check the path{_relative_note(resolved, kind)}; the nearest existing folder '{parent}' " \
               f"contains: {shown}"
    if resolved.uri.startswith("azureml://"):
        return "check the path on the datastore; if a job writes it, run that job first"
    return f"check the path{_relative_note(resolved, kind)}"


def _relative_note(resolved: ResolvedPath, kind: str) -> str:
    """``kind``: the file the path was written in (``job``, ``model``, ``data``: ``yaml_kind``)."""
    local = resolved.uri.startswith("/")  # a local path (datastore and job paths are azureml:// URIs)
    return (f" (relative local paths are relative to the {kind} YAML's folder, or to the current directory "
            f"for a {'data asset' if kind == 'data' else kind} built in Python)") if local else ""
