"""Links that lead out of a local datastore: a job may have left one there to be given a host folder.

A job with a ``direct`` output on a local datastore writes its real folder, so it can make a link there
(``shared/x -> /root``). Another job whose input names that place would be given the folder the link
points to (Docker binds it, a copy or a FUSE view reads it on the host). So a path a job reads is walked
one name at a time, as the kernel does: a link met in a folder that lies in a local datastore must lead
to a place inside that datastore's own folder (judged by real paths, the innermost datastore when they
nest). Links that stay inside keep working (users link folders on purpose), and a datastore's root may
itself be a link (a folder on another disk): the root is the user's configuration, not a job's doing.

    found = outbound_link("/data/ds/shared/x", {"ds": LocalRoot(real="/data/ds", place="/data/ds")})
    found.place, found.target, found.leads_to, found.datastore   # or None
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalRoot:
    """A local datastore's folder: its real path, and where its name is (the configured path, its
    folder's links resolved): a link at ``place`` is the datastore's own root, never refused."""

    real: str
    place: str


@dataclass(frozen=True)
class OutboundLink:
    """A link below ``datastore``'s root that leads out of it."""

    place: str  # where the link is (real folder + its name)
    target: str  # what the link says
    leads_to: str  # the real path it resolves to
    datastore: str
    root: str  # the datastore's real root


def local_root(configured: str) -> LocalRoot:
    """A ``LocalRoot`` from a datastore's configured (absolute) folder."""
    normal = os.path.normpath(configured)
    parent, name = os.path.split(normal)
    return LocalRoot(real=os.path.realpath(normal), place=os.path.join(os.path.realpath(parent), name))


def inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or below it (both as strings, no I/O)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _owner(folder: str, roots: Mapping[str, LocalRoot]) -> str | None:
    """The innermost datastore whose real root holds ``folder`` (a real path)."""
    holding = [(len(root.real), name) for name, root in roots.items() if inside(folder, root.real)]
    return max(holding)[1] if holding else None


def outbound_link(path: str, roots: Mapping[str, LocalRoot]) -> OutboundLink | None:
    """The first link on ``path`` (an absolute host path) that lies in a local datastore and leads out
    of it; None when there is none (a missing name ends the walk: nothing further is followed)."""
    places = {root.place for root in roots.values()}
    current = "/"  # always a real path: every link met is replaced by where it leads
    for name in os.path.normpath(path).strip("/").split("/"):
        if not name:
            continue
        here = os.path.join(current, name)
        try:
            info = os.lstat(here)
        except OSError:
            return None
        if not stat.S_ISLNK(info.st_mode):
            current = here
            continue
        leads_to = os.path.realpath(here)
        owner = _owner(current, roots)
        if owner is not None and here not in places and not inside(leads_to, roots[owner].real):
            try:
                target = os.readlink(here)
            except OSError:
                target = "?"
            return OutboundLink(place=here, target=target, leads_to=leads_to, datastore=owner,
                                root=roots[owner].real)
        current = leads_to
    return None
