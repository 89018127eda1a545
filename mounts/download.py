"""``download`` mode: the input is copied under the job directory before the job starts.

Layout under the caller's ``workdir``: ``data/`` is what the job sees (``Materialized.host_path``; a file
input appears as ``data/<basename>``, a folder input's contents directly in ``data/``) and ``state/``
keeps resume information while a download is incomplete (see ``mounts.transfer.downloader``).

With a ``ContentCache`` and a ``source.cache_key`` the content is downloaded into the cache once and the
job gets the cache entry itself (a hit makes no request and copies nothing). A local source
(``source.local_path``: a local datastore, a registered model's folder) is already local: the job gets
it as it is. Both are ``shared`` (not the job's own): the backend makes them read-only for the job, so
a job can never write into the cache or a registered model through its input. ``data/`` is removed
when the job is done; after a failed download it stays, so a rerun resumes.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mounts.base import Materialized, Source
from mounts.cache import ContentCache
from mounts.errors import TransferFailed
from mounts.stores.open import open_store
from mounts.transfer.downloader import TransferOptions, download_files

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
                                lambda into, state: self._download(source, into, state)) as (folder, hit):
                log.info("download %s: cache %s", source.url, "hit" if hit else "miss")
                yield Materialized(host_path=folder, read_only=True, shared=True)
            return
        data = workdir / "data"
        self._download(source, data, workdir / "state")
        shutil.rmtree(workdir / "state", ignore_errors=True)
        try:
            yield Materialized(host_path=data, read_only=True)
        finally:
            if not self.keep:
                shutil.rmtree(data, ignore_errors=True)

    def _download(self, source: Source, into: Path, state: Path) -> None:
        store = open_store(source.fs)
        try:
            files = store.list_files(source.path)
        except (OSError, ValueError) as exc:
            raise TransferFailed(f"cannot list {source.url}: {exc}", failed=[source.url]) from exc
        download_files(store, files, into, state, options=self.options, quiet=self.quiet,
                       description=f"download {Path(source.path).name or source.url}")
