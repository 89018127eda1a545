"""``rw_mount``: an output written through a read-write FUSE mount, durable once ``close`` returns.

Remote targets: a multithreaded FUSE mount (``mounts.fuse.rw``) at ``workdir/mnt``, staging new data
in ``workdir/staged``. Each file is uploaded when it is closed (in FUSE ``flush``, so ``close`` fails if
the upload fails). On exit: unmount (waiting for uploads in flight), upload whatever is still staged,
and raise ``TransferFailed(failed=[...], staged=workdir/staged)`` if anything could not be uploaded;
staged copies are deleted only after their upload succeeded.

Local targets: no FUSE. ``UploadStrategy`` does the work: the job writes into ``workdir/staged`` (bound
read-write by the executor) and on exit every file is moved into the target directory (a rename on the
same filesystem), also when the job failed.
``SkipFinalize`` raised in the block keeps the staged data where it is, in both cases.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mounts.base import Materialized, SkipFinalize, Target
from mounts.errors import TransferFailed
from mounts.fuse.lifecycle import MountHandle, MountOptions, fuse_mount
from mounts.fuse.readahead import Prefetcher, ReadaheadConfig
from mounts.fuse.rw import NOT_CLOSED, FsspecReadWrite, UploadFile, UploadLog
from mounts.ro_mount import hidden_note
from mounts.stores.open import open_store
from mounts.transfer.downloader import TransferOptions
from mounts.transfer.state import bad_segment
from mounts.transfer.tree import holds_files, printable, remove_tree
from mounts.transfer.uploader import NOT_UTF8, NOT_UTF8_HINT, LocalFile, is_utf8, names_in_utf8, upload_files
from mounts.upload import UploadStrategy, azure_name, renamed_note, separates_at_backslash

log = logging.getLogger(__name__)
LOST_HINT = ("run the job again: its output may be incomplete (the files it had closed before are in the "
             "store; the ones named are kept in the job's staged folder)")
BACKSLASH_HINT = ("name the file in the job without a backslash (Azure Blob Storage takes one for a folder "
                  "separator), then run it again; until then it is kept in the job's staged folder")


@dataclass
class RwMountStrategy:
    """Output strategy for ``rw_mount``."""

    readahead: ReadaheadConfig = field(default_factory=ReadaheadConfig)
    ready_timeout: float = 10.0
    unmount_timeout: float = 10.0  # then the FUSE connection is aborted (see mounts.fuse.lifecycle)
    transfer: TransferOptions = field(default_factory=TransferOptions)
    # what finalizing left out or renamed, one sentence each (logged too); a remote mount has nothing to
    # leave out: it makes no FIFO, device or link (mknod, symlink: not implemented, the job's call fails)
    warnings: list[str] = field(default_factory=list, init=False)

    def materialize(self, target: Target, workdir: Path) -> contextlib.AbstractContextManager[Materialized]:
        if target.local_path is not None:
            # a local datastore needs no FUSE: this is exactly ``upload`` to a local target
            upload = UploadStrategy(quiet=True, options=self.transfer)
            upload.warnings = self.warnings
            return upload.materialize(target, Path(workdir) / "staged")
        return self._fuse(target, Path(workdir))

    @contextlib.contextmanager
    def _fuse(self, target: Target, workdir: Path) -> Iterator[Materialized]:
        """The mount, and once it is finalized (however) one warning naming the files Azure stored under
        another name (a backslash in a name, ``mounts.upload.azure_name``)."""
        renamed: dict[str, str] = {}  # as the job named it -> as stored, written from FUSE's threads
        refused: dict[str, str] = {}  # name the store cannot hold -> why (``_store_upload``)
        try:
            with self._mounted(target, workdir, renamed, refused) as done:
                yield done
        finally:
            if renamed:
                self._say(target, renamed_note(sorted(renamed.items())))

    @contextlib.contextmanager
    def _mounted(self, target: Target, workdir: Path, renamed: dict[str, str], refused: dict[str, str]
                 ) -> Iterator[Materialized]:
        staging = workdir / "staged"
        staging.mkdir(parents=True, exist_ok=True)
        root = target.path.rstrip("/").rsplit("/", 1)[0] if target.is_file else target.path
        store = open_store(target.fs)
        prefetcher = Prefetcher.for_store(store, self.readahead)
        # the lean client lists folders of a container (as a read-only mount's: the names adlfs drops too)
        lister = getattr(store, "list_folder", None) if root.strip("/") else None
        operations = FsspecReadWrite(target.fs, root, staging, prefetcher, lister=lister,
                                     upload_file=_store_upload(target, self.transfer, root, renamed, refused))
        options = MountOptions(read_only=False, single_threaded=False, fsname="runner-rw",
                               unmount_timeout=self.unmount_timeout,
                               is_busy=operations.busy)
        mount: list[MountHandle] = []  # whether its FUSE loop ended under the job, once it is released
        try:
            with fuse_mount(operations, workdir / "mnt", options, self.ready_timeout) as handle:
                mount.append(handle)
                log.info("mounted %s read-write at %s", target.url, handle.mountpoint)
                try:
                    yield Materialized(host_path=handle.mountpoint, read_only=False)
                finally:
                    operations.released = True  # a FUSE session ending from here on is not cut under the job
        except SkipFinalize:
            log.info("output %s: SkipFinalize; files not uploaded yet stay in %s", target.url, staging)
            for path, why in operations.drop_broken().items():  # incomplete: never kept
                log.warning("output %s: %s was not kept: a write to it failed (%s)", target.url,
                            printable(path), why)
            raise
        except (KeyboardInterrupt, SystemExit):
            log.warning("interrupted: files not uploaded yet stay in %s", staging)
            raise
        except BaseException:
            _finish_uploads(operations, staging, target, refused, mount)  # what the job wrote is kept anyway
            raise
        finally:
            prefetcher.close()
            if operations.names.count:  # one warning per mount, as a read-only mount's
                note = hidden_note(operations.names.count, operations.names.shown, mount="read-write")
                log.warning("output %s: %s", target.url, note)
        _finish_uploads(operations, staging, target, refused, mount)

    def _say(self, target: Target, note: str) -> None:
        self.warnings.append(note)
        log.warning("output %s: %s", target.url, note)


def _store_upload(target: Target, options: TransferOptions, root: str, renamed: dict[str, str],
                  refused: dict[str, str]) -> UploadFile:
    """Upload one closed file with the transfer engine (blocks in parallel, verified). On Azure a
    backslash in the name the job gave is a folder separator (``mounts.upload.azure_name``): the file is
    stored there, noted in ``renamed`` (name below ``root`` -> as stored). A name the store cannot hold
    (not valid UTF-8 where names are UTF-8 text) is refused at once, at each close, without a request
    (no retry can help), and noted in ``refused`` (name below ``root`` -> why)."""
    store = open_store(target.fs)
    azure = separates_at_backslash(target.fs)
    utf8 = names_in_utf8(store)

    def upload(local: Path, remote: str) -> None:
        rel = remote[len(root.rstrip("/")) + 1:]
        if utf8 and not is_utf8(remote):
            refused[rel] = NOT_UTF8
            raise TransferFailed(f"{printable(rel)}: {NOT_UTF8}", failed=[rel], hint=NOT_UTF8_HINT)
        item = LocalFile(rel=local.name, path=local, size=local.stat().st_size)
        if azure and "\\" in rel:
            remote = azure_name(remote, rel)
            stored = remote[len(remote) - len(rel):]
            why = bad_segment(stored)
            if why is not None:  # ``..\\x`` as ``../x``: no download could write it below its folder
                refused[rel] = f"Azure Blob Storage would store it as {printable(stored)}: {why}"
                raise TransferFailed(f"{printable(rel)}: {refused[rel]}", failed=[rel], hint=BACKSLASH_HINT)
            renamed[rel] = stored
        upload_files(store, [(item, remote)], options=options, quiet=True, description="rw_mount")

    return upload


def _finish_uploads(operations: FsspecReadWrite, staging: Path, target: Target, refused: dict[str, str],
                    mount: list[MountHandle]) -> None:
    """Upload what is still staged; raise ``TransferFailed`` for what is not durable, and when the mount
    went away under the job (``MountHandle.ended_early``): what it wrote after that failed."""
    result: UploadLog = operations.upload_all()
    incomplete = operations.drop_broken()  # a failed write: never published, not kept
    held = _unpublish_held(operations)  # never closed by the job: never published, kept
    failed = sorted(set(result.failed) - set(held))
    lost = bool(mount) and mount[0].ended_early
    if incomplete or failed or held or lost:
        error = _not_durable(target, staging, incomplete, failed, refused, held=held, lost=lost)
        error.reasons = tuple(sorted({result.failed[path] for path in failed if path in result.failed}))
        raise error
    _remove_if_no_files(staging)
    log.info("rw_mount %s: %d file(s) durable", target.url, len(result.uploaded))


def _unpublish_held(operations: FsspecReadWrite) -> list[str]:
    """The files held because the job never closed them (``FsspecReadWrite.destroy``), by path below the
    mount. What an earlier ``close`` of one had put in the store (its start: a shell closes its copy of a
    redirected descriptor while the command still writes) is removed, as ``drop_broken`` does: a file
    that may be incomplete never looks finished there. Its staged copy stays."""
    log_ = operations.staging.log
    held = sorted(rel for rel, why in log_.failed.items() if why == NOT_CLOSED)
    for rel in held:
        if log_.uploaded.pop(rel, None) is not None:
            with contextlib.suppress(FileNotFoundError):
                operations.fs.rm_file(operations.fs_path("/" + rel))
    return held


def _not_durable(target: Target, staging: Path, incomplete: dict[str, str], failed: list[str],
                 refused: dict[str, str], *, held: Sequence[str] = (), lost: bool = False) -> TransferFailed:
    """The one error for what was not made durable: each name as the job record shows it (``printable``),
    a refused one with why (``_store_upload``), and what to do."""
    def names(paths: list[str]) -> str:
        shown = (printable(f"{path}: {refused[path]}" if path in refused else path) for path in paths[:5])
        return ", ".join(shown) + (" ..." if len(paths) > 5 else "")

    parts = []
    if lost or held:
        parts.append(f"the mount of {target.url} went away while the job ran (its FUSE connection ended "
                     "before the job did), so what the job wrote through it after that failed" if lost else
                     f"the mount of {target.url} ended while the job still had files open")
    if held:
        parts.append(f"{len(held)} file(s) still open then were not uploaded, as they may be incomplete "
                     f"(kept in {staging}; whatever an earlier close had uploaded of them was removed): "
                     f"{names(list(held))}")
    if incomplete:
        reasons = sorted(set(incomplete.values()))
        parts.append(f"{len(incomplete)} file(s) written to {target.url} were not uploaded because a write "
                     f"to them failed ({'; '.join(reasons[:2])}): {names(list(incomplete))}; their "
                     "incomplete copies were removed")
    if failed:
        parts.append(f"{len(failed)} file(s) written to {target.url} could not be uploaded "
                     f"(kept in {staging}): {names(failed)}")
    disk_full = any(reason.startswith("no space left") for reason in incomplete.values())
    return TransferFailed("; ".join(parts), failed=sorted(incomplete) + sorted(held) + failed,
                          staged=staging if failed or held else None, disk_full=disk_full,
                          hint="free space where the job's folder is, then run the job again" if disk_full
                          else _refused_hint(refused, failed) or (LOST_HINT if lost or held else None))


def _refused_hint(refused: dict[str, str], failed: list[str]) -> str | None:
    """How to fix the names the store refused among ``failed`` (``_store_upload``), if any."""
    reasons = [refused[path] for path in failed if path in refused]
    if not reasons:
        return None
    return NOT_UTF8_HINT if NOT_UTF8 in reasons else BACKSLASH_HINT


def _remove_if_no_files(directory: Path) -> None:
    """Delete a staging tree only when it holds no file (every staged file was uploaded)."""
    try:
        held = directory.is_dir() and holds_files(directory)  # any depth, no recursion
    except OSError as exc:
        log.warning("staging %s cannot be listed (%s); keeping it", directory, exc)
        return
    if held:
        log.warning("staging %s still holds files; keeping it", directory)
        return
    remove_tree(directory)
