"""What an fsspec URL or an fsspec datastore may read, decided before fsspec opens anything (it reads an
archive as it makes its filesystem): the chain as fsspec itself splits it (``fsspec.core._un_chain``) is
held to ``runner.fsspec_links.refuse_protocols`` (a cache or an archive wraps a link, this machine's files
are the last one, no ``OPEN_ENDED`` protocol such as ``reference://``, whose JSON names the files it reads), a
datastore's storage options may not name what a link reads (``fo``, ``fs``, ``remote_protocol``), and the
file on this machine a chain reads (an archive; what caches over it read) is guarded as a host path is
(``read_refusals.refuse_host_read``: never the workspace's secrets or database, never through a link out of
a local datastore). The resolver calls it for every path, so a job's inputs are checked when it is planned
and again when it starts, as a registration's path is.

An archive over storage elsewhere (``zip://a.txt::abfs://c/d.zip``, ``tar://``, a cache around or under
it) is read by fsspec as it makes the filesystem, and an ftp:// or sftp:// one connects as it is made: when
a job is planned (``check=False``: ``job validate`` never contacts storage) they are left unmade
(``deferred_fs``); the run opens them with one error for each way that fails (``_open_elsewhere``). A
protocol no fsspec filesystem knows is one error naming the field and the protocols allowed
(``url_protocols``).

    refuse_fsspec_read(workspace, "zip://a.txt::file:///data/d.zip", field="inputs.d.path")
    refuse_fsspec_read(workspace, ds.url, field="inputs.d.path", datastore=ds, path="sub/a.txt")
    fs, path = open_fsspec_url("zip://a.txt::abfs://c/d.zip", field="inputs.d.path", check=False)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from runner.errors import ResolveError, RunnerError, SpecError, StorageError
from runner.fsspec_links import CACHES, HOST_PROTOCOLS, OPEN_ENDED, fsspec_protocols, refuse_protocols
from runner.uris import without_password
from runner.url_secrets import without_secrets
from runner.workspace.account_keys import AZURE_PROTOCOLS
from runner.workspace.datastores import AnyDatastore, FsspecDatastore, join_under_root
from runner.workspace.db import Workspace
from runner.workspace.deferred_fs import deferred_filesystem
from runner.workspace.loopback import refuse_this_machine
from runner.workspace.option_clash import options_clash
from runner.workspace.read_refusals import cannot, refuse_host_read
from runner.workspace.remote_open import archive_read, not_an_archive, read_url
from runner.workspace.storage_errors import Failure, classify, written_url_error
from runner.workspace.url_protocols import unknown_datastore_protocol

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
    except ValueError:  # a protocol fsspec does not know: a job's URL is the resolver's to say
        if datastore is None or (said := unknown_datastore_protocol(url, datastore.name, field)) is None:
            raise
        raise said from None
    except TypeError as exc:  # the url and the storage options name one option (a host) differently
        raise options_clash(url, exc, datastore=datastore.name if datastore else None, field=field) from None
    uri = f"azureml://datastores/{datastore.name}/paths/{path}" if datastore else url
    _retrying_azure([protocol for _, protocol, _ in links])
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


def open_fsspec_url(url: str, *, field: str | None, check: bool = True) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the path on it, once ``refuse_fsspec_read`` passed: a chain over
    this machine's file reads it through ``host_cache.NoLinksOnPath`` (a link on its path, maybe swapped
    in after the check, is one ``SpecError``, and nothing is read through it), any other URL is fsspec's:
    one it cannot make from the URL (an archive elsewhere that is not there, a filesystem that needs
    options a URL does not carry) is one ``ResolveError`` (``_open_elsewhere``). ``check`` False
    (planning): an archive elsewhere, a host connected to as it is made, is left unmade (``deferred_fs``)."""
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
    if not check and (deferred := deferred_filesystem(url, field, partial(_made, url, field))) is not None:
        return deferred  # planning: an archive elsewhere, a host connected to as it is made: left unmade
    return _open_elsewhere(url, field)


def _made(url: str, field: str | None) -> Any:
    """The filesystem a ``DeferredChain`` of ``url`` stands for, made (``_open_elsewhere``)."""
    return _open_elsewhere(url, field)[0]


