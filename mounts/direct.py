"""``direct`` mode: the job gets a URI it opens itself, plus the credentials it needs as environment.

For a remote store the job gets ``source.url`` (an fsspec URL such as ``abfs://container/path``) and
``source.env`` (e.g. ``AZURE_STORAGE_ACCOUNT_NAME`` / ``AZURE_STORAGE_ACCOUNT_KEY`` /
``AZURE_STORAGE_CONNECTION_STRING``, which adlfs reads); nothing is copied or mounted. For a local
datastore the folder is bind-mounted at the same path inside the container, so the URI (the absolute
path) works there unchanged. Once the job is done (its container gone) no file there keeps a set-user-ID
or set-group-ID bit the job gave it (``drop_set_id_in``): the folder is on the host.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from mounts.base import Materialized, Source, Target
from mounts.transfer.nofollow import drop_set_id_in, make_target_folder
from mounts.transfer.tree import LeftOut, entries, named

log = logging.getLogger(__name__)


def _local_or_uri(local_path: Path | None, url: str, env: Mapping[str, str], read_only: bool) -> Materialized:
    if local_path is not None:  # the datastore's own folder: read-only for an input
        return Materialized(host_path=local_path, read_only=read_only, uri=str(local_path), shared=read_only)
    return Materialized(host_path=None, read_only=read_only, uri=url, env=dict(env))


class DirectInputStrategy:
    """Hand the job the input's URI (and credentials); a local datastore path is bound read-only."""

    @contextmanager
    def materialize(self, source: Source, workdir: Path) -> Iterator[Materialized]:
        yield _local_or_uri(source.local_path, source.url, source.env, read_only=True)


class DirectOutputStrategy:
    """Hand the job the output's URI (and credentials): it writes there itself, nothing to finalize.

    For a local datastore the target folder is created and bound read-write at the same path. No link
    below the datastore's root is followed to make it (a job may have made one there, to be given the
    folder it points to): such a link is refused (``LinkNotFollowed``). On exit (the job ended, however)
    its files are cleared of set-user-ID and set-group-ID bits, and what the job left there that is not
    data (a FIFO, a device, a link out of the folder: what no later upload or input takes) is named in one
    warning (``warnings``), left as it is: the folder is the job's. A remote store holds blobs only."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    @contextmanager
    def materialize(self, target: Target, workdir: Path) -> Iterator[Materialized]:
        if target.local_path is None:
            yield _local_or_uri(None, target.url, target.env, read_only=False)
            return
        make_target_folder(target)
        left: list[LeftOut] = []
        try:
            yield _local_or_uri(target.local_path, target.url, target.env, read_only=False)
        finally:
            drop_set_id_in(target, None if target.is_file else left)  # a file's folder is not the output's
            if left:
                self.warnings.append(f"{entries(len(left))} stay in its folder as the job left them, but no "
                                     f"later input or registration of it reads them (only files are data): "
                                     f"{named(left)}")
                log.warning("output %s: %s", target.url, self.warnings[-1])
