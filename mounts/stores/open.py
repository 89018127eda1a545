"""``open_store``: the fastest ``BlobStore`` for an fsspec filesystem."""

from __future__ import annotations

import os

from fsspec import AbstractFileSystem

from mounts.stores.azure import azure_store_for
from mounts.stores.base import BlobStore
from mounts.stores.fsspec_store import FsspecStore


def open_store(fs: AbstractFileSystem, *, fast: bool = True) -> BlobStore:
    """The fastest ``BlobStore`` for ``fs``: the lean Azure client for adlfs, else generic fsspec."""
    if fast and os.environ.get("RUNNER_TRANSFER_GENERIC", "") in ("", "0"):
        store = azure_store_for(fs)
        if store is not None:
            return store
    return FsspecStore(fs)
