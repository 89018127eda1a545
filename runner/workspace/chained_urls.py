"""Paths in a chained fsspec URL (``zip://inner::s3://b/a.zip``), put where fsspec reads them.

fsspec opens the path of a chain's first link (``fsspec.core._un_chain``): ``zip://inner/a.txt::...`` is
``inner/a.txt`` inside the archive the next link names. A cache link (``simplecache::``, ``filecache::``,
``blockcache::``: ``runner.fsspec_links.CACHES``) with no path of its own passes the next link's path on, so
``simplecache::s3://b/x`` reads ``s3://b/x``. Appending a sub-path to the end of the whole URL would name
a path inside the archive file itself (``...::s3://b/a.zip/a.txt``), which is never what was meant.

    join_chained("zip://inner::s3://b/a.zip", "a.txt")        # zip://inner/a.txt::s3://b/a.zip
    chained_url("zip://::file:///d/x.zip", "sub/a.txt")       # zip://sub/a.txt::file:///d/x.zip
    chained_url("simplecache::ftp://h:21/d", "/d/a.txt")      # simplecache::ftp://h:21/d/a.txt
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.fsspec_links import CACHES
from runner.workspace.url_hosts import link_options, with_host


def _split(link: str, last: bool) -> tuple[str, str]:
    """A link's (protocol, path): a bare name (``simplecache``) has no path, a plain last link (a local
    path) no protocol."""
    protocol, sep, path = link.partition("://")
    if sep:
        return protocol, path
    return ("", link) if last else (link, "")


def join_chained(url: str, sub: str) -> str:
    """``url`` with ``sub`` (relative, no ``..``) joined into the path fsspec reads."""
    links = url.split("::")
    for index, link in enumerate(links):
        last = index == len(links) - 1
        protocol, path = _split(link, last)
        if not last and not path.strip("/") and protocol in CACHES:
            continue  # a cache with no path of its own reads the next link's
        joined = f"{path.rstrip('/')}/{sub}" if path.rstrip("/") else sub
        links[index] = f"{protocol}://{joined}" if protocol else joined
        return "::".join(links)
    return url  # not reached: the last link always takes it


def chained_url(url: str, fs_path: str, options: Mapping[str, Any] | None = None) -> str:
    """``url`` (a chained datastore's, its storage options ``options``) with ``fs_path``, a path on the
    filesystem it opens, in the link that holds the path: its first link that is no cache (a plain last
    link is this machine's file), with the host that link's filesystem drops from its paths
    (``url_hosts``)."""
    links = url.split("::")
    for index, link in enumerate(links):
        last = index == len(links) - 1
        protocol, _path = _split(link, last)
        if protocol in CACHES and not last:
            continue
        protocol = protocol or "file"
        named = with_host(link, fs_path, link_options(options or {}, protocol, first=index == 0)) or \
            (fs_path if fs_path.startswith(f"{protocol}://") else f"{protocol}://{fs_path}")
        return "::".join([*links[:index], named, *links[index + 1:]])
    return url  # not reached: the last link always takes it
