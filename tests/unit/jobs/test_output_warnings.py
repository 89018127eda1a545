"""The warnings of a job's outputs (what an output left out, a name Azure changed) are collected per output
when they are finalized, named by output, and go into the record's ``extra["warnings"]`` after the plan's,
once each. Everything in this test's tmp folder; no FIFO is opened."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec

from runner.jobs.materialize import Materializations, OutputSet
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath


def _binding(name: str, mode: Mode, job_dir: JobDir) -> Binding:
    host = str(job_dir.scratch(Direction.OUTPUT, name))
    return Binding(name=name, direction=Direction.OUTPUT, type=AssetType.URI_FOLDER, mode=mode,
                   uri=f"azureml://datastores/workspaceblobstore/paths/{name}", kind=PathKind.FOLDER,
                   host_path=host, container_path=f"/mnt/{name}", value=f"/mnt/{name}", host_value=host)


def _target(path: Path, root: Path) -> ResolvedPath:
    return ResolvedPath(uri=str(path), fs=fsspec.filesystem("file"), path=str(path), url=f"file://{path}",
                        kind=PathKind.FOLDER, local_path=path, local_root=root)


def test_each_outputs_warning_is_collected_under_its_name_and_recorded_once(tmp_path: Path) -> None:
    job_dir, store = JobDir(tmp_path / "job"), tmp_path / "store"
    bindings = (_binding("up", Mode.UPLOAD, job_dir), _binding("rw", Mode.RW_MOUNT, job_dir),
                _binding("dir", Mode.DIRECT, job_dir), _binding("clean", Mode.UPLOAD, job_dir))
    outputs = OutputSet()
    mats = Materializations()
    outputs.enter(bindings, {b.name: _target(store / b.name, store) for b in bindings}, job_dir, mats)
    for name in ("up", "rw", "dir"):
        folder = Path(mats.host_paths[f"outputs/{name}"])
        os.mkfifo(folder / "fifo")
        (folder / "ok.txt").write_text(name)
    (Path(mats.host_paths["outputs/clean"]) / "ok.txt").write_text("clean")
    assert outputs.close() == {}
    assert [w.split(":")[0] for w in outputs.warnings] == ["outputs.dir", "outputs.rw", "outputs.up"]
    assert all("fifo (a FIFO)" in w for w in outputs.warnings)
    assert all((store / name / "ok.txt").read_text() == name for name in ("up", "rw", "dir", "clean"))

    extra: dict[str, object] = {"warnings": ["job.yml:3: resources.instance_count=2 is ignored"]}
    outputs.record_warnings(extra)
    outputs.record_warnings(extra)  # once each, however often asked
    assert extra["warnings"] == ["job.yml:3: resources.instance_count=2 is ignored", *outputs.warnings]


def test_no_warning_leaves_the_record_as_it_was(tmp_path: Path) -> None:
    job_dir, store = JobDir(tmp_path / "job"), tmp_path / "store"
    binding = _binding("up", Mode.UPLOAD, job_dir)
    outputs = OutputSet()
    mats = Materializations()
    outputs.enter((binding,), {"up": _target(store / "up", store)}, job_dir, mats)
    (Path(mats.host_paths["outputs/up"]) / "ok.txt").write_text("x")
    outputs.close()
    extra: dict[str, object] = {}
    outputs.record_warnings(extra)
    assert outputs.warnings == [] and extra == {}
