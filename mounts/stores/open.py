"""``open_store``: the fastest ``BlobStore`` for an fsspec filesystem."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mounts.stores.azure import azure_store_for
from mounts.stores.base import BlobStore

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


def open_store(fs: AbstractFileSystem, *, fast: bool = True) -> BlobStore:
    """The fastest ``BlobStore`` for ``fs``: the lean Azure client for adlfs, else generic fsspec."""
    if fast and os.environ.get("RUNNER_TRANSFER_GENERIC", "") in ("", "0"):
        store = azure_store_for(fs)
        if store is not None:
            return store
    from mounts.stores.fsspec_store import FsspecStore  # start-up cost: fsspec, for other filesystems only

    return FsspecStore(fs)
