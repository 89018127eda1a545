"""What the UI may serve (list, download, register from the form) from a folder on this machine.

A local datastore is a folder its owner configured, and it may be a wide one (a home folder). Anyone who
can open connections on this machine can use the UI (docs/guides/web-ui.md, Security), so through a
datastore the UI never serves:

- the workspace's secrets (datastore keys, SAS tokens) or its database and sqlite's journals, judged by
  real paths: a datastore over the folder that holds them does not reach them;
- a place reached through a link below a local datastore's root that leads out of that datastore's own
  folder (``runner.workspace.outbound_links``: a job may have left one, a home folder may hold one): the
  UI would serve whatever it points to. The Register form also refuses a folder that holds such a link.

A link inside a folder served for download is never followed anyway (``runner.workspace.transfers``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from runner.errors import SpecError
from runner.workspace.db import Workspace
from runner.workspace.outbound_links import LocalRoot, OutboundLink, outbound_link
from runner.workspace.private_sources import private_places
from runner.workspace.protect import overlaps
from runner.workspace.read_refusals import local_roots
from runner.workspace.resolved import ResolvedPath
from runner.workspace.trees import iter_entries

FIX = "copy the files it should serve into the datastore's own folder instead of a link"


def unserved_why(workspace: Workspace, source: ResolvedPath, *, walk: bool = False) -> str | None:
    """Why the UI may not serve ``source`` (None when it may); ``walk``: look at every link in a folder
    too (the Register form: a version is served whole)."""
    if source.local_path is None:
        return None
    where = os.path.realpath(source.local_path)
    for private in private_places(workspace):
        there = os.path.realpath(private)
        if overlaps(where, there):
            return (f"'{source.uri}' reaches the workspace's {private.name} ({there}), which hold its "
                    "datastores' credentials and records: the UI never serves them")
    roots = local_roots(workspace)
    found = outbound_link(str(source.local_path), roots)
    if found is None and walk and os.path.isdir(where) and not os.path.islink(source.local_path):
        found = _link_out_below(source.local_path, roots)
    return None if found is None else (
        f"'{source.uri}' goes through the link {found.place} -> {found.target}, which leads out of local "
        f"datastore '{found.datastore}' ({found.root}) to {found.leads_to}: the UI serves only what a "
        "datastore's folder holds")


def _link_out_below(folder: Path, roots: Mapping[str, LocalRoot]) -> OutboundLink | None:
    """The first link below ``folder`` (walked without following one, at any depth) that leads out of
    the local datastore it lies in."""
    try:
        for _rel, entry in iter_entries(folder):
            if entry.is_symlink() and (found := outbound_link(entry.path, roots)) is not None:
                return found
    except OSError:
        return None  # unreadable: the copy or download that follows says so
    return None


def refuse_unserved(workspace: Workspace, source: ResolvedPath, *, field: str = "path",
                    walk: bool = False) -> None:
    """``unserved_why`` as one ``SpecError`` on ``field``."""
    why = unserved_why(workspace, source, walk=walk)
    if why:
        raise SpecError(why, field=field, hint=FIX)

