"""What an fsspec URL or an fsspec datastore may read, decided before fsspec opens anything (it reads an
archive as it makes its filesystem): the chain as fsspec itself splits it (``fsspec.core._un_chain``) is
held to ``runner.uris.refuse_protocols`` (a cache or an archive wraps a link, this machine's files are the
last one, no ``OPEN_ENDED`` protocol such as ``reference://``, whose JSON names the files it reads), a
datastore's storage options may not name what a link reads (``fo``, ``fs``, ``remote_protocol``), and the
file on this machine a chain reads (an archive; what caches over it read) is guarded as a host path is
(``read_refusals.refuse_host_read``: never the workspace's secrets or database, never through a link out of
a local datastore). The resolver calls it for every path, so a job's inputs are checked when it is planned
and again when it starts, as a registration's path is.

    refuse_fsspec_read(workspace, "zip://a.txt::file:///data/d.zip", field="inputs.d.path")
    refuse_fsspec_read(workspace, ds.url, field="inputs.d.path", datastore=ds, path="sub/a.txt")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.errors import ResolveError, SpecError
from runner.uris import (
    CACHES,
    HOST_PROTOCOLS,
    OPEN_ENDED,
    fsspec_protocols,
    refuse_protocols,
    without_password,
)
from runner.url_secrets import without_secrets
from runner.workspace.datastores import AnyDatastore, FsspecDatastore, join_under_root
from runner.workspace.db import Workspace
from runner.workspace.loopback import refuse_this_machine
from runner.workspace.option_clash import options_clash
from runner.workspace.read_refusals import cannot, refuse_host_read

# storage options that name the file or filesystem a link reads: written in the URL instead, where the
# chain is checked (their values are never shown: storage options may hold secrets)
_NAMING = ("fo", "fs", "remote_protocol")
NAMING_HINT = ("name what it reads in its url as a chain (zip://::<url of the archive>, simplecache::s3://"
               "<bucket>, a file on this machine as file:///<absolute path>), where it is checked, and "
               "remove fo, fs, remote_protocol (and a target_protocol of file or local) from its "
               "storage_options")


def refuse_fsspec_read(workspace: Workspace, url: str, *, field: str | None,
                       datastore: AnyDatastore | None = None, path: str = "") -> None:
    """Before fsspec opens ``url`` (it reads an archive as it makes its filesystem), as one ``SpecError``:
    links that may read what cannot be guarded (``refuse_protocols``, on the chain as fsspec splits it),
    and the file on this machine a chain reads (an archive; what caches over it read) when a job may not
    read it there. ``datastore``: an fsspec one, read at ``path`` below its root with its storage options,
    which may not name what a link reads. An unknown protocol is fsspec's ``ValueError`` (a missing
    backend its ``ImportError``), as opening it would be."""
    import fsspec.core  # only for an fsspec URL or datastore: planning on local paths never imports it

    options: Mapping[str, Any] = datastore.storage_options if isinstance(datastore, FsspecDatastore) else {}
    refuse_this_machine(url, options, field=field, datastore=datastore.name if datastore else None)
    try:
        links = fsspec.core._un_chain(url, dict(options))  # [(path, protocol, options)], outermost first
    except ImportError as exc:  # a backend that is not installed: named by its own protocol
        raise _not_installed(url, datastore.name if datastore else None, field) from exc
    except TypeError as exc:  # the url and the storage options name one option (a host) differently
        raise options_clash(url, exc, datastore=datastore.name if datastore else None, field=field) from None
    uri = f"azureml://datastores/{datastore.name}/paths/{path}" if datastore else url
    targets = [(str(kw["target_protocol"]), protocol) for _, protocol, kw in links if "target_protocol" in kw]
    try:
        refuse_protocols(without_password(url), [protocol for _, protocol, _ in links] +
                         [target for target, _ in targets if target in OPEN_ENDED], field, known=True)
    except SpecError as err:
        if datastore is None:
            raise
        raise SpecError(f"{cannot(field)} through datastore '{datastore.name}': {err.message}",
                        field=field, hint=err.hint) from None
    named = [key for key in _NAMING if any(key in kw for _, _, kw in links)] + [
        "target_protocol" for target, protocol in targets
        if target in HOST_PROTOCOLS and protocol not in CACHES]
    if named:
        where = f"datastore '{datastore.name}'" if datastore else f"'{without_secrets(url)}'"
        raise SpecError(f"{cannot(field)}: {where} names what its links read in its options "
                        f"({', '.join(named)})", field=field, hint=NAMING_HINT)
    if datastore is None and len(links) == 1:
        return  # file://, local://: a host path (``local_path``), guarded by the job or the registry
    for i, (bit, protocol, kw) in enumerate(links):
        if protocol in HOST_PROTOCOLS or kw.get("target_protocol") in HOST_PROTOCOLS:
            cached = all(outer in CACHES for _, outer, _ in links[:i])
            host = links[0][0] if cached else bit  # caches read that path itself; an archive its file
            if cached and datastore:
                host = join_under_root(host, path, datastore=datastore.name)
            refuse_host_read(workspace, uri, host, field)
            return


def open_fsspec_url(url: str, *, field: str | None) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the path on it, once ``refuse_fsspec_read`` passed: a chain over
    this machine's file reads it through ``host_cache.NoLinksOnPath`` (a link on its path, maybe swapped
    in after the check, is one ``SpecError``, and nothing is read through it), any other URL is fsspec's:
    one it cannot make from the URL (an archive elsewhere that is not there, a filesystem that needs
    options a URL does not carry) is one ``ResolveError``."""
    import fsspec.core  # only for an fsspec URL: planning on local paths never imports it

    from runner.workspace.archive_members import ArchiveNotRead  # tarfile, zipfile: for a URL only
    from runner.workspace.host_cache import LinkNotRead, open_host_chain  # with fsspec: for a URL only

    try:
        opened = open_host_chain(url)
    except ArchiveNotRead as exc:  # a zip read with tar://, a corrupt archive: the link that reads it
        raise SpecError(f"{cannot(field)} through '{without_secrets(url)}': {exc.message}", field=field,
                        hint=exc.hint) from None
    except LinkNotRead as exc:
        raise SpecError(f"{cannot(field)}: '{without_secrets(url)}' reads this machine's file through a "
                        f"link: {without_secrets(str(exc))}", field=field,
                        hint=f"name the file by its real path (`realpath {exc.place}`) in the URL's last "
                             "link, or replace the link with the file or folder it names") from None
    except OSError as exc:  # the archive itself: missing, a folder, not readable
        where = without_secrets(exc.filename or url.rsplit("::", 1)[-1])
        what = "does not exist" if isinstance(exc, FileNotFoundError) else \
            f"cannot be opened ({without_secrets(str(exc.strerror or exc))})"
        raise ResolveError(f"{cannot(field)}: the file '{where}' that '{without_secrets(url)}' reads {what}",
                           field=field, hint="check the path in the URL's last link: file:///<absolute path "
                                             "of the file on this machine>") from None
    if opened is not None:
        return opened
    try:
        return fsspec.core.url_to_fs(url)
    except OSError as exc:  # an archive elsewhere (memory://, s3://), read as the filesystem is made
        raise _not_opened(url, exc, field) from None
    except TypeError as exc:  # a filesystem that needs options a URL cannot give (jlab://: its server)
        raise ResolveError(f"{cannot(field)}: '{without_secrets(url)}' cannot be opened from its URL alone "
                           f"({without_secrets(str(exc))})", field=field,
                           hint="its filesystem needs options a URL does not carry: give them as a "
                                "datastore's storage_options (type: fsspec, url: <its URL>, "
                                "storage_options: {...}) and read azureml://datastores/<name>/paths/<path>"
                           ) from None


