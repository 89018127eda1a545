"""What a job may not read: the workspace's secrets and database (``private_read_refusal``), and a host
folder reached through a link that lies in a local datastore and leads out of it
(``outbound_read_refusal``: an earlier job's ``direct`` output may have left it there), checked when the
job is planned and again when it starts. An fsspec chain (or fsspec datastore) over this machine's files
is held to the same two rules for the host file it reads (``refuse_host_read``), before fsspec opens
anything (``runner.workspace.fsspec_reads``, from the resolver). Where a job may not write:
``runner.workspace.protect``.

    refuse_private_read(workspace, "data", resolved)  # SpecError at inputs.data.path, or nothing
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from runner.errors import SpecError
from runner.workspace.datastores import DatastoreStore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.outbound_links import LocalRoot, inside, local_root, outbound_link
from runner.workspace.private_sources import private_places
from runner.workspace.protect import overlaps
from runner.workspace.resolved import ResolvedPath


def private_read_refusal(workspace: Workspace, source: ResolvedPath) -> str | None:
    """Why a job may not read ``source``: a host path that is, holds or lies in the workspace's secrets
    (datastore keys, SAS tokens) or its database, sqlite's journals beside it included (None when it
    may). Judged by the real path, so a link (one an earlier job left in a local datastore too) does not
    get around it."""
    return None if source.local_path is None else _private(workspace, source.uri, source.local_path)


def _private(workspace: Workspace, uri: str, path: str | Path) -> str | None:
    where = os.path.realpath(path)
    for private in private_places(workspace):
        there = os.path.realpath(private)
        if overlaps(where, there):
            return (f"'{uri}' would give the job the workspace's {private.name} ({there}), which hold "
                    "its datastores' credentials and records")
    return None


def private_place_at(workspace: Workspace, path: str | Path) -> Path | None:
    """The private place (secrets, database, journals) that host path ``path`` is or lies in, by its real
    path or, for a place itself, its identity (a bind mount of the secrets folder); None if none. For what
    no message lists: a folder's entries there name the datastores that have credentials."""
    where = os.path.realpath(path)
    for private in private_places(workspace):
        there = os.path.realpath(private)
        if inside(where, there) or _same(where, there):
            return private
    return None


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def local_roots(workspace: Workspace, datastores: DatastoreStore | None = None) -> dict[str, LocalRoot]:
    """Every datastore whose folder is on this machine (a local one, an fsspec ``file://`` one)."""
    roots = {}
    for ds in (datastores or DatastoreStore(workspace)).list():
        location = ds.location(workspace.root)
        if not location.startswith("file://"):
            continue
        configured = ds.path if isinstance(ds, LocalDatastore) else location.removeprefix("file://")
        roots[ds.name] = local_root(os.path.join(workspace.root, configured))  # an absolute one: as is
    return roots


def outbound_read_refusal(workspace: Workspace, source: ResolvedPath,
                          roots: Mapping[str, LocalRoot] | None = None) -> str | None:
    """Why a job may not read ``source``: its host path goes through a link that lies in a local
    datastore and leads out of that datastore's folder (``runner.workspace.outbound_links``); an
    earlier job may have left it there to be given a host folder. None when it may."""
    return None if source.local_path is None else _outbound(workspace, source.uri, source.local_path, roots)


def _outbound(workspace: Workspace, uri: str, path: str | Path,
              roots: Mapping[str, LocalRoot] | None = None) -> str | None:
    found = outbound_link(str(path), local_roots(workspace) if roots is None else roots)
    if found is None:
        return None
    return (f"'{uri}' goes through the link {found.place} -> {found.target}, which leads out of "
            f"local datastore '{found.datastore}' ({found.root}) to {found.leads_to}; a job may have left "
            "it there, and a job reads only what a datastore holds")


OUTBOUND_HINT = ("remove the link, or replace it with the data it should show (a link that stays inside the "
                 "datastore's folder is followed); to read the folder it points to, name that folder as "
                 "the input's path")


PRIVATE_HINT = ("give the job a folder that does not hold the workspace's secrets or database (copy what it "
                "needs elsewhere)")


def refuse_private_read(workspace: Workspace, name: str, source: ResolvedPath) -> None:
    """``private_read_refusal`` and ``outbound_read_refusal`` as one ``SpecError`` naming input ``name``
    (field ``inputs.<name>.path``)."""
    if source.local_path is not None:
        refuse_host_read(workspace, source.uri, source.local_path, f"inputs.{name}.path")


def refuse_host_read(workspace: Workspace, uri: str, path: str | Path, field: str | None) -> None:
    """Both rules for a host path read for ``uri`` (an fsspec chain's archive too), as one ``SpecError``
    on ``field`` (naming its input or output: ``inputs.<name>[.path]``)."""
    for why, hint in ((_private(workspace, uri, path), PRIVATE_HINT),
                      (_outbound(workspace, uri, path), OUTBOUND_HINT)):
        if why:
            raise SpecError(f"{cannot(field)}: {why}", field=field, hint=hint)


def cannot(field: str | None) -> str:
    """``input 'd' cannot be read`` (field ``inputs.d[.path]``), ``output 'o' cannot be written there``,
    else ``the path cannot be read`` (a registration's)."""
    parts = (field or "").split(".")
    kinds = {"inputs": "input", "outputs": "output"}
    named = f"{kinds[parts[0]]} '{parts[1]}'" if len(parts) > 1 and parts[0] in kinds else "the path"
    return f"{named} cannot be {'written there' if parts[0] == 'outputs' else 'read'}"
