"""``upload`` mode: the job writes into a local folder; on exit everything is uploaded and verified.

``Materialized.host_path`` is the caller's ``workdir`` itself (the executor uses
``<ws>/jobs/<name>/outputs/<out>``): that is where the job's files are *staged*. On exit:

* normal exit or an exception from the job: every staged file is uploaded in parallel (large files as
  blocks) and verified (size; MD5 where the store keeps one); the job's exception is re-raised after;
* ``SkipFinalize``: nothing is uploaded, the staged data stays in ``workdir``; ``SkipFinalize`` is
  re-raised so every output strategy in an ``ExitStack`` sees it (the caller catches it);
* when any file fails: ``TransferFailed(failed=[...], staged=workdir)``. **A failed upload keeps the
  staged data**: nothing in ``workdir`` is deleted, so it can be retried or downloaded by hand.
* after a fully verified upload the staged copies are deleted (they are durable at the target); pass
  ``keep_staged=True`` to keep them.

A local target (``target.local_path``) is finalized by moving the staged files into place (a rename on
the same filesystem, a copy otherwise).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mounts.base import Materialized, SkipFinalize, Target
from mounts.errors import TransferFailed
from mounts.stores.open import open_store
from mounts.transfer.downloader import TransferOptions
from mounts.transfer.uploader import LocalFile, list_local_files, upload_files

log = logging.getLogger(__name__)


class UploadStrategy:
    """Stage the output locally; upload and verify it when the job is done (also when it failed)."""

    def __init__(self, *, quiet: bool = False, options: TransferOptions | None = None,
                 keep_staged: bool = False) -> None:
        self.quiet = quiet
        self.options = options or TransferOptions()
        self.keep_staged = keep_staged

    @contextmanager
    def materialize(self, target: Target, workdir: Path) -> Iterator[Materialized]:
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            yield Materialized(host_path=workdir, read_only=False)
        except SkipFinalize:
            log.info("output %s not uploaded (SkipFinalize); staged data kept in %s", target.url, workdir)
            raise
        except BaseException:
            self.finalize(target, workdir)  # outputs of a failed job are uploaded too (may be partial)
            raise
        self.finalize(target, workdir)

    def finalize(self, target: Target, staging: Path) -> None:
        """Make everything under ``staging`` durable at ``target``; raise ``TransferFailed`` if not."""
        pairs = _destinations(target, staging)
        if not pairs:
            log.warning("output %s: the job wrote nothing", target.url)
            return
        try:
            if target.local_path is not None:
                _move_local(pairs)
            else:
                upload_files(open_store(target.fs), pairs, options=self.options, quiet=self.quiet,
                             description=f"upload {Path(target.path).name or target.url}")
        except TransferFailed as exc:
            raise TransferFailed(f"output {target.url}: {exc}; the staged data is kept in {staging}",
                                 failed=exc.failed, staged=staging) from exc
        if target.local_path is not None and not target.is_file:
            _recreate_empty_dirs(staging, target.local_path)
        if not self.keep_staged:
            _clear(staging)


def _destinations(target: Target, staging: Path) -> list[tuple[LocalFile, str]]:
    """Pair each staged file with where it goes (a remote path, or a local path for local targets)."""
    files = list_local_files(staging)
    base = str(target.local_path) if target.local_path is not None else target.path
    if not target.is_file:
        return [(item, f"{base.rstrip('/')}/{item.rel}") for item in files]
    if not files:
        return []
    wanted = [item for item in files if item.rel == Path(target.path).name]
    if wanted or len(files) == 1:
        return [((wanted or files)[0], base)]
    names = ", ".join(item.rel for item in files[:5])
    raise TransferFailed(f"output {target.url} is a single file, but the job wrote {len(files)} files "
                         f"({names}); write only {Path(target.path).name}",
                         failed=[item.rel for item in files], staged=staging)


def _move_local(pairs: list[tuple[LocalFile, str]]) -> None:
    failed: dict[str, str] = {}
    # links first: each is a copy of a staged file, which must still be there
    for item, dest in sorted(pairs, key=lambda pair: not pair[0].link):
        try:
            target = Path(dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            if item.link:
                shutil.copyfile(item.path, target)
                continue
            try:
                os.replace(item.path, target)
            except OSError:  # another filesystem: copy, check, then drop the staged copy
                shutil.copy2(item.path, target)
                if target.stat().st_size != item.size:
                    raise OSError(f"copy of {item.rel} has the wrong size") from None
                item.path.unlink()
        except OSError as exc:
            failed[item.rel] = str(exc)
    if failed:
        detail = "; ".join(f"{rel}: {why}" for rel, why in sorted(failed.items())[:5])
        raise TransferFailed(f"{len(failed)} file(s) could not be moved into place ({detail})",
                             failed=sorted(failed))


def _recreate_empty_dirs(staging: Path, dest: Path) -> None:
    for dirpath, dirs, _names in os.walk(staging):
        for name in dirs:
            if not os.path.islink(os.path.join(dirpath, name)):  # a link to a folder is not followed
                (dest / Path(dirpath).relative_to(staging) / name).mkdir(parents=True, exist_ok=True)


def _clear(staging: Path) -> None:
    """Remove the staged copies (they are durable at the target now); keep the folder itself."""
    for child in staging.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
