"""Copies between stores and local folders, and the one boundary where ``mounts`` and OS errors become
``runner.errors``.

- ``fetch``: a file or folder from a datastore into a local folder (``job download``, ``model
  download``). Remote stores go through the download engine (parallel ranged reads, many files at once,
  verified, bounded memory, a progress bar on a terminal); a local datastore is copied file by file,
  never following a link in it (a job may have written it: ``runner.workspace.nofollow``).
- ``copy_tree``: a plain streamed copy between two fsspec filesystems (a model registered from a local
  path onto a remote datastore).
- ``copy_into_host``, ``move_within_host``, ``remove_within_host``: the same registration onto a folder on
  this machine (a local datastore, an fsspec ``file://`` one), never following a link below its root
  (``mounts.transfer.nofollow``): a job's ``direct`` output may have left one there.
- ``translated``: ``mounts`` exceptions → ``TransferError``/``MountError``/``StorageError`` (used here
  and by the job's materialization).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import logging
import os
import re
import shutil
import socket
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from mounts.errors import (
    LinkNotFollowed,
    MountFailed,
    MountsError,
    TransferFailed,
    is_no_space,
    missing_container,
    no_space_message,
)
from mounts.retry import RETRY_TOTAL_ENV, RetryPolicy, configure_sdk_retries
from mounts.stores.azure_account import account_from_options
from mounts.stores.azure_urls import env_credentials_digest as env_credentials_digest  # for datastores
from mounts.stores.azure_urls import retrying_url, use_retrying_adlfs
from mounts.stores.deferred import DeferredAzureFileSystem
from mounts.stores.open import open_store
from mounts.transfer.downloader import download_files
from mounts.transfer.nofollow import NEW_FILE, NoFollowFolders
from mounts.transfer.uploader import NOT_UTF8, NOT_UTF8_HINT  # the uploader's own refusal, worded once
from runner.errors import MountError, RunnerError, StorageError, TransferError
from runner.workspace.job_records import visible_text
from runner.workspace.nofollow import Links, copy_file, copy_folder, open_folder

CHUNK = 8 * 1024 * 1024
FREE_SPACE_HINT = ("free space on that filesystem (`runner cache prune` empties the download cache), "
                   "then retry")
# a source's files, each opened when it is its turn: (its path below the source, "" for a file source;
# a reader; its mode), as ``runner.workspace.private_sources.LocalSource.files`` gives them
SourceFiles = Iterable[tuple[str, BinaryIO, int]]
# how Python says a name holding bytes that are not UTF-8 (``os.fsdecode`` made them lone surrogates)
# could not be encoded for a store that names its files in UTF-8 (a blob's name)
_NOT_UTF8 = re.compile(r"UnicodeEncodeError: 'utf-8' codec can't encode characters? .*?: "
                       r"surrogates not allowed")
log = logging.getLogger(__name__)
LINK_HINT = ("remove the link (a job's direct output may have made it; look at where it points first), "
             "then run the same command again")


def staged_hint(job: str | None = None, *, node: str | None = None, no_container: str | None = None) -> str:
    """What to do with the staged data a failed upload kept (``TransferError.staged``) of job ``job``:
    ``runner job finalize`` uploads it later when it is kept in this workspace; on a Ray node (``node``:
    its host) it is kept on the node, which that verb refuses, so the hint says where and what to do
    instead (as the verb's refusal does: ``runner.jobs.finalize_later``). No job: no verb to name.
    ``no_container``: the storage answered that the output's container does not exist (its name, "" when
    the answer named none): no outage to wait out, the container is to be made first."""
    copy = "copy it from the staging folder to the output's path with the storage's own tools"
    when = "once the storage answers again"
    first = ""
    if no_container is not None:
        named = f"the container '{no_container}'" if no_container else "the output's container"
        first = (f"{named} does not exist: create it, or correct the `container_name` of the output's "
                 "datastore; ")
        when = "once it exists"
    if node is not None:
        return (f"{first}the staged data is kept on Ray node {node} (the folder named below), not in the "
                f"submitting workspace, so `runner job finalize` cannot upload it: on that node, {copy}, or "
                "run the job again")
    if job is None:
        return f"{first}the staged data is kept: {when}, {copy}, or run the job again"
    return (f"{first}the staged data is kept: {when}, `runner job finalize --name {job}` uploads it (or "
            f"{copy}), or run the job again")




@contextlib.contextmanager
def translated(what: str, *, job: str | None = None, node: str | None = None) -> Iterator[None]:
    """Turn ``mounts`` and storage exceptions into ``runner.errors`` (the one boundary); a failed upload
    that kept its staged data says what to do with it (``staged_hint``: ``job``'s, on Ray node ``node``)."""
    try:
        yield
    except RunnerError:
        raise
    except TransferFailed as exc:
        message, not_utf8 = _NOT_UTF8.subn(NOT_UTF8, str(exc))
        gone = missing_container(exc)  # an answer, not an outage: create it first
        hint = exc.hint or (NOT_UTF8_HINT if not_utf8 else None) or (
            staged_hint(job, node=node, no_container=gone) if exc.staged else None)
        raise TransferError(visible_text(f"{what}: {message}"), failed=exc.failed, staged=exc.staged,
                            hint=hint, total=exc.total) from exc
    except MountFailed as exc:
        raise MountError(f"{what}: {exc}", hint="check that FUSE works (`ls /dev/fuse`, fusermount3) "
                                                "or use mode: download / upload") from exc
    except MountsError as exc:
        raise StorageError(f"{what}: {exc}") from exc
    except OSError as exc:
        if is_no_space(exc):
            raise no_space_error(exc, what) from exc
        raise StorageError(f"{what}: {exc.strerror or exc}") from exc


def no_space_error(exc: OSError, what: str, where: Path | None = None) -> StorageError:
    """The one message for "no space left" met anywhere: where (the file the error names, else
    ``where``: the folder being written, e.g. the job's artifacts folder), and what to do. With neither
    (a write's ``ENOSPC`` names no file) it says so: the runner's working directory is not a guess."""
    path = exc.filename or where
    if path is None:
        return StorageError(f"{what}: no space left on the filesystem being written (the system named no "
                            "file)", hint=FREE_SPACE_HINT)
    return StorageError(f"{what}: {no_space_message(path)}", hint=FREE_SPACE_HINT)


def retry_like_transfers(fs: AbstractFileSystem | None = None) -> None:
    """Give the Azure SDK behind an adlfs filesystem the transfers' retry policy (``mounts.retry``):
    planning's ``info`` and a mount's listings ride out an outage exactly as long as downloads do (a refused
    connection included), and a host name that does not resolve fails in about a second. ``fs`` None: every
    adlfs filesystem fsspec makes from now on for an abfs/az/abfss URL the runner opens
    (``mounts.stores.azure_urls``)."""
    try:
        if fs is None:
            RetryPolicy.from_env()  # checked here: fsspec makes the filesystem (and reads it) later
            use_retrying_adlfs()
        else:
            configure_sdk_retries(fs)
    except MountsError as exc:
        raise StorageError(str(exc), hint="unset it or give a number of seconds") from exc


def connect_in_window(host: str, port: int, url: str, timeout: float) -> str | None:
    """Why a TCP connection to ``host:port`` (the service behind ``url``) cannot be made (None once one is),
    retried as every storage request is (``mounts.retry``): a refused one for ``RUNNER_RETRY_TOTAL_S``, from
    a fresh process's first request on (a storage restart), a host name that does not resolve (a wrong
    account name) a few quick times."""
    try:
        policy = RetryPolicy.from_env()
    except MountsError as exc:
        raise StorageError(str(exc), hint="unset it or give a number of seconds") from exc
    retrying = policy.start(endpoint=url)
    while True:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            return None
        except OSError as exc:
            unresolved = isinstance(exc, socket.gaierror)
            if not retrying.retries and not unresolved and policy.total_s > 0:  # said at once, not in 2 min
                log.warning("%s:%s: %s; retrying for up to %g s (%s), as for a storage restart: stop with "
                            "Ctrl-C if the service is not meant to be there", host, port, exc.strerror or exc,
                            policy.total_s, RETRY_TOTAL_ENV)
            if retrying.wait(unresolved=unresolved):
                continue  # spent: said as every request's retries say it (``Retrying.annotate``)
            return f"{host}:{port}: {retrying.annotate(OSError(exc.strerror or str(exc)))}"


def azure_read_url(url: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``url`` and its storage ``options`` with each link over Azure (abfs://, az://, abfss://) under the
    runner-only name fsspec makes adlfs' filesystem with the transfers' retries for (``retry_like_transfers``;
    ``mounts.stores.azure_urls.retrying_url``): what the runner hands fsspec, never what it shows."""
    retry_like_transfers()
    return retrying_url(url, options)


def retrying_adlfs(options: dict[str, Any]) -> AbstractFileSystem:
    """adlfs' filesystem made with ``options``, its SDK client retrying as the transfers do from the moment
    it is made, and made again once the ``AZURE_STORAGE_*`` it reads change (``env_credentials_digest``)."""
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem  # imports adlfs: only when one is made

    return cast(AbstractFileSystem, RetryingAzureBlobFileSystem(**options))


def azure_filesystem(options: dict[str, Any], make: Callable[[], AbstractFileSystem]) -> AbstractFileSystem:
    """An Azure datastore's filesystem (``make``: adlfs' with ``options``), made when first needed if the
    lean client can sign for it (``DeferredAzureFileSystem``: a job that reads and writes only through
    the strategies never imports adlfs and the Azure SDK, ~0.5 s; issue 21), else now."""
    account = account_from_options(options)
    return make() if account is None else cast(AbstractFileSystem, DeferredAzureFileSystem(account, make))


def fetch(fs: AbstractFileSystem, path: str, target: Path, *, is_file: bool, quiet: bool = False) -> Path:
    """Copy ``path`` to ``target`` (a folder's content into ``target``; a file to ``target`` itself)
    and return ``target``. Raises ``runner.errors.StorageError``/``TransferError`` when it cannot."""
    if isinstance(fs, LocalFileSystem):  # never links: the copy must not write through to the store
        _fetch_local(Path(fs._strip_protocol(path)), target, is_file=is_file)
        return target
    into = target.parent if is_file else target  # a file arrives as <into>/<its name>
    into.mkdir(parents=True, exist_ok=True)
    # the same command run again finds its resume state here (finished files, parts of large ones)
    state = into / f".runner-download-{hashlib.sha1(f'{path}|{target.name}'.encode()).hexdigest()[:12]}"
    try:
        with translated(f"download of {path}"):
            store = open_store(fs)
            files = store.list_files(path)
            if is_file:  # under the name the caller chose
                files = [dataclasses.replace(f, rel=target.name) for f in files]
            try:
                download_files(store, files, into, state, quiet=quiet,
                               description=f"download {target.name}")
            except TransferFailed as exc:
                raise _resumable(exc, into, state) from exc
    except BaseException:
        if not state.exists() or not any(state.iterdir()):
            shutil.rmtree(state, ignore_errors=True)
        raise
    shutil.rmtree(state, ignore_errors=True)
    return target


def _fetch_local(source: Path, target: Path, *, is_file: bool) -> None:
    """``fetch`` from a folder on this machine, which a job may have written (a ``direct`` output on a
    local datastore): no link in it is followed (``runner.workspace.nofollow``). One inside a folder is
    skipped with a warning; the file or folder asked for being a link is an error."""
    links = Links()
    with translated(f"download of {source}"):
        if source.is_symlink():  # checked again, without a race, when it is opened
            raise _link_error(source)
        with open_folder(source.parent, *([] if is_file else [source.name]), links=links) as folder, \
                open_folder(target.parent if is_file else target, links=links, create=True) as destination:
            if folder is None or destination is None:
                raise _link_error(source) if links.noted else FileNotFoundError(
                    errno.ENOENT, os.strerror(errno.ENOENT), str(source))
            if not is_file:
                copy_folder(folder, destination, links, refuse_special=True)
            elif not copy_file(folder, source.name, destination, target.name, links, refuse_special=True):
                raise _link_error(source)


def _link_error(path: Path) -> StorageError:
    points_to = os.readlink(path) if path.is_symlink() else "?"
    return StorageError(f"'{path}' is a symbolic link (to {points_to}): a download never follows a link, "
                        "which may name any file on this machine",
                        hint="copy the file or folder it names into the datastore instead of a link")


def _resumable(exc: TransferFailed, into: Path, state: Path) -> TransferFailed:
    """What a failed ``fetch`` leaves, truthfully: finished files stay in ``into``; after an outage the
    resume state stays too (the same command resumes); after a full disk partial files are removed."""
    if exc.disk_full:
        shutil.rmtree(state, ignore_errors=True)
        return TransferFailed(f"{exc}; files downloaded completely are kept in {into}, partial ones were "
                              "removed", failed=exc.failed, hint=FREE_SPACE_HINT, disk_full=True)
    return TransferFailed(f"{exc}; files downloaded completely are kept in {into}",
                          failed=exc.failed, hint="check that the storage is reachable, then run the same "
                                                  "command again: it resumes where this one stopped")


def _pairs(src_fs: AbstractFileSystem, src: str, dst: str) -> list[tuple[str, str]]:
    """(source file, target) of every file of ``src`` (a file, or a folder's files in path order)."""
    pairs = [(src, dst)]
    if src_fs.isdir(src):
        pairs = [(f, f"{dst}/{f[len(src.rstrip('/')):].lstrip('/')}")
                 for f in sorted(src_fs.find(src, withdirs=False))]
    if isinstance(src_fs, LocalFileSystem):
        _refuse_special_files([source for source, _ in pairs])
    return pairs


def _opened(src_fs: AbstractFileSystem, src: str) -> Iterator[tuple[str, BinaryIO, int]]:
    """``SourceFiles`` of ``src`` on ``src_fs`` (each opened when it is its turn)."""
    local = isinstance(src_fs, LocalFileSystem)
    for src_file, rel in _pairs(src_fs, src, ""):
        with src_fs.open(src_file, "rb") as reader:
            yield rel.lstrip("/"), reader, os.stat(src_file).st_mode if local else 0o666


def copy_tree(src_fs: AbstractFileSystem, src: str, dst_fs: AbstractFileSystem, dst: str, *,
              files: SourceFiles | None = None) -> int:
    """Stream a file or folder from one filesystem to another in 8 MiB chunks; returns bytes copied.
    ``files``: the source's files already opened, read instead of listing ``src_fs``."""
    try:
        copied = 0
        total = 0
        for rel, reader, _mode in files if files is not None else _opened(src_fs, src):
            dst_file = f"{dst}/{rel}" if rel else dst
            parent = dst_file.rsplit("/", 1)[0]
            if parent:
                dst_fs.makedirs(parent, exist_ok=True)
            with dst_fs.open(dst_file, "wb") as writer:
                while chunk := reader.read(CHUNK):
                    writer.write(chunk)
                    total += len(chunk)
            copied += 1
        if not copied:
            dst_fs.makedirs(dst, exist_ok=True)
        return total
    except RunnerError:  # a refusal of the source's (``files``), a special file
        raise
    except OSError as exc:
        if is_no_space(exc):
            raise no_space_error(exc, f"copying {src} to {dst}", Path(dst)) from exc
        raise StorageError(f"copying {src} to {dst} failed: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # fsspec backends raise OSError and SDK-specific errors
        raise StorageError(f"copying {src} to {dst} failed: {type(exc).__name__}: {exc}") from exc


@contextlib.contextmanager
def _no_link_followed(what: str) -> Iterator[None]:
    """``translated``, with the one message and hint for a link met on the way."""
    try:
        with translated(what):
            yield
    except StorageError as exc:
        if isinstance(exc.__cause__, LinkNotFollowed):
            raise StorageError(exc.message, hint=LINK_HINT) from exc.__cause__
        raise


def copy_into_host(src_fs: AbstractFileSystem, src: str, anchor: Path, rel: str, *, what: str,
                   files: SourceFiles | None = None) -> int:
    """``copy_tree`` to ``anchor/rel`` on this machine (``anchor``: a datastore's root, the runner's own),
    no link below ``anchor`` followed: each folder is opened (made) relative to its parent without
    following one, each file made new (``O_EXCL | O_NOFOLLOW``). A link on the way: ``StorageError``.
    ``files``: the source's files already opened, read instead of listing ``src_fs``."""
    total = copied = 0
    with _no_link_followed(what), NoFollowFolders(anchor) as tree:
        for below, reader, mode in files if files is not None else _opened(src_fs, src):
            parent, _, name = (f"{rel}/{below}" if below else rel).rpartition("/")
            # a copy is never more readable than its source
            fd = os.open(name, NEW_FILE, 0o666 & mode, dir_fd=tree.folder(parent))
            try:
                with open(fd, "wb") as writer:
                    while chunk := reader.read(CHUNK):
                        writer.write(chunk)
                        total += len(chunk)
            except OSError as exc:  # a full disk names no file: name the folder written
                if is_no_space(exc):
                    raise no_space_error(exc, what, anchor / rel) from exc
                raise
            copied += 1
        if not copied:
            tree.folder(rel)
    return total


def move_within_host(anchor: Path, rel: str, to: str, *, what: str) -> None:
    """Rename the folder ``anchor/rel`` to ``anchor/to`` (made ready: its parents made, a real folder left
    there removed), no link below ``anchor`` followed; a link on either way, or at ``to``, is refused
    (``StorageError`` naming it) and nothing is removed or written through it."""
    with _no_link_followed(what), NoFollowFolders(anchor) as source, NoFollowFolders(anchor) as target:
        from_parent, _, from_name = rel.rpartition("/")
        to_parent, _, to_name = to.rpartition("/")
        into = target.folder(to_parent)
        there = _lstat_at(into, to_name)
        if there is not None and stat.S_ISLNK(there.st_mode):
            raise LinkNotFollowed(f"{anchor / to} is a symbolic link (a job may have made it): not followed")
        if there is not None:  # left by a process that died before committing: unreferenced
            _remove_at(into, to_name, there)
        os.rename(from_name, to_name, src_dir_fd=source.folder(from_parent, create=False), dst_dir_fd=into)


def remove_within_host(anchor: Path, rel: str) -> None:
    """Remove ``anchor/rel`` (a folder or file) when it is there, no link below ``anchor`` followed: a
    link on the way raises ``StorageError`` and nothing is removed; a link at ``rel`` is removed itself,
    never what it points to."""
    parent, _, name = rel.rpartition("/")
    with _no_link_followed(f"removing {anchor / rel}"), NoFollowFolders(anchor) as tree:
        try:
            folder = tree.folder(parent, create=False)
        except FileNotFoundError:
            return
        there = _lstat_at(folder, name)
        if there is not None:
            _remove_at(folder, name, there)


def _lstat_at(folder: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _remove_at(folder: int, name: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):  # rmtree with dir_fd opens every level without following a link
        shutil.rmtree(name, dir_fd=folder)
    else:
        os.unlink(name, dir_fd=folder)


def _refuse_special_files(paths: list[str]) -> None:
    """A FIFO or device inside a folder would be read forever (or block): refuse it up front."""
    for path in paths:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise StorageError(f"'{path}' is not a regular file (a device, FIFO or socket): only files and "
                               "folders of files can be copied", hint="remove it from the folder")
