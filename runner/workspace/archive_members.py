"""A member of an archive on this machine (``zip://<member>::file:///<archive>``, ``tar://``, a cache around
or over the archive; an archive datastore's ``zip://::file:///<archive>``) looked up when a job is planned
(``job validate``, ``job create``), so a missing one is said then, naming the archive and what it holds,
as the run says it. The resolver opened the archive already (``host_cache.open_host_chain``: no link on
its path followed, read from that one open file), so the lookup reads its listing and contacts nothing.
An archive elsewhere (``zip://a::s3://b/d.zip``) is looked in only when the job runs, as any remote path.

A file there that is not the archive its link reads (a zip read with ``tar://``, a corrupt or empty file)
is one ``ArchiveNotRead`` when it is opened (``host_cache.open_host_chain``), naming the file and, when its
first bytes say, the link that reads what it is: never tarfile's or zipfile's own error.

    resolved = look_in_archive(resolved, "inputs.d.path")   # kind FILE/FOLDER, or one ResolveError
"""

from __future__ import annotations

import dataclasses
import lzma
import posixpath
import zipfile
from typing import Any

from runner.errors import ResolveError, SpecError
from runner.fsspec_links import CACHES, HOST_PROTOCOLS, WRAPPERS, fsspec_protocols
from runner.modes import PathKind
from runner.uris import without_password
from runner.workspace.resolved import ResolvedPath

ARCHIVES = WRAPPERS - CACHES  # zip, tar, libarchive: links that read a file as a tree of members
_SHOWN = 15  # names listed in a hint
_FORMATS = ("zip:// reads a .zip; tar:// a .tar, .tar.gz, .tar.bz2 or .tar.xz, decompressed by its name's "
            "ending")


def read_errors() -> tuple[type[BaseException], ...]:
    """What reading a file as an archive raises when it is not one (gzip.BadGzipFile and bz2's are
    OSError)."""
    import tarfile  # start-up cost: only when an archive is read, not when a job is planned

    return (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError, OSError)


class ArchiveNotRead(SpecError):
    """The file ``file`` on this machine could not be read as the archive ``protocol`` reads (``head``: its
    first bytes, which may say what it is)."""

    def __init__(self, protocol: str, file: str, reason: BaseException, head: bytes | None) -> None:
        why = str(reason) or type(reason).__name__
        found, advice = _advice(protocol, head)
        said = f": it is {found}" if found else ""
        advice = advice or "check that the file is a whole archive, and name its format in the URL"
        super().__init__(f"the file '{file}' cannot be read as a {protocol} archive ({why}){said}",
                         hint=f"{advice} ({_FORMATS})")
        self.file = file


def _advice(protocol: str, head: bytes | None) -> tuple[str | None, str | None]:
    """What a file's first 512 bytes say it is, and how to read it, as far as they say."""
    if head == b"":
        return "an empty file", None
    head = head or b""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        found, use = "a zip archive", "zip"
    elif head[257:262] == b"ustar":
        if protocol == "tar":  # read as compressed: its name's ending said so
            return "an uncompressed tar archive", "rename it to end .tar (tar:// decompresses by the ending)"
        found, use = "a tar archive", "tar"
    elif head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        if protocol == "tar":  # read as it is named (.tar.gz), or named as uncompressed: no one advice
            return "compressed (gzip, bzip2 or xz)", None
        found, use = "compressed (gzip, bzip2 or xz)", "tar"
    else:
        return None, None
    if use == protocol:  # what it says it is, yet not readable: damaged or cut short
        return f"{found} that is damaged or incomplete", None
    return found, f"read it with {use}:// in place of {protocol}://"


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
