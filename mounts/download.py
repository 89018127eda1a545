"""``download`` mode: the input is copied under the job directory before the job starts.

Layout under the caller's ``workdir``: ``data/`` is what the job sees (``Materialized.host_path``; a file
input appears as ``data/<basename>``, a folder input's contents directly in ``data/``) and ``state/``
keeps resume information while a download is incomplete (see ``mounts.transfer.downloader``).

With a ``ContentCache`` and a ``source.cache_key`` the content is downloaded into the cache once and
hard-linked into ``data/`` (a hit makes no request at all). A local source (``source.local_path``) is
hard-linked (or copied) straight from the datastore folder. ``data/`` is removed when the job is done;
after a failed download it stays, so a rerun resumes.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mounts.base import Materialized, Source
from mounts.cache import ContentCache, link_file, link_tree
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
        data = workdir / "data"
        if source.local_path is not None:
            self._link_local(source.local_path, data, source.is_dir)
        elif self.cache is not None and source.cache_key:
            shutil.rmtree(data, ignore_errors=True)
            hit = self.cache.get_or_fill(source.cache_key, data,
                                         lambda into, state: self._download(source, into, state))
            log.info("download %s: cache %s", source.url, "hit" if hit else "miss")
        else:
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

    @staticmethod
    def _link_local(path: Path, data: Path, is_dir: bool) -> None:
        if not path.exists():
            raise TransferFailed(f"input {path} does not exist", failed=[str(path)])
        shutil.rmtree(data, ignore_errors=True)
        if path.is_dir():
            link_tree(path, data)
        else:
            data.mkdir(parents=True, exist_ok=True)
            link_file(path, data / path.name)
