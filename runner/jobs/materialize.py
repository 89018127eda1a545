"""Materialize a plan's bindings with the strategy for each mode; the one boundary where ``mounts``
errors become ``runner.errors``.

Inputs are entered on the caller's ``ExitStack`` (so every exit path unmounts / removes scratch).
Outputs are held in an ``OutputSet`` that finalizes each output independently on exit (one failed
upload does not keep the others from being finalized) and can keep staged data without uploading
(``SkipFinalize``, for a failed job run with ``--no-upload-on-failure``: ``held_back`` then names where
each output's data stayed).

The job's ``artifacts`` on a local default datastore are written in place (nothing to stage or move)
unless the run may have to hold them back (``OutputSet(stage_artifacts=True)``, which the run asks for
with ``--no-upload-on-failure``): then they are staged like any ``upload`` output and moved into place
only when the job completes.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from mounts.base import InputStrategy, Materialized, OutputStrategy, SkipFinalize, Source, Target
from mounts.cache import ContentCache
from mounts.read_only_view import read_only_view
from runner.backends.base import BindMount
from runner.errors import RunnerError
from runner.modes import Direction, Mode, PathKind
from runner.plan.types import Binding
from runner.uris import ARTIFACTS
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath
from runner.workspace.transfers import translated

log = logging.getLogger(__name__)


# mode -> (module, class): imported only for the modes a job uses (FUSE and adlfs imports are slow)
INPUT_STRATEGIES: dict[Mode, tuple[str, str]] = {
    Mode.DOWNLOAD: ("mounts.download", "DownloadStrategy"),
    Mode.RO_MOUNT: ("mounts.ro_mount", "RoMountStrategy"),
    Mode.DIRECT: ("mounts.direct", "DirectInputStrategy"),
}
OUTPUT_STRATEGIES: dict[Mode, tuple[str, str]] = {
    Mode.UPLOAD: ("mounts.upload", "UploadStrategy"),
    Mode.RW_MOUNT: ("mounts.rw_mount", "RwMountStrategy"),
    Mode.DIRECT: ("mounts.direct", "DirectOutputStrategy"),
}


def _strategy_class(table: dict[Mode, tuple[str, str]], mode: Mode) -> Any:
    module, name = table[mode]
    return getattr(importlib.import_module(module), name)


def input_strategy(mode: Mode, cache_root: Path | None, *, quiet: bool = False) -> InputStrategy:
    """``quiet``: no progress bar (there is none anyway unless stderr is a terminal)."""
    cls = _strategy_class(INPUT_STRATEGIES, mode)
    if mode is Mode.DOWNLOAD:
        return cast(InputStrategy, cls(cache=ContentCache(cache_root) if cache_root else None, quiet=quiet))
    return cast(InputStrategy, cls())


def output_strategy(mode: Mode, *, quiet: bool = False) -> OutputStrategy:
    # rw_mount uploads each file as the job closes it, while its log streams: never a bar
    cls = _strategy_class(OUTPUT_STRATEGIES, mode)
    return cast(OutputStrategy, cls(quiet=quiet) if mode is Mode.UPLOAD else cls())


def to_source(resolved: ResolvedPath) -> Source:
    return Source(fs=resolved.fs, path=resolved.path, url=resolved.url,
                  is_dir=resolved.kind is not PathKind.FILE, cache_key=resolved.cache_key,
                  env=resolved.env, local_path=resolved.local_path)


def to_target(resolved: ResolvedPath, binding: Binding) -> Target:
    return Target(fs=resolved.fs, path=resolved.path, url=resolved.url,
                  is_file=binding.kind is PathKind.FILE, env=resolved.env, local_path=resolved.local_path)


@dataclass
class Materializations:
    """What the backend needs from materialization: bind mounts, env for ``direct``, actual host paths."""

    mounts: list[BindMount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # may hold credentials: never recorded
    host_paths: dict[str, str] = field(default_factory=dict)

    def add(self, binding: Binding, done: Materialized) -> None:
        self.env.update(done.env)
        if done.host_path is None:
            return
        host = str(done.host_path)
        self.host_paths[binding.name] = host
        if binding.mode is Mode.DIRECT:
            # direct on a local store: the URI names the host path, so it is bound at the same path
            # (an output file does not exist yet: its folder is bound)
            if binding.direction is Direction.OUTPUT and not Path(host).is_dir():
                host = str(Path(host).parent)
            self.mounts.append(BindMount(host_path=host, container_path=host, read_only=done.read_only))
            return
        # a single file is bound where the command expects it (<container_path>/<basename>); a folder
        # (which, for a file input, holds the file under its name) at the container path
        target = binding.value if binding.kind is PathKind.FILE and Path(host).is_file() else (
            binding.container_path)
        self.mounts.append(BindMount(host_path=host, container_path=target, read_only=done.read_only))


def workdir_for(binding: Binding, job_dir: JobDir) -> Path:
    folder = job_dir.scratch(binding.direction, binding.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def materialize_inputs(stack: ExitStack, bindings: tuple[Binding, ...],
                       resolved: Mapping[str, ResolvedPath], job_dir: JobDir, out: Materializations,
                       cache_root: Path | None = None, *, quiet: bool = False,
                       read_only_binds: bool = True) -> None:
    """Materialize every input on ``stack``. A backend without ``read_only_binds`` (a host process)
    gets a read-only view of data that is not the job's own (a registered model's folder, a cache
    entry, a local datastore path), never the path itself."""
    for binding in bindings:
        with translated(f"input '{binding.name}' ({binding.mode.value} of {binding.uri})"):
            strategy = input_strategy(binding.mode, cache_root, quiet=quiet)
            workdir = workdir_for(binding, job_dir)
            done = stack.enter_context(strategy.materialize(to_source(resolved[binding.name]), workdir))
            if done.shared and done.read_only and done.host_path is not None and not read_only_binds:
                view = stack.enter_context(read_only_view(done.host_path, workdir))
                done = replace(done, host_path=view, uri=str(view) if done.uri else None)
        out.add(binding, done)


@contextlib.contextmanager
def _written_in_place(folder: Path) -> Iterator[Materialized]:
    """The artifacts of a job on a local default datastore: written straight to their final folder
    (MLflow and the collected ./outputs, ./logs): nothing to stage, move or upload."""
    folder.mkdir(parents=True, exist_ok=True)
    yield Materialized(host_path=folder, read_only=False)


@dataclass(frozen=True)
class _Entered:
    binding: Binding
    manager: AbstractContextManager[Materialized]
    staged: Path | None  # where the output's data waits until it is finalized (None: written in place)


def _staging_of(mode: Mode, target: Target, workdir: Path) -> Path | None:
    """Where an output strategy keeps what the job wrote until it is finalized; None when the job's
    writes reach the target while it runs (``direct``; ``rw_mount`` to a remote store uploads each file
    as it is closed), so they cannot be held back."""
    if mode is Mode.UPLOAD:
        return workdir
    if mode is Mode.RW_MOUNT and target.local_path is not None:
        return workdir / "staged"  # rw_mount to a local folder stages, then moves into place
    return None


class OutputSet:
    """Entered outputs, finalized one by one on ``close``; errors are collected, not short-circuited.

    ``stage_artifacts``: stage the job's artifacts even on a local datastore, so that ``close(upload=
    False)`` can hold them back like every other output."""

    def __init__(self, *, stage_artifacts: bool = False, quiet: bool = False) -> None:
        self._entered: list[_Entered] = []
        self.stage_artifacts = stage_artifacts
        self.quiet = quiet  # no progress bars
        self.errors: dict[str, RunnerError] = {}
        self.held_back: dict[str, Path] = {}  # output -> where its data stayed (close(upload=False))
        self.written_in_place: list[str] = []  # outputs close(upload=False) could not hold back
        self.closed = False

    def enter(self, bindings: tuple[Binding, ...], resolved: Mapping[str, ResolvedPath], job_dir: JobDir,
              out: Materializations) -> None:
        for binding in bindings:
            entered = self._materialize(binding, to_target(resolved[binding.name], binding), job_dir)
            with translated(f"output '{binding.name}' ({binding.mode.value} to {binding.uri})"):
                done = entered.manager.__enter__()
            self._entered.append(entered)
            out.add(binding, done)

    def _materialize(self, binding: Binding, target: Target, job_dir: JobDir) -> _Entered:
        if binding.name == ARTIFACTS and target.local_path is not None and not self.stage_artifacts:
            return _Entered(binding, _written_in_place(target.local_path), None)
        workdir = workdir_for(binding, job_dir)
        return _Entered(binding, output_strategy(binding.mode, quiet=self.quiet).materialize(target, workdir),
                        _staging_of(binding.mode, target, workdir))

    def close(self, *, upload: bool = True) -> dict[str, RunnerError]:
        """Finalize every output (or keep staged data when ``upload`` is False). Idempotent."""
        if self.closed:
            return self.errors
        self.closed = True
        while self._entered:
            entered = self._entered.pop()
            self._close_one(entered.binding, entered.manager, upload)
            if not upload and entered.staged is not None:
                self.held_back[entered.binding.name] = entered.staged
            elif not upload:
                self.written_in_place.append(entered.binding.name)
        return self.errors

    def _close_one(self, binding: Binding, manager: AbstractContextManager[Materialized],
                   upload: bool) -> None:
        signal_exc: BaseException | None = None if upload else SkipFinalize()
        try:
            with translated(f"output '{binding.name}' ({binding.mode.value} to {binding.uri})"):
                try:
                    if signal_exc is None:
                        manager.__exit__(None, None, None)
                    else:
                        manager.__exit__(SkipFinalize, signal_exc, None)
                except SkipFinalize:
                    pass
        except RunnerError as err:
            log.warning("finalizing output %s failed: %s", binding.name, err.message)
            self.errors[binding.name] = err

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any:
        self.close(upload=exc_type is None)  # an unexpected error: keep staged data, do not upload
        return None
