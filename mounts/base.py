"""The materialization strategy interface. ``mounts`` knows fsspec and FUSE, never jobs.

An *input* strategy turns a ``Source`` (a file or folder on some fsspec filesystem) into something a
process can read; an *output* strategy gives a process a place to write and, on exit, makes what was
written durable at a ``Target``. Both are context managers: entering materializes, exiting cleans up
(unmount, remove scratch), and for outputs finalizes (flush, upload, verify). No exit path may leave a
mount behind or delete staged data that was not uploaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem  # fsspec is imported by what makes a filesystem


@dataclass(frozen=True)
class Source:
    """A file or folder to materialize for reading."""

    fs: AbstractFileSystem
    path: str  # path on ``fs`` (protocol stripped)
    url: str  # fsspec URL a job can open itself (``direct``), e.g. ``abfs://c/p`` or ``file:///abs``
    is_dir: bool
    cache_key: str | None = None  # stable identity of the content (datastore+path+etag, model version)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # credentials for ``direct``
    local_path: Path | None = None  # set when ``fs`` is a local filesystem: bind instead of copy/FUSE


@dataclass(frozen=True)
class Target:
    """A folder (or file) location where an output must end up."""

    fs: AbstractFileSystem
    path: str
    url: str
    is_file: bool = False  # a uri_file / file output: one file named ``Path(path).name``
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    local_path: Path | None = None
    # a folder above ``local_path`` that the runner resolved itself (a local datastore's root): writing
    # the output follows no link below it (``mounts.transfer.nofollow``); None: the folder above the
    # output's own folder
    local_root: Path | None = None


@dataclass(frozen=True)
class Materialized:
    """What a strategy hands to the executor.

    ``host_path`` is bind-mounted into the container (read-only when ``read_only``); it is ``None`` for
    ``direct`` on a remote store, where ``uri`` (plus ``env``) is all the job gets. ``shared`` marks a
    host path that is not the job's own (a datastore or registry folder, a cache entry): a backend that
    cannot bind it read-only must give the job a read-only view of it instead (``read_only_view``).
    """

    host_path: Path | None
    read_only: bool
    uri: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    shared: bool = False


class SkipFinalize(Exception):  # noqa: N818 - a signal, not an error
    """Raise inside an output strategy's ``with`` block to keep staged data without uploading it
    (used when a failed job's outputs must not be uploaded)."""


class InputStrategy(Protocol):
    def materialize(self, source: Source, workdir: Path) -> AbstractContextManager[Materialized]:
        """Make ``source`` readable under ``workdir`` (scratch space owned by the caller)."""
        ...


class OutputStrategy(Protocol):
    def materialize(self, target: Target, workdir: Path) -> AbstractContextManager[Materialized]:
        """Give a writable place under ``workdir``; on exit make everything written durable at ``target``.

        Exiting raises ``mounts.errors.TransferFailed`` when any file could not be made durable; the
        staged data is then left in place and named in the exception.
        """
        ...

