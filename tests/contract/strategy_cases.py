"""The strategy contract suite's building blocks: storage backends and the strategies under test.

Backends (``backend`` fixture, parametrized): a local datastore folder (``local``: ``local_path`` set,
bind/hard-link paths), the same folder reached only through fsspec's ``LocalFileSystem`` (``file``),
``memory://`` (``memory``), and an Azure Blob container on Azurite through adlfs (``azure``).

Strategies: ``INPUT_CASES`` / ``OUTPUT_CASES`` list every strategy the suite runs. **To opt a strategy
in, append a ``StrategyCase`` to the list** (e.g. in this file, next to the others)::

    OUTPUT_CASES.append(StrategyCase("rw_mount", lambda ctx: RwMountStrategy(), mounts=True, stages=True))

``factory`` gets a ``CaseContext`` (a scratch dir for caches, small part sizes that exercise ranged and
block transfers on small data); ``needs`` names fixtures to request first; ``mounts`` says the strategy
makes a FUSE mount over a remote store (not over a local datastore, which it binds): those tests are
marked ``fuse`` at collection (``conftest.py``) and ask for ``fuse_available``; ``stages`` says the
strategy keeps a local copy that ``SkipFinalize`` preserves.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Source, Target
from mounts.cache import ContentCache
from mounts.direct import DirectInputStrategy, DirectOutputStrategy
from mounts.download import DownloadStrategy
from mounts.transfer.downloader import TransferOptions
from mounts.upload import UploadStrategy

MiB = 1 << 20
# small sizes so a few MiB of test data go through ranged reads, several parts and blocks
SMALL_PARTS = TransferOptions(workers=6, part_size=1 * MiB, first_part=256 * 1024,
                              multipart_threshold=2 * MiB, block_size=1 * MiB, single_put_max=512 * 1024,
                              stream_put_max=2 * MiB, max_blocks_in_flight=3)


@dataclass(frozen=True)
class CaseContext:
    scratch: Path  # a directory the strategy may use for caches etc.
    options: TransferOptions = SMALL_PARTS


@dataclass(frozen=True)
class StrategyCase:
    name: str
    factory: Callable[[CaseContext], Any]
    needs: tuple[str, ...] = ()  # fixtures to request before running (they skip when unavailable)
    mounts: bool = False  # a FUSE mount over a remote store (a local datastore is bound, not mounted)
    stages: bool = False  # keeps a local staged copy (SkipFinalize keeps it, failures name it)
    checks_existence: bool = True  # entering with a missing input raises

    def __str__(self) -> str:
        return self.name


INPUT_CASES: list[StrategyCase] = [
    StrategyCase("download", lambda ctx: DownloadStrategy(quiet=True, options=ctx.options)),
    StrategyCase("download-cached", lambda ctx: DownloadStrategy(
        ContentCache(ctx.scratch / "cache"), quiet=True, options=ctx.options)),
    StrategyCase("direct", lambda ctx: DirectInputStrategy(), checks_existence=False),
]
OUTPUT_CASES: list[StrategyCase] = [
    StrategyCase("upload", lambda ctx: UploadStrategy(quiet=True, options=ctx.options), stages=True),
    StrategyCase("direct", lambda ctx: DirectOutputStrategy()),
]


def sha256_tree(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


@dataclass
class Backend:
    """One storage backend: where test data lives and how strategies and jobs reach it."""

    name: str
    fs: AbstractFileSystem
    root: str  # a fresh folder on ``fs`` for this test
    url_prefix: str  # ``root`` as a URL
    env: dict[str, str] = field(default_factory=dict)
    local_root: Path | None = None  # set for the local datastore backend
    open_options: dict[str, str] = field(default_factory=dict)  # what a job passes to fsspec

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}".rstrip("/")

    def url(self, rel: str) -> str:
        return f"{self.url_prefix}/{rel}".rstrip("/")

    def local(self, rel: str) -> Path | None:
        return None if self.local_root is None else self.local_root / rel

    def write_tree(self, rel: str, files: Mapping[str, bytes]) -> None:
        for name, data in files.items():
            path = self.path(f"{rel}/{name}")
            if isinstance(self.fs, LocalFileSystem):
                self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(path, data)

    def source(self, rel: str, *, is_dir: bool, cache_key: str | None = None) -> Source:
        return Source(fs=self.fs, path=self.path(rel), url=self.url(rel), is_dir=is_dir,
                      cache_key=cache_key or f"{self.name}:{self.path(rel)}:{uuid.uuid4().hex}",
                      env=self.env, local_path=self.local(rel))

    def target(self, rel: str, *, is_file: bool = False) -> Target:
        return Target(fs=self.fs, path=self.path(rel), url=self.url(rel), is_file=is_file,
                      env=self.env, local_path=self.local(rel))

    def read_tree(self, rel: str) -> dict[str, str]:
        """SHA-256 of every file under ``rel`` on the store, streamed."""
        self.fs.invalidate_cache()
        root = self.path(rel)
        out = {}
        for path in self.fs.find(root):
            digest = hashlib.sha256()
            with self.fs.open(path, "rb") as stream:
                while block := stream.read(MiB):
                    digest.update(block)
            out[path[len(root) + 1:]] = digest.hexdigest()
        return out


def case_strategy(request: pytest.FixtureRequest, case: StrategyCase, scratch: Path) -> Any:
    for fixture in case.needs:
        request.getfixturevalue(fixture)
    if request.node.get_closest_marker("fuse") is not None:  # (conftest marks the tests that mount)
        request.getfixturevalue("fuse_available")
    return case.factory(CaseContext(scratch))


# FUSE strategies (mounts/ro_mount.py, mounts/rw_mount.py). rw_mount uploads each file when it is
# closed, so nothing stays staged for SkipFinalize to keep (stages=False).
def _fuse_cases() -> None:
    from mounts.ro_mount import RoMountStrategy
    from mounts.rw_mount import RwMountStrategy

    INPUT_CASES.append(StrategyCase("ro_mount", lambda ctx: RoMountStrategy(), mounts=True))
    OUTPUT_CASES.append(StrategyCase("rw_mount", lambda ctx: RwMountStrategy(transfer=ctx.options),
                                     mounts=True))


_fuse_cases()