def _not_opened(url: str, exc: OSError, field: str | None) -> ResolveError:
    """The one error for a URL whose filesystem could not be made: the file a chain's last link names
    (the archive it reads) is missing or unreadable, or the URL's storage could not be opened."""
    shown = without_secrets(url)
    what = "does not exist" if isinstance(exc, FileNotFoundError) else \
        f"cannot be opened ({without_secrets(exc.strerror or str(exc) or type(exc).__name__)})"
    if "::" not in url:
        return ResolveError(f"{cannot(field)}: '{shown}' {what}", field=field,
                            hint="check the URL and that its storage is there")
    last = without_secrets(url.rsplit("::", 1)[-1])
    return ResolveError(f"{cannot(field)}: the file '{last}' that '{shown}' reads {what}",
                        field=field, hint="check the path in the URL's last link: the archive it names must "
                                          "be there (<protocol>://<path of the archive>)")


def caches_host_files(fs: Any) -> bool:
    """Whether ``fs`` is a cache over this machine's files (``host_cache``'s: its filesystem, below any
    caches, is this machine's). The resolver looks at a path there when a job is planned too, so one
    missing is said to be then, as on a local datastore; a cache over a remote store is not looked at."""
    inner = getattr(fs, "fs", None)
    if inner in (None, fs):
        return False
    protocols = inner.protocol if isinstance(inner.protocol, tuple | list) else (inner.protocol,)
    return bool(HOST_PROTOCOLS & set(protocols)) or caches_host_files(inner)


def _not_installed(url: str, datastore: str | None, field: str | None) -> ResolveError:
    """The one error for a link whose fsspec backend is not installed (``zip://...::file://``'s zip, not
    its last link), with fsspec's word on what to install."""
    import fsspec  # only for an fsspec URL or datastore

    for protocol in fsspec_protocols(url):
        try:
            fsspec.get_filesystem_class(protocol)
        except ImportError as exc:
            where = f"datastore '{datastore}'" if datastore else without_secrets(url)
            return ResolveError(f"no filesystem is installed for '{protocol}://' ({where})", field=field,
                                hint=f"install the fsspec backend for {protocol} ({exc})")
        except ValueError:
            continue  # an unknown protocol: fsspec's own error, when it is opened
    return ResolveError(f"no filesystem is installed for '{without_secrets(url)}'", field=field,
                        hint="install the fsspec backends its protocols need (s3fs, gcsfs, adlfs ...)")
