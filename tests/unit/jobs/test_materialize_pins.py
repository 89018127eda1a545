"""Which of a container's binds go through a pin (``mounts.pin``, read-only all the way down for an
input): every read-only input that is not the job's own data (a local datastore's folder, a local folder
on no datastore, a cache entry), by every mode that binds it; the job's own downloaded copy and a FUSE
mountpoint the runner made are bound as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mounts.base import Materialized
from runner.jobs.materialize import Materializations
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding


class FakePins:
    def __init__(self) -> None:
        self.inputs: list[tuple[Path, Path | None]] = []

    def pin_input(self, path: Path, *, within: Path | None) -> Path:
        self.inputs.append((path, within))
        return Path("/run/runner/pins/p") / path.name


def _binding(mode: Mode, tmp_path: Path) -> Binding:
    return Binding(name="x", direction=Direction.INPUT, type=AssetType.URI_FOLDER, mode=mode,
                   uri=str(tmp_path), kind=PathKind.FOLDER, host_path=str(tmp_path / "job" / "x"),
                   container_path="/mnt/runner/inputs/x", value="/mnt/runner/inputs/x", host_value="")


@pytest.mark.parametrize("mode", [Mode.RO_MOUNT, Mode.DOWNLOAD, Mode.DIRECT])
@pytest.mark.parametrize("within", [None, "store"])
def test_shared_read_only_data_is_bound_from_its_pin(tmp_path: Path, mode: Mode, within: str | None) -> None:
    data = tmp_path / "store" / "data"
    data.mkdir(parents=True)
    pins: Any = FakePins()
    mats = Materializations(pins=pins, in_container=True)
    root = tmp_path / "store" if within else None
    mats.add(_binding(mode, tmp_path), Materialized(host_path=data, read_only=True, shared=True), within=root)
    assert pins.inputs == [(data, root)]
    assert [m.host_path for m in mats.mounts] == ["/run/runner/pins/p/data"]
    assert all(m.read_only for m in mats.mounts)


def test_the_jobs_own_copy_is_bound_as_it_is(tmp_path: Path) -> None:
    """A download into the job's folder, a FUSE mountpoint the runner made: nothing of the user's below."""
    own = tmp_path / "job" / "x" / "data"
    own.mkdir(parents=True)
    pins: Any = FakePins()
    mats = Materializations(pins=pins, in_container=True)
    mats.add(_binding(Mode.DOWNLOAD, tmp_path), Materialized(host_path=own, read_only=True))
    assert pins.inputs == [] and [m.host_path for m in mats.mounts] == [str(own)]
