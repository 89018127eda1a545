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
from typing import Any

from mounts.base import Materialized, Source
from mounts.errors import MountFailed
from mounts.fuse.lifecycle import MountOptions, fuse_mount
from mounts.fuse.readahead import Prefetcher, ReadaheadConfig
from mounts.fuse.ro import FsspecReadOnly
from mounts.stores.open import open_store
from mounts.transfer.state import FIX
from mounts.transfer.tree import printable

log = logging.getLogger(__name__)


@dataclass
class RoMountStrategy:
    """Input strategy for ``ro_mount`` (and ``eval_mount``-like read-only mounts)."""

    readahead: ReadaheadConfig = field(default_factory=ReadaheadConfig)
    ready_timeout: float = 10.0
    unmount_timeout: float = 10.0  # then the FUSE connection is aborted (see mounts.fuse.lifecycle)
    # a multithreaded FUSE loop: one read waiting for storage does not stall lookups and other files
    # (and measured faster here: bench/fuse_binding.py)
    single_threaded: bool = False
    read_ahead_kb: int = MountOptions.read_ahead_kb  # the kernel's readahead window (mounts.fuse.lifecycle)
    # a local source is bound read-only by the executor, without FUSE; True mounts it through FUSE too
    # (``mounts.read_only_view``: for a job that runs on the host, where there is no read-only bind)
    fuse_local: bool = False

    @contextlib.contextmanager
    def materialize(self, source: Source, workdir: Path) -> Iterator[Materialized]:
        root_info = _check_exists(source)
        if source.local_path is not None and not self.fuse_local:
            # A local datastore needs no FUSE: the executor binds the path read-only.
            yield Materialized(host_path=Path(source.local_path), read_only=True, shared=True)
            return
        mountpoint = Path(workdir) / "mnt"
        file_name = None if source.is_dir else source.path.rstrip("/").rsplit("/", 1)[-1]
        store = open_store(source.fs)
        prefetcher = Prefetcher.for_store(store, self.readahead)
        # the lean client lists folders of a container (not the account's containers: no container)
        lister = getattr(store, "list_folder", None) if source.path.strip("/") else None
        operations = FsspecReadOnly(source.fs, source.path, prefetcher, file_name=file_name,
                                    root_info=root_info, lister=lister)
        options = MountOptions(read_only=True, single_threaded=self.single_threaded, fsname="runner-ro",
                               unmount_timeout=self.unmount_timeout, read_ahead_kb=self.read_ahead_kb,
                               extra={"kernel_cache": True, "entry_timeout": 3600, "attr_timeout": 3600,
                                      "negative_timeout": 60})
        try:
            with fuse_mount(operations, mountpoint, options, self.ready_timeout):
                operations.warm()
                log.info("mounted %s read-only at %s", source.url, mountpoint)
                yield Materialized(host_path=mountpoint, read_only=True)
        finally:
            prefetcher.close()
            if operations.hidden_count:  # one warning per mount, with the count of its listings
                note = hidden_note(operations.hidden_count, operations.hidden)
                log.warning("input %s: %s", source.url, note)


def hidden_note(count: int, shown: list[str], mount: str = "read-only") -> str:
    """What a read-only (or read-write: ``mounts.fuse.rw_names``) mount left out of its folders' listings
    (``mounts.fuse.ro.NOT_NAMES``), in the words of a download's refusal of such a name
    (``mounts.transfer.state``)."""
    names = ", ".join(f"'{printable(name)}'" for name in sorted(shown))
    names += ", ..." if count > len(shown) else ""
    many = f"{count} stored names were" if count > 1 else "1 stored name was"
    return (f"{many} not shown in the {mount} mount ({names}): a name with an empty, '.' or '..' "
            "segment is no entry of a folder (a '..' would list as a second '..'; a lookup of '..' never "
            "reaches it); " + FIX.format(what="those blobs" if count > 1 else "that blob"))


def _check_exists(source: Source) -> dict[str, Any]:
    """Fail before mounting when the source is missing (one ``info`` request on a remote store)."""
    if source.local_path is not None:
        if not Path(source.local_path).exists():
            raise MountFailed(f"input {source.url} does not exist (no such path {source.local_path})")
        return {}
    try:
        info = source.fs.info(source.path)
    except FileNotFoundError as exc:
        raise MountFailed(f"input {source.url} does not exist") from exc
    if (info.get("type") == "directory") != source.is_dir:
        kind = "folder" if source.is_dir else "file"
        raise MountFailed(f"input {source.url} is not a {kind}")
    return dict(info)
