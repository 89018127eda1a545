"""A member of an archive on this machine (``zip://<member>::file:///<archive>``, ``tar://``, a cache around
or over the archive; an archive datastore's ``zip://::file:///<archive>``) looked up when a job is planned
(``job validate``, ``job create``), so a missing one is said then, naming the archive and what it holds,
as the run says it. The resolver opened the archive already (``host_cache.open_host_chain``: no link on
its path followed, read from that one open file), so the lookup reads its listing and contacts nothing.
An archive elsewhere (``zip://a::s3://b/d.zip``) is looked in only when the job runs, as any remote path.

    resolved = look_in_archive(resolved, "inputs.d.path")   # kind FILE/FOLDER, or one ResolveError
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import Any

from runner.errors import ResolveError
from runner.modes import PathKind
from runner.uris import CACHES, HOST_PROTOCOLS, WRAPPERS, fsspec_protocols, without_password
from runner.workspace.resolved import ResolvedPath

ARCHIVES = WRAPPERS - CACHES  # zip, tar, libarchive: links that read a file as a tree of members
_SHOWN = 15  # names listed in a hint


def archive_here(url: str) -> str | None:
    """The file on this machine that ``url`` reads as an archive (its last link's path), else None."""
    protocols = fsspec_protocols(url)
    if len(protocols) < 2 or protocols[-1] not in HOST_PROTOCOLS or not ARCHIVES & set(protocols[:-1]):
        return None
    last = without_password(url).rsplit("::", 1)[-1]
    return last.split("://", 1)[1] if "://" in last else last


def look_in_archive(resolved: ResolvedPath, field: str | None) -> ResolvedPath:
    """``resolved`` with its kind looked up when it is a member of an archive on this machine that was not
    looked at (planning: ``check=False``); a member that is not there is one ``ResolveError`` naming the
    archive, its hint listing the nearest folder of the archive that is. Any other path as it is."""
    archive = archive_here(resolved.url)
    if archive is None or resolved.kind is not PathKind.ANY or resolved.fs is None:
        return resolved
    member = resolved.path.strip("/")
    try:
        kind = PathKind.FOLDER if resolved.fs.info(member).get("type") == "directory" else PathKind.FILE
    except OSError:  # fsspec's archives: FileNotFoundError
        raise ResolveError(f"'{without_password(resolved.uri)}' does not exist: the archive '{archive}' on "
                           f"this machine holds no '{member}'; a path that is read must name an existing "
                           "file or folder", field=field, hint=_holds(resolved.fs, member)) from None
    return dataclasses.replace(resolved, kind=kind)


def _holds(fs: Any, member: str) -> str:
    """The hint: the archive's nearest folder above ``member`` that is there, and what it holds."""
    parent = member
    while parent:
        parent = posixpath.dirname(parent)
        try:
            if fs.info(parent).get("type") != "directory":
                continue
            names = sorted({posixpath.basename(str(p).rstrip("/")) for p in fs.ls(parent, detail=False)})
        except OSError:
            continue
        shown = ", ".join(names[:_SHOWN]) + (" ..." if len(names) > _SHOWN else "") if names else "nothing"
        where = f"its folder '{parent}'" if parent else "its top level"
        return f"check the member's path inside the archive; {where} holds: {shown}"
    return "check the member's path inside the archive"
