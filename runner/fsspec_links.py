"""fsspec's chain links as the runner holds them (no I/O here): which protocols wrap the next link (a cache,
an archive), which are this machine's files, which read files their content or options name
(``OPEN_ENDED``), a URL's protocols as fsspec splits it (``fsspec_protocols``), and the one refusal of
links that may read what cannot be guarded (``refuse_protocols``). ``runner.uris`` parses paths with
them; datastores' URLs (``runner.workspace``) are held to the same words.
"""

from __future__ import annotations

import re

from runner.errors import SpecError
from runner.reserved_protocols import refuse_reserved
from runner.url_secrets import without_secrets

# fsspec's caching wrappers: ``simplecache::<url>`` reads what ``<url>`` names (keeping a copy aside)
CACHES = frozenset({"simplecache", "filecache", "blockcache", "cached"})
HOST_PROTOCOLS = frozenset({"file", "local"})
# the only links before another in a chain (fsspec hands them the next link: ``fo``, ``target_protocol``)
WRAPPERS = CACHES | {"zip", "tar", "libarchive"}
# fsspec's protocols (``known_implementations``) reading files their content or options name: no path
OPEN_ENDED = {
    "reference": "its references (a JSON file) name the files it reads, on any filesystem (this machine's)",
    "generic": "each of its paths names a filesystem of its own, this machine's too",
    "dir": "it reads below a prefix of another filesystem given in its options",
    "dask": "it reads through a Dask cluster's workers, with a filesystem given in its options",
    **dict.fromkeys(("async_wrapper", "asyncwrapper"), "it wraps a filesystem given in its options"),
    "git": "it reads a git repository on this machine, whatever the repository holds",
    "dvc": "it reads a DVC repository on this machine and the caches its configuration names",
    "asynclocal": "it reads this machine's files around the runner's guard",
}
CHAIN_FORMS = ("an fsspec URL is one storage URL (s3://<bucket>/<key>, abfs://..., file:///<absolute path>), "
               "optionally under a cache (simplecache::, filecache::, blockcache::, cached::) or an archive "
               "(zip://<member>::<url of the archive>, tar://, libarchive://)")


def fsspec_protocols(url: str) -> list[str]:
    """Each link's protocol as fsspec reads it (``fsspec.core._un_chain``); a path is ``file``."""
    found = []
    for link in url.split("::"):
        scheme = link.split("://", 1)[0] if "://" in link else ""
        bare = re.fullmatch(r"[a-z]+", link) or link in WRAPPERS or link in OPEN_ENDED
        found.append(scheme.lower() if len(scheme) > 1 else link if bare else  # one letter: a drive
                     "data" if link.startswith("data:") else "file")
    return found


def refuse_protocols(url: str, protocols: list[str], field: str | None, *, known: bool = False) -> None:
    """One ``SpecError`` for links (``protocols``, as fsspec reads them) that may read what cannot be
    guarded: the runner's own names (``reserved_protocols``), ``OPEN_ENDED`` ones, this machine's files
    before the last link or by a relative path; with ``known`` (each one is fsspec's), a link before the
    last that is no cache or archive."""
    refuse_reserved(url, protocols, field)  # runner-abfs://...: the runner's own names, never a user's
    shown = without_secrets(url)  # a password, a key or a signature in it too
    for protocol in protocols:
        if protocol in OPEN_ENDED:
            raise SpecError(f"'{shown}' uses fsspec's '{protocol}' protocol, which no path may use: "
                            f"{OPEN_ENDED[protocol]}, so what it reads cannot be checked before the job runs",
                            field=field, hint=f"{CHAIN_FORMS}; give the files it would read by their own "
                                              "URLs or paths, or copy them into a folder or datastore")
    for protocol in protocols[:-1]:
        if protocol in HOST_PROTOCOLS:
            raise SpecError(f"'{shown}' has this machine's files (file, local) before its last link",
                            field=field, hint="this machine's files are the last link (zip://<member>::file:///"
                                              "<archive>), or a path of their own: /<path> or file:///<path>")
        if known and protocol not in WRAPPERS:
            raise SpecError(f"'{shown}' has '{protocol}' before its last link; only a cache or an archive "
                            "reads the link after it", field=field, hint=CHAIN_FORMS)
    if len(protocols) > 1 and protocols[-1] in HOST_PROTOCOLS:
        last = url.rsplit("::", 1)[-1]
        path = re.sub(r"^(?:file|local):(?://)?", "", last, flags=re.IGNORECASE)
        if not path.startswith("/"):
            raise SpecError(f"'{shown}' names this machine's file '{without_secrets(last)}' by a relative "
                            "path; a chain's file on this machine is an absolute path", field=field,
                            hint="write file:///<absolute path> (or /<absolute path>) as the last link")
