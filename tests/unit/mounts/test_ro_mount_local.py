"""ro_mount of a local datastore: the path itself, bound read-only by the executor; no FUSE."""

from __future__ import annotations

from pathlib import Path

from fsspec.implementations.local import LocalFileSystem

from mounts.base import Source
from mounts.fuse.lifecycle import is_mounted
from mounts.ro_mount import RoMountStrategy


def test_ro_mount_of_a_local_datastore_is_the_path_itself(tmp_path: Path) -> None:
    folder = tmp_path / "datastore" / "model"
    folder.mkdir(parents=True)
    source = Source(fs=LocalFileSystem(), path=str(folder), url=f"file://{folder}", is_dir=True,
                    local_path=folder)
    with RoMountStrategy().materialize(source, tmp_path / "job") as mat:
        assert mat.host_path == folder and mat.read_only
        assert not is_mounted(folder)