def _open_elsewhere(url: str, field: str | None) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` (no chain over this machine's file), or one clear error: an archive
    elsewhere is read as the filesystem is made, so its storage's failures (missing, unreachable, access
    denied) and a file that is not the archive its link reads are said here."""
    import fsspec.core  # only for an fsspec URL: planning on local paths never imports it

    from runner.workspace.archive_members import ArchiveNotRead  # tarfile, zipfile: for a URL only

    _retrying_azure(fsspec_protocols(url))
    try:
        return fsspec.core.url_to_fs(read_url(url, {})[0])  # a link over Azure: the runner's retrying adlfs
    except ValueError as exc:  # a store's client not made (adlfs: no account), else fsspec's: the resolver's
        if not _from_a_store(exc, url):  # an unknown protocol: the resolver's words
            raise
        raise _store_failed(url, exc, field) from exc
    except ImportError:  # a missing backend: the resolver's words
        raise
    except not_an_archive() as exc:  # a remote file that is no archive (gzip's is an OSError)
        protocol, file = archive_read(url)
        unread = ArchiveNotRead(protocol, without_secrets(file), exc, None)
        raise SpecError(f"{cannot(field)} through '{without_secrets(url)}': {unread.message}", field=field,
                        hint=unread.hint) from None
    except TypeError as exc:  # a filesystem that needs options a URL cannot give (jlab://: its server)
        raise ResolveError(f"{cannot(field)}: '{without_secrets(url)}' cannot be opened from its URL alone "
                           f"({without_secrets(str(exc))})", field=field,
                           hint="its filesystem needs options a URL does not carry: give them as a "
                                "datastore's storage_options (type: fsspec, url: <its URL>, "
                                "storage_options: {...}) and read azureml://datastores/<name>/paths/<path>"
                           ) from None
    except Exception as exc:  # noqa: BLE001 - a storage's failure (the Azure SDK's are no OSError): said
        failure = classify(exc)
        if failure in (Failure.CANNOT_CONNECT, Failure.ACCESS_DENIED) or \
                not isinstance(exc, OSError) and failure is not Failure.NOT_FOUND:
            raise _store_failed(url, exc, field) from exc
        raise _not_opened(url, exc, field) from None  # an archive elsewhere (memory://, s3://) not there


def _retrying_azure(protocols: list[str]) -> None:
    """Before fsspec makes the filesystems of links over Azure (abfs://, az://, abfss://; an archive's is
    read as it is made): adlfs' are made with the transfers' retries (``mounts.retry``: one window, not the
    Azure SDK's own back-offs; a host name that does not resolve fails in about a second)."""
    if any(protocol in AZURE_PROTOCOLS for protocol in protocols):
        from runner.workspace.transfers import retry_like_transfers  # with Azure only: start-up cost

        retry_like_transfers()


def _from_a_store(exc: ValueError, url: str) -> bool:
    """Whether a ``ValueError`` is the storage's (a link's filesystem could not make its client: adlfs'
    ``unable to connect to account for ...``), not fsspec's reading of the URL: fsspec knows every link's
    protocol (its own ``ValueError`` is an unknown one), or the error says a storage failure."""
    import fsspec  # only for an fsspec URL

    try:
        for protocol in fsspec_protocols(url):
            fsspec.get_filesystem_class(protocol)
    except (ValueError, ImportError):
        return classify(exc) is not Failure.OTHER
    return True


def _store_failed(url: str, exc: BaseException, field: str | None) -> RunnerError:
    """The one error naming the input for a URL whose storage failed as fsspec made or read it: the archive
    missing (``_not_opened``), else ``storage_errors.written_url_error`` (unreachable, denied, a client
    not made), its hint about what the read uses (a link over Azure: adlfs' account and credentials)."""
    if classify(exc) is Failure.NOT_FOUND:
        return _not_opened(url, exc, field)
    err = written_url_error(exc, url, azure=bool(set(AZURE_PROTOCOLS) & set(fsspec_protocols(url))))
    return StorageError(f"{cannot(field)}: {err.message}", hint=err.hint, field=field) if field else err


def _not_opened(url: str, exc: BaseException, field: str | None) -> ResolveError:
    """The one error for a URL whose filesystem could not be made: the file a chain's last link names
    (the archive it reads) is missing or unreadable, or the URL's storage could not be opened."""
    shown = without_secrets(url)
    strerror = getattr(exc, "strerror", None)
    what = "does not exist" if classify(exc) is Failure.NOT_FOUND else \
        f"cannot be opened ({without_secrets(strerror or str(exc) or type(exc).__name__)})"
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
