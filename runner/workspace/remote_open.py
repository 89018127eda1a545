"""Opening what fsspec reads elsewhere, below the modules that plan and resolve it: a datastore's
filesystem made with its storage's failures said (``remote_filesystem``: an archive elsewhere missing or
not an archive, a host that cannot be connected to), where a chain's archive link reads its file, and a
path's URL named from a filesystem's class (``url_of``: no ftp:// or sftp:// filesystem made, which would
connect; the host such a filesystem drops from its paths put back: ``url_hosts``). fsspec is imported only
when they are called.

    fs, root = remote_filesystem("zip://::abfs://c/d.zip", {"abfs": {...}}, "archived")
    url_of("ftp", {"username": "u"}, "/data/a.txt", url="ftp://h:2121/data")   # ftp://h:2121/data/a.txt
"""

from __future__ import annotations

from typing import Any

from runner.errors import RunnerError, SpecError, StorageError
from runner.fsspec_links import CACHES, fsspec_protocols
from runner.url_secrets import without_secrets
from runner.workspace.account_keys import AZURE_PROTOCOLS
from runner.workspace.storage_errors import Failure, classify, storage_error
from runner.workspace.url_hosts import with_host

# fsspec's filesystems that connect to their host as they are made (ftplib, paramiko, smbprotocol)
CONNECT_WHEN_MADE = frozenset({"ftp", "sftp", "ssh", "smb"})


def file_link(protocols: list[str], index: int) -> int:
    """The index of the link that names the file link ``index`` (an archive) reads: the next one that is
    no cache (a cache reads the file below it), or the last."""
    read = index + 1
    while read < len(protocols) - 1 and protocols[read] in CACHES:
        read += 1
    return read


def not_an_archive() -> tuple[type[BaseException], ...]:
    """What reading a file as an archive raises when it is not one, bar the OSErrors a storage raises too
    (``archive_members.read_errors()`` without them), and gzip's, which is an OSError."""
    import gzip

    from runner.workspace.archive_members import read_errors  # tarfile, zipfile: for a URL only

    return (*(error for error in read_errors() if not issubclass(error, OSError)), gzip.BadGzipFile)


def archive_read(url: str) -> tuple[str, str]:
    """The innermost archive link's protocol of chain ``url`` and the URL of the file it reads."""
    from runner.workspace.archive_members import ARCHIVES  # tarfile, zipfile: for a URL only

    links, protocols = url.split("::"), fsspec_protocols(url)
    index = max((i for i, protocol in enumerate(protocols[:-1]) if protocol in ARCHIVES), default=0)
    return protocols[index], "::".join(links[file_link(protocols, index):]) or url


def remote_filesystem(url: str, options: dict[str, Any], name: str) -> tuple[Any, str]:
    """fsspec's filesystem for datastore ``name``'s URL elsewhere (``options``: its storage options) and its
    root, made now; a failure of its storage as it is made (an archive elsewhere missing or unreadable, a
    host that cannot be connected to) is one ``StorageError`` naming the datastore, a file that is not the
    archive its link reads one ``SpecError``. fsspec's own errors (an unknown protocol, a backend not
    installed, options that clash) are the caller's (``FsspecDatastore.open``)."""
    import fsspec.core  # only for an fsspec datastore

    opened, named = read_url(url, options)
    try:
        fs, root = fsspec.core.url_to_fs(opened, **named)
    except (ImportError, ValueError, TypeError, RunnerError):
        raise
    except not_an_archive() as exc:  # a remote file that is no archive (gzip's is an OSError)
        from runner.workspace.archive_members import ArchiveNotRead  # tarfile, zipfile: for a URL only

        protocol, file = archive_read(url)
        unread = ArchiveNotRead(protocol, without_secrets(file), exc, None)
        raise SpecError(f"datastore '{name}': {unread.message}", hint=unread.hint) from None
    except Exception as exc:  # noqa: BLE001 - a storage's failure (the Azure SDK's are no OSError): said
        if classify(exc) is Failure.NOT_FOUND and "::" in url:
            last = without_secrets(url.rsplit("::", 1)[-1])
            raise StorageError(f"datastore '{name}': the file '{last}' that its url '{without_secrets(url)}' "
                               "reads does not exist",
                               hint=f"check the archive's path in the url's last link (`runner datastore "
                                    f"show --name {name}`): the archive it names must be there") from exc
        raise storage_error(exc, url, datastore=name) from exc
    return fs, str(root)


def read_url(url: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``url`` and its storage ``options`` as fsspec is handed them to make the filesystem: a link over
    Azure read with the transfers' retries, under a name of the runner's own (``transfers.azure_read_url``:
    a user's fsspec in this process keeps adlfs' names as adlfs'), a link the options alone name over Azure
    too (``simplecache://c/p`` with ``target_protocol: abfs``); any other URL as it is."""
    from mounts.stores.azure_urls import options_protocols  # cheap, but no mounts in a cold validate

    if not set(AZURE_PROTOCOLS) & {*fsspec_protocols(url), *options_protocols(options)}:
        return url, options
    from runner.workspace.transfers import azure_read_url  # with Azure only: start-up cost

    return azure_read_url(url, options)


def url_of(protocol: str, options: dict[str, Any], fs_path: str, *, url: str = "") -> str:
    """The URL of ``fs_path`` on a filesystem of ``protocol`` made with ``options`` from ``url`` (a
    datastore's); one that drops its host from its paths (ftp://, sftp://, smb://) has it put back from
    ``url`` or ``options`` (``url_hosts``), its filesystem not made. For one that connects as it is made
    (``CONNECT_WHEN_MADE``) from its class when the class names it as fsspec's base class does (from its
    protocol alone: no ftp:// or sftp:// filesystem made). Any other is made: a cache's says its target's
    URL (``simplecache`` over ``file``: a host file), which its class does not."""
    import fsspec
    from fsspec.spec import AbstractFileSystem

    if url and (hosted := with_host(url, fs_path, options)) is not None:
        return hosted
    cls = fsspec.get_filesystem_class(protocol)
    if protocol not in CONNECT_WHEN_MADE or cls.unstrip_protocol is not AbstractFileSystem.unstrip_protocol:
        return str(fsspec.filesystem(protocol, **options).unstrip_protocol(fs_path))
    protocols = (cls.protocol,) if isinstance(cls.protocol, str) else tuple(cls.protocol)
    return fs_path if fs_path.startswith(tuple(f"{p}://" for p in protocols)) else f"{protocols[0]}://{fs_path}"
