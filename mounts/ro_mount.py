"""``ro_mount``: an input read through a read-only FUSE mount (or a read-only bind of a local path).

The mount is made on the host under ``workdir`` with ``allow_other`` so the container (another user
namespace view of the same kernel mount) can read it through a read-only bind mount made by the
executor. Data is fetched lazily with parallel readahead; writes fail with EROFS.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mounts.base import Materialized, Source
from mounts.fuse_ro import FsspecReadOnly
from mounts.lifecycle import MountOptions, fuse_mount
from mounts.readahead import Prefetcher, ReadaheadConfig, fsspec_range_fetch

log = logging.getLogger(__name__)


@dataclass
class RoMountStrategy:
    """Input strategy for ``ro_mount`` (and ``eval_mount``-like read-only mounts)."""

    readahead: ReadaheadConfig = field(default_factory=ReadaheadConfig)
    ready_timeout: float = 10.0
    single_threaded: bool = True

    @contextlib.contextmanager
    def materialize(self, source: Source, workdir: Path) -> Iterator[Materialized]:
        if source.local_path is not None:
            # A local datastore needs no FUSE: the executor binds the path read-only.
            yield Materialized(host_path=Path(source.local_path), read_only=True, uri=source.url)
            return
        mountpoint = Path(workdir) / "mnt"
        file_name = None if source.is_dir else source.path.rstrip("/").rsplit("/", 1)[-1]
        prefetcher = Prefetcher(fsspec_range_fetch(source.fs), self.readahead)
        operations = FsspecReadOnly(source.fs, source.path, prefetcher, file_name=file_name)
        options = MountOptions(read_only=True, single_threaded=self.single_threaded, fsname="runner-ro",
                               extra={"kernel_cache": True, "entry_timeout": 3600, "attr_timeout": 3600,
                                      "negative_timeout": 60})
        try:
            with fuse_mount(operations, mountpoint, options, self.ready_timeout):
                log.info("mounted %s read-only at %s", source.url, mountpoint)
                yield Materialized(host_path=mountpoint, read_only=True, uri=source.url)
        finally:
            prefetcher.close()
