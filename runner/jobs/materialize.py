"""Materialize a plan's bindings with the strategy for each mode; the one boundary where ``mounts``
errors become ``runner.errors``.

Inputs are entered on the caller's ``ExitStack`` (so every exit path unmounts / removes scratch).
Outputs are held in an ``OutputSet`` that finalizes each output independently on exit (one failed
upload does not keep the others from being finalized) and can keep staged data without uploading
(``SkipFinalize``, for a failed job run with ``--no-upload-on-failure``: ``held_back`` then names where
each output's data stayed).

The job's ``artifacts`` on a local default datastore are written in place by a command on the host, and
staged, then moved into place, by a container's (``runner.jobs.local_artifacts``): moved in even when the
other outputs are not uploaded, unless the run may hold them back (``OutputSet(stage_artifacts=True)``,
for ``--no-upload-on-failure``), which moves them in only when the job completes.

Direct inputs are materialized last: their credentials are made when read (``DirectCredentials``), so a
SAS counts from the end of the other inputs' downloads.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from mounts.base import InputStrategy, Materialized, OutputStrategy, SkipFinalize, Source, Target
from mounts.cache import ContentCache
from mounts.pin import PinSet
from runner.backends.base import BindMount
from runner.errors import RunnerError, StorageError, TransferError
from runner.jobs.local_artifacts import holds_files, move_artifacts_in, written_in_place
from runner.modes import Direction, Mode, PathKind
from runner.plan.direct_env import merge_direct_env
from runner.plan.types import Binding
from runner.uris import ARTIFACTS
from runner.workspace.jobdir import JobDir, make_writable
from runner.workspace.resolved import ResolvedPath
from runner.workspace.storage_errors import storage_error
from runner.workspace.transfers import translated
from runner.workspace.trees import iter_entries

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
                  is_file=binding.kind is PathKind.FILE, env=resolved.env, local_path=resolved.local_path,
                  local_root=resolved.local_root)


@dataclass
class Materializations:
    """What the backend needs from materialization: bind mounts, env for ``direct``, actual host paths.

    ``env`` merges the ``direct`` bindings' credentials as ``runner.plan.direct_env`` says: each
    binding its own ``..._STORAGE_OPTIONS``, the process-wide variables only where they agree (never
    one binding's credentials for another)."""

    mounts: list[BindMount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # may hold credentials: never recorded
    host_paths: dict[str, str] = field(default_factory=dict)
    _direct: list[tuple[str, Direction, Mapping[str, str]]] = field(default_factory=list, repr=False)
    _direct_keys: set[str] = field(default_factory=set, repr=False)
    # a container's binds of folders on a local datastore are pinned (``mounts.pin``); None: by path
    pins: PinSet | None = field(default=None, repr=False)
    in_container: bool = False  # the command runs in a container, as a user runner does not choose

    def add(self, binding: Binding, done: Materialized, *, within: Path | None = None,
            target: Target | None = None) -> None:
        """``within``: the datastore root an input's own host path lies in (it is pinned there);
        ``target``: a ``direct`` output on this machine (its folder is pinned)."""
        if done.env:
            self._add_direct_env(binding, done.env)
        if done.host_path is None:
            return
        host = str(done.host_path)
        self.host_paths[binding.key] = host
        if binding.mode is Mode.DIRECT:
            # direct on a local store: the URI names the host path, so it is bound at the same path
            # (an output file does not exist yet: its folder is bound)
            if binding.direction is Direction.OUTPUT and not Path(host).is_dir():
                host = str(Path(host).parent)
            source = self._bound_from(host, within, target, shared=done.read_only and done.shared)
            self.mounts.append(BindMount(host_path=source, container_path=host, read_only=done.read_only))
            return
        # a single file is bound where the command expects it (<container_path>/<basename>); a folder
        # (which, for a file input, holds the file under its name) at the container path
        container = binding.value if binding.kind is PathKind.FILE and Path(host).is_file() else (
            binding.container_path)
        source = self._bound_from(host, within, target, shared=done.read_only and done.shared)
        self.mounts.append(BindMount(host_path=source, container_path=container, read_only=done.read_only))

    def _bound_from(self, host: str, within: Path | None, target: Target | None, *, shared: bool) -> str:
        """Where the container's bind of ``host`` comes from: its pin when on a local datastore or ``shared``
        (read-only, not the job's own: a local folder, a cache entry; ``mounts.pin``), else itself."""
        if self.pins is None:
            return host
        if target is not None:
            return str(self.pins.pin_output(target))
        if within is not None or shared:
            return str(self.pins.pin_input(Path(host), within=within))
        return host

    def _add_direct_env(self, binding: Binding, env: Mapping[str, str]) -> None:
        for key in self._direct_keys:  # merged again from every direct binding so far
            self.env.pop(key, None)
        self._direct.append((binding.name, binding.direction, dict(env)))
        merged = merge_direct_env(self._direct).env
        self._direct_keys = set(merged)
        self.env.update(merged)


def materializations(stack: ExitStack, job_name: str, *, pin: bool,
                     holder: Path | None = None) -> Materializations:
    """An empty ``Materializations``; with ``pin`` (a container's binds) its pins are released when
    ``stack`` closes, after everything entered on it later (the container's removal included). ``holder``:
    the job's log (a sweep keeps the pins of a dead runner while its job's watchdog holds it)."""
    pins = stack.enter_context(PinSet(job_name, holder=holder)) if pin else None
    return Materializations(pins=pins, in_container=pin)


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
    entry, a local datastore path), never the path itself. Direct inputs go last: their credentials are
    made when read, so that a SAS counts from the end of the other inputs' downloads."""
    for binding in sorted(bindings, key=lambda b: b.mode is Mode.DIRECT):
        with translated(f"input '{binding.name}' ({binding.mode.value} of {binding.uri})"):
            strategy = input_strategy(binding.mode, cache_root, quiet=quiet)
            workdir = workdir_for(binding, job_dir)
            done = stack.enter_context(strategy.materialize(to_source(resolved[binding.name]), workdir))
            if done.shared and done.read_only and done.host_path is not None and not read_only_binds:
                from mounts.read_only_view import read_only_view  # start-up cost: loads libfuse (FUSE)

                view = stack.enter_context(read_only_view(done.host_path, workdir))
                done = replace(done, host_path=view, uri=str(view) if done.uri else None)
            out.add(binding, done, within=_datastore_root(resolved[binding.name], done))


def _datastore_root(resolved: ResolvedPath, done: Materialized) -> Path | None:
    """The local datastore root an input is bound from when it is bound as its own host path."""
    own = done.host_path is not None and done.host_path == resolved.local_path
    return resolved.local_root if own else None


@dataclass(frozen=True)
class _Entered:
    binding: Binding
    manager: AbstractContextManager[Materialized]
    staged: Path | None  # where the output's data waits until it is finalized (None: written in place)
    target: Target | None = None
    strategy: OutputStrategy | None = None  # its ``warnings``, once finalized: what it left out, renamed


def _target_holds_data(target: Target) -> bool:
    """Whether an output written in place (``direct``, ``rw_mount`` to a remote store) has any data
    at its target: one listing of the store (asked only for a job that did not complete)."""
    try:
        if target.is_file:
            return bool(target.fs.exists(target.path))
        return bool(target.fs.find(target.path, maxdepth=None, withdirs=False, detail=False))
    except Exception as exc:  # noqa: BLE001 - the store cannot say: nothing is known to have arrived
        why = storage_error(exc, target.url).message
        log.warning("cannot tell whether output %s holds data: %s", target.url, why)
        log.debug("listing %s failed", target.url, exc_info=True)  # the traceback behind --debug
        return False


def _staging_of(mode: Mode, target: Target, workdir: Path) -> Path | None:
    """Where an output strategy keeps what the job wrote until it is finalized; None when the job's
    writes reach the target while it runs (``direct``; ``rw_mount`` to a remote store uploads each file
    as it is closed), so they cannot be held back."""
    if mode is Mode.UPLOAD:
        return workdir
    if mode is Mode.RW_MOUNT and target.local_path is not None:
        return workdir / "staged"  # rw_mount to a local folder stages, then moves into place
    return None


def _refused(entered: _Entered, why: str) -> RunnerError:
    """The error of an output not finalized at its place (``OutputSet.close(refused=...)``)."""
    name, mode, staged = entered.binding.name, entered.binding.mode.value, entered.staged
    if staged is not None:  # none of its files went there: each is named as not transferred
        try:
            files = sorted(rel for rel, e in iter_entries(staged) if not e.is_dir(follow_symlinks=False))
        except OSError:  # what cannot be listed is kept all the same
            files = []
        return TransferError(f"output '{name}' was not written to {entered.binding.uri}, since a version was "
                             f"registered there while the job ran: {why}", staged=staged, failed=files,
                             total=len(files),
                             hint=f"copy the output from {staged} (and register the copy), or run the job "
                                  "again with the output written somewhere else")
    return StorageError(f"output '{name}' ({mode}) was written in place while the job ran, and a version was "
                        f"registered there meanwhile: {why}; the version's files may hold what the job wrote",
                        hint="check what the version holds; write such an output somewhere else")


class OutputSet:
    """Entered outputs, finalized one by one on ``close``; errors are collected, not short-circuited.

    ``stage_artifacts``: stage the job's artifacts even on a local datastore, so that ``close(upload=
    False)`` can hold them back like every other output. ``job``, ``node``: the job's name and the Ray node
    it runs on, for what a failed upload's error says to do with the staged data (``staged_hint``)."""

    def __init__(self, *, stage_artifacts: bool = False, quiet: bool = False, job: str | None = None,
                 node: str | None = None) -> None:
        self._entered: list[_Entered] = []
        self.job, self.node = job, node
        self.stage_artifacts = stage_artifacts
        self.quiet = quiet  # no progress bars
        self.errors: dict[str, RunnerError] = {}
        self.held_back: dict[str, Path] = {}  # output -> where its data stayed (close(upload=False))
        self.written_in_place: list[str] = []  # outputs close(upload=False) could not hold back
        self.moved_in: list[str] = []  # not uploaded, yet moved into place: a container's artifacts
        # once closed: what finalizing an output left out of it or renamed ("outputs.<name>: <why>"), each
        # logged once by its strategy; ``record_warnings`` puts them in a record
        self.warnings: list[str] = []
        self.closed = False
        self._staged_data: set[str] = set()  # named outputs whose staging held data at close
        self._in_place: dict[str, Target] = {}  # named outputs written to their target as the job ran

    def enter(self, bindings: tuple[Binding, ...], resolved: Mapping[str, ResolvedPath], job_dir: JobDir,
              out: Materializations) -> None:
        job_dir.make_private()  # what is made writable by every user below it, whatever its mode was
        for binding in bindings:
            entered = self._materialize(binding, to_target(resolved[binding.name], binding), job_dir,
                                        in_container=out.in_container)
            with translated(f"output '{binding.name}' ({binding.mode.value} to {binding.uri})"):
                done = entered.manager.__enter__()
            self._entered.append(entered)
            if done.host_path is not None and entered.staged is not None:
                make_writable(done.host_path)  # a staging folder, in the owner-only job folder
            direct = entered.target if binding.mode is Mode.DIRECT and entered.target is not None and \
                entered.target.local_path is not None else None
            with translated(f"output '{binding.name}' ({binding.mode.value} to {binding.uri})"):
                out.add(binding, done, target=direct)

    def _materialize(self, binding: Binding, target: Target, job_dir: JobDir, *, in_container: bool
                     ) -> _Entered:
        if binding.name == ARTIFACTS and target.local_path is not None and not (
                self.stage_artifacts or in_container):
            return _Entered(binding, written_in_place(target), None)
        workdir = workdir_for(binding, job_dir)
        strategy = output_strategy(binding.mode, quiet=self.quiet)
        return _Entered(binding, strategy.materialize(target, workdir),
                        _staging_of(binding.mode, target, workdir), target, strategy)

    def close(self, *, upload: bool = True, hold_staged: bool = False,
              refused: Mapping[str, str] | None = None) -> dict[str, RunnerError]:
        """Finalize every output (or keep staged data when ``upload`` is False; with ``hold_staged``
        only the outputs that stage, the others, written in place, are finalized); a container's local
        artifacts are moved into place all the same (``_moves_in``). ``refused``: outputs that may not be
        finalized at their place, and why (a version registered there since the job started): kept as
        they are, each an error, as a failed upload is. Idempotent."""
        if self.closed:
            return self.errors
        self.closed = True
        while self._entered:
            entered = self._entered.pop()
            keep = not upload or (hold_staged and entered.staged is not None)
            why = None if keep else (refused or {}).get(entered.binding.name)
            keep = keep or why is not None
            self._note_data(entered)
            self._close_one(entered.binding, entered.manager, not keep)
            self.warnings += [f"outputs.{entered.binding.name}: {note}"
                              for note in getattr(entered.strategy, "warnings", ())]
            if why is not None:
                self.errors[entered.binding.name] = _refused(entered, why)
                continue
            if keep and self._moves_in(entered, free_only=hold_staged):
                continue
            if keep and entered.staged is not None:
                self.held_back[entered.binding.name] = entered.staged
            elif keep:
                self.written_in_place.append(entered.binding.name)
        return self.errors

    def _moves_in(self, entered: _Entered, *, free_only: bool) -> bool:
        """A container's staged artifacts, not uploaded: whether they were moved into place rather than
        held back (never when the run holds them back: ``stage_artifacts``)."""
        staged, target = entered.staged, entered.target
        if entered.binding.name != ARTIFACTS or self.stage_artifacts or staged is None or target is None or \
                target.local_path is None:  # a remote store's: held back as staged outputs are
            return False
        why = move_artifacts_in(staged, target, free_only=free_only, quiet=self.quiet)
        if why is not None:
            log.warning("the job's artifacts stay staged in %s: %s", staged, why)
            return False
        self.moved_in.append(ARTIFACTS)
        return True

    def record_warnings(self, extra: dict[str, Any]) -> None:
        """Add the outputs' warnings to a record's ``extra["warnings"]``, after the plan's, each once
        (``runner job show -o json`` shows them)."""
        known = list(extra.get("warnings") or [])
        if any(note not in known for note in self.warnings):
            extra["warnings"] = known + [note for note in self.warnings if note not in known]

    def kept_staged(self) -> dict[str, Path]:
        """After ``close``: the outputs held back whose staging holds files (an empty one holds nothing)."""
        return {name: path for name, path in self.held_back.items() if holds_files(path)}

    def _note_data(self, entered: _Entered) -> None:
        """Before an output is finalized (its staging uploaded, moved or kept): does it hold data?"""
        name = entered.binding.name
        if name == ARTIFACTS:  # the job's logs and ./outputs: not one of its named outputs
            return
        if entered.staged is not None:
            if holds_files(entered.staged):
                self._staged_data.add(name)
        elif entered.target is not None:
            self._in_place[name] = entered.target

    def outputs_with_data(self) -> list[str]:
        """After ``close``: the named outputs that hold data of this run, whether it reached its target
        (uploaded, moved into place, written in place) or stayed staged (held back, or its upload
        failed). In-place outputs are asked of their store: call it only when the answer matters."""
        found = set(self._staged_data)
        found.update(name for name, target in self._in_place.items() if _target_holds_data(target))
        return sorted(found)

    def _close_one(self, binding: Binding, manager: AbstractContextManager[Materialized],
                   upload: bool) -> None:
        signal_exc: BaseException | None = None if upload else SkipFinalize()
        try:
            with translated(f"output '{binding.name}' ({binding.mode.value} to {binding.uri})", job=self.job,
                            node=self.node):
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
