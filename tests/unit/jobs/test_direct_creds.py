"""When the SAS of a job's ``direct`` bindings is made: once its other inputs are materialized (a download
may take hours), so it stays valid ``limits.timeout`` + ``SAS_MARGIN_S`` after the container starts. The
clock is a fake one the slow fake download moves on; no real time is measured."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from mounts.base import Materialized, Source
from runner.jobs import materialize
from runner.jobs.direct_creds import SAS_MARGIN_S, with_direct_credentials
from runner.jobs.materialize import Materializations, OutputSet, materialize_inputs
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding
from runner.workspace.datastores import DatastoreStore
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath

TIMEOUT_S = 600.0
DOWNLOAD_S = 5 * 3600.0  # far longer than the margin


class Clock:
    now = 0.0


class FakeDatastore:
    """Makes a SAS whose expiry (``se=``, seconds on the fake clock) counts from when it is made."""

    def __init__(self, clock: Clock, name: str) -> None:
        self.clock, self.name = clock, name
        self.made: list[float] = []

    def direct_env(self, *, write: bool = False, valid_s: float = 0) -> dict[str, str]:
        self.made.append(self.clock.now)
        return {"AZURE_STORAGE_SAS_TOKEN": f"sp={'rw' if write else 'r'}&se={self.clock.now + valid_s}"}


class FakeStore:
    def __init__(self, clock: Clock) -> None:
        self.datastores = {name: FakeDatastore(clock, name) for name in ("az", "out")}

    def get(self, name: str) -> FakeDatastore:
        return self.datastores[name]


class SlowDownload:
    """A download that takes ``DOWNLOAD_S`` on the fake clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @contextmanager
    def materialize(self, source: Source, workdir: Path) -> Iterator[Materialized]:
        self.clock.now += DOWNLOAD_S
        yield Materialized(host_path=workdir, read_only=True)


def _binding(name: str, direction: Direction, mode: Mode) -> Binding:
    where = f"/mnt/runner/{direction.value}s/{name}"
    return Binding(name=name, direction=direction, type=AssetType.URI_FOLDER, mode=mode,
                   uri=f"azureml://datastores/az/paths/{name}", kind=PathKind.FOLDER, host_path=where,
                   container_path=where, value=where, host_value=where)


def _remote(name: str, datastore: str) -> ResolvedPath:
    return ResolvedPath(uri=f"azureml://datastores/{datastore}/paths/{name}", fs=cast(Any, object()),
                        path=f"c/{name}", url=f"abfs://c/{name}", kind=PathKind.FOLDER, datastore=datastore)


def _expiries(env: dict[str, str]) -> list[float]:
    """Every ``se=`` in the job's environment (the per-binding storage options hold it too)."""
    return [float(found) for value in env.values() for found in re.findall(r"se=([0-9.]+)", value)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    real = materialize.input_strategy

    def strategy(mode: Mode, cache_root: Path | None, *, quiet: bool = False) -> Any:
        return SlowDownload(clock) if mode is Mode.DOWNLOAD else real(mode, cache_root, quiet=quiet)

    monkeypatch.setattr(materialize, "input_strategy", strategy)
    return clock


def test_the_sas_counts_from_the_end_of_a_slow_download_not_from_resolving(tmp_path: Path,
                                                                           clock: Clock) -> None:
    """A direct input listed before a slow download input, and a direct output on another datastore:
    each SAS still expires at least timeout + margin after the inputs are all there."""
    inputs = (_binding("d", Direction.INPUT, Mode.DIRECT), _binding("big", Direction.INPUT, Mode.DOWNLOAD))
    outputs = (_binding("o", Direction.OUTPUT, Mode.DIRECT),)
    store = FakeStore(clock)
    resolved_in, resolved_out = with_direct_credentials(
        inputs, outputs, {"d": _remote("d", "az"), "big": _remote("big", "az")}, {"o": _remote("o", "out")},
        cast(DatastoreStore, store), timeout_s=TIMEOUT_S)
    job_dir = JobDir(tmp_path / "job")
    mats = Materializations()
    with ExitStack() as stack:
        materialize_inputs(stack, inputs, resolved_in, job_dir, mats)
        with OutputSet() as out:
            out.enter(outputs, resolved_out, job_dir, mats)
            started = clock.now  # the container starts now: nothing else is fetched
            expiries = _expiries(mats.env)
    assert started == DOWNLOAD_S
    assert {store.get("az").made[-1], store.get("out").made[-1]} == {started}
    assert expiries and min(expiries) >= started + TIMEOUT_S + SAS_MARGIN_S, (expiries, started)


def test_credentials_that_cannot_be_made_fail_before_any_fetch(clock: Clock) -> None:
    """The datastore is still asked when the job is resolved: a refusal fails it before the download."""
    class Refusing(FakeDatastore):
        def direct_env(self, *, write: bool = False, valid_s: float = 0) -> dict[str, str]:
            raise RuntimeError(f"datastore '{self.name}' cannot narrow its credentials")

    store = FakeStore(clock)
    store.datastores["az"] = Refusing(clock, "az")
    inputs = (_binding("d", Direction.INPUT, Mode.DIRECT),)
    with pytest.raises(RuntimeError, match="datastore 'az' cannot narrow"):
        with_direct_credentials(inputs, (), {"d": _remote("d", "az")}, {}, cast(DatastoreStore, store),
                                timeout_s=TIMEOUT_S)


def test_bindings_on_one_datastore_share_credentials_made_when_first_read(clock: Clock) -> None:
    inputs = (_binding("a", Direction.INPUT, Mode.DIRECT), _binding("b", Direction.INPUT, Mode.DIRECT))
    store = FakeStore(clock)
    resolved, _ = with_direct_credentials(inputs, (), {"a": _remote("a", "az"), "b": _remote("b", "az")}, {},
                                          cast(DatastoreStore, store), timeout_s=None)
    made = len(store.get("az").made)
    assert dict(resolved["a"].env) == dict(resolved["b"].env)
    assert len(store.get("az").made) == made + 1  # made when read, once for both bindings
    assert "se=" not in repr(resolved["a"].env) and "se=" not in str(resolved["a"])
