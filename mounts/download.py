"""``download`` mode: the input is copied under the job directory before the job starts.

Layout under the caller's ``workdir``: ``data/`` is what the job sees (``Materialized.host_path``; a file
input appears as ``data/<basename>``, a folder input's contents directly in ``data/``) and ``state/``
keeps resume information while a download is incomplete (see ``mounts.transfer.downloader``).

With a ``ContentCache`` and a ``source.cache_key`` the content is downloaded into the cache once and the
job gets the cache entry itself (a hit makes no request and copies nothing). A local source
(``source.local_path``: a local datastore, a registered model's folder) is already local: the job gets
it as it is. Both are ``shared`` (not the job's own): the backend makes them read-only for the job, so
a job can never write into the cache or a registered model through its input. ``data/`` is removed
when the job is done.

A download that does not complete (the storage stayed unreachable through every retry, ``mounts.retry``;
the disk filled up; a cancel or Ctrl-C, which raise a ``BaseException``) never leaves partial data in the
job folder: its ``data/`` and ``state/`` are removed there (no link in them followed). Through the cache,
what arrived stays in the cache's partial entry (``<cache>/partial/``, never the job folder) and the next
download of the same key resumes from it (finished files are skipped, a large file fetches only its
missing parts), after a cancel too, unless the disk was full: then it is removed to give the space back.
The error says which happened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mounts.base import Materialized, Source
from mounts.cache import ContentCache
from mounts.errors import TransferFailed
from mounts.stores.open import open_store
from mounts.transfer.downloader import TransferOptions, download_files
from mounts.transfer.tree import remove_tree

log = logging.getLogger(__name__)


class DownloadStrategy:
    """Copy the input under ``workdir`` (parallel, verified, resumable, cached across jobs)."""

    def __init__(self, cache: ContentCache | None = None, *, quiet: bool = False,
                 options: TransferOptions | None = None, keep: bool = False) -> None:
        self.cache = cache
        self.quiet = quiet
        self.options = options or TransferOptions()
        self.keep = keep  # keep data/ after the job (default: removed on exit)

    @contextmanager
    def materialize(self, source: Source, workdir: Path) -> Iterator[Materialized]:
        if source.local_path is not None:
            if not source.local_path.exists():
                raise TransferFailed(f"input {source.local_path} does not exist",
                                     failed=[str(source.local_path)])
            yield Materialized(host_path=source.local_path, read_only=True, shared=True)
            return
        if self.cache is not None and source.cache_key:
            with self.cache.use(source.cache_key,
                                lambda into, state: self._fill_cache(source, into, state)) as (folder, hit):
                log.info("download %s: cache %s", source.url, "hit" if hit else "miss")
                yield Materialized(host_path=folder, read_only=True, shared=True)
            return
        data = workdir / "data"
        try:
            self._download(source, data, workdir / "state")
        except TransferFailed as exc:
            _remove(data, workdir / "state")  # a job folder is never a place to resume from
            raise _after_failure(exc, "the partial download was removed from the job folder",
                                 "check that the storage is reachable, then run the job again") from exc
        except BaseException:  # a cancel (``JobCanceled``), Ctrl-C, any other error: nothing is kept either
            _remove(data, workdir / "state")
            raise
        remove_tree(workdir / "state")
        try:
            yield Materialized(host_path=data, read_only=True)
        finally:
            if not self.keep:
                remove_tree(data)

    def _fill_cache(self, source: Source, into: Path, state: Path) -> None:
        """Download into the cache's partial entry. After an outage what arrived stays there and the
        next download of the same key resumes from it; after a full disk it is removed (it holds space
        the workspace needs)."""
        try:
            self._download(source, into, state)
        except TransferFailed as exc:
            cache = self.cache.root if self.cache is not None else into
            if exc.disk_full:
                _remove(into, state)
                raise _after_failure(exc, "the partial download was removed to free the space",
                                     f"free space there (`runner cache prune` empties the download cache "
                                     f"{cache}), then run the job again") from exc
            raise _after_failure(exc, f"what arrived is kept in the download cache ({cache}) and running "
                                      "the job again resumes from it",
                                 "check that the storage is reachable, then run the job again "
                                 "(`runner cache prune` drops the partial download)") from exc

    def _download(self, source: Source, into: Path, state: Path) -> None:
        store = open_store(source.fs)
        try:
            files = store.list_files(source.path)
        except (OSError, ValueError) as exc:
            raise TransferFailed(f"cannot list {source.url}: {exc}", failed=[source.url]) from exc
        # ``into`` is the job's data/ or the cache's partial entry: nothing reads it before this returns
        download_files(store, files, into, state, options=self.options, quiet=self.quiet,
                       description=f"download {Path(source.path).name or source.url}", in_place=True)


def _remove(*folders: Path) -> None:
    for folder in folders:
        remove_tree(folder)


def _after_failure(exc: TransferFailed, what_happened: str, hint: str) -> TransferFailed:
    """``exc`` saying what became of the partial data and what to do (the one message a job shows)."""
    if exc.disk_full and "free space" not in hint:
        hint = "free space on that filesystem (`runner cache prune` empties the download cache), then " \
               "run the job again"
    return TransferFailed(f"{exc}; {what_happened}", failed=exc.failed, staged=None, hint=hint,
                          disk_full=exc.disk_full)
