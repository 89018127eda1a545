"""Step fingerprints (what reuse compares) and the content digests under them: the same step over the same
content matches; a change to the command, a literal, a mode, the code or an input's bytes does not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import fsspec
import pytest

from runner.errors import StorageError
from runner.pipelines.reuse import find_reusable, fingerprint, never_reused, remember
from runner.spec.job import CommandJobSpec
from runner.spec.load import spec_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.digests import content_digest
from runner.workspace.environments import EnvironmentStore


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "job"
    (root / "src").mkdir(parents=True)
    (root / "src" / "run.py").write_text("print(1)\n")
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "a.txt").write_text("alpha\n")
    (root / "data" / "sub" / "b.txt").write_text("beta\n")
    return root


def step(folder: Path, **changes: Any) -> CommandJobSpec:
    data: dict[str, Any] = {
        "command": "python run.py --data ${{inputs.data}} --n ${{inputs.n}} --out ${{outputs.out}}",
        "code": "src", "environment": {"image": "python:3.11"},
        "inputs": {"data": {"type": "uri_folder", "path": "data"}, "n": 3},
        "outputs": {"out": {"mode": "upload"}}, "display_name": "a step", "parent_job_name": "p1"}
    data.update(changes)
    return spec_from_data(data, base_dir=folder)


def test_same_step_same_fingerprint(ws: Workspace, folder: Path) -> None:
    assert fingerprint(ws, step(folder)) == fingerprint(ws, step(folder))
    # names, display names and the parent are not part of it
    renamed = step(folder, display_name="x", parent_job_name="p2")
    assert fingerprint(ws, step(folder)) == fingerprint(ws, renamed)


@pytest.mark.parametrize("change", [
    {"command": "python run.py --data ${{inputs.data}} --n ${{inputs.n}} --out ${{outputs.out}} -v"},
    {"inputs": {"data": {"type": "uri_folder", "path": "data"}, "n": 4}},
    {"inputs": {"data": {"type": "uri_folder", "path": "data", "mode": "download"}, "n": 3}},
    {"outputs": {"out": {"mode": "rw_mount"}}},
    {"environment": {"image": "python:3.12"}},
    {"environment_variables": {"X": "1"}},
])
def test_a_changed_setting_changes_it(ws: Workspace, folder: Path, change: dict[str, Any]) -> None:
    assert fingerprint(ws, step(folder)) != fingerprint(ws, step(folder, **change))


def test_content_not_place_decides(ws: Workspace, folder: Path, tmp_path: Path) -> None:
    before = fingerprint(ws, step(folder))
    copy = tmp_path / "copy"
    shutil.copytree(folder / "data", copy)
    moved = step(folder, inputs={"data": {"type": "uri_folder", "path": str(copy)}, "n": 3})
    assert fingerprint(ws, moved) == before  # same bytes elsewhere: the same input
    (folder / "data" / "sub" / "b.txt").write_text("gamma\n")
    assert fingerprint(ws, step(folder)) != before  # a changed byte: another input
    (folder / "data" / "sub" / "b.txt").write_text("beta\n")
    assert fingerprint(ws, step(folder)) == before
    (folder / "src" / "run.py").write_text("print(2)\n")
    assert fingerprint(ws, step(folder)) != before  # a changed script


def test_code_caches_are_ignored(ws: Workspace, folder: Path) -> None:
    before = fingerprint(ws, step(folder))
    (folder / "src" / "__pycache__").mkdir()
    (folder / "src" / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"\0")
    assert fingerprint(ws, step(folder)) == before


def test_digest_is_cached_by_listing(ws: Workspace, folder: Path) -> None:
    fs = fsspec.filesystem("file")
    first = content_digest(ws, fs, str(folder / "data"), folder=True)
    with ws.reading() as conn:
        assert conn.execute("SELECT count(*) FROM content_digests").fetchone()[0] == 1
    assert content_digest(ws, fs, str(folder / "data"), folder=True) == first
    with ws.reading() as conn:
        assert conn.execute("SELECT count(*) FROM content_digests").fetchone()[0] == 1
    single = content_digest(ws, fs, str(folder / "data" / "a.txt"), folder=False)
    assert single != first and single.startswith("sha256:")


def test_a_local_path_digests_as_fsspec_does_without_it(ws: Workspace, folder: Path) -> None:
    """``fs=None`` (a path on this machine) lists and reads without fsspec, to the same digest and the
    same cached signature as fsspec's local filesystem: digests recorded before stay valid."""
    (folder / "data" / "sub" / ".git").mkdir()
    (folder / "data" / "sub" / ".git" / "HEAD").write_text("ref\n")
    (folder / "data" / "link.txt").symlink_to(folder / "data" / "a.txt")
    fs = fsspec.filesystem("file")
    for path, is_folder, skip in ((folder / "data", True, ()), (folder / "data", True, (".git",)),
                                  (folder / "data" / "a.txt", False, ())):
        expected = content_digest(ws, fs, str(path), folder=is_folder, skip=skip)
        with ws.reading() as conn:
            rows = conn.execute("SELECT count(*) FROM content_digests").fetchone()[0]
        assert content_digest(ws, None, str(path), folder=is_folder, skip=skip) == expected
        with ws.reading() as conn:  # the same signature: served from the row fsspec's listing wrote
            assert conn.execute("SELECT count(*) FROM content_digests").fetchone()[0] == rows
    with ws.transaction() as conn:
        conn.execute("DELETE FROM content_digests")
    assert content_digest(ws, None, str(folder / "data"), folder=True) == \
        content_digest(ws, fs, str(folder / "data"), folder=True)  # hashed by each, not only looked up


def test_a_fifo_is_refused_not_read(ws: Workspace, folder: Path) -> None:
    os.mkfifo(folder / "data" / "pipe")
    with pytest.raises(StorageError, match="not a regular file"):
        content_digest(ws, None, str(folder / "data"), folder=True)


def test_never_reused() -> None:
    base = {"command": "echo ${{outputs.m}}", "environment": "busybox"}
    plain = spec_from_data({**base, "outputs": {"m": {}}})
    registering = spec_from_data({**base, "outputs": {"m": {"type": "custom_model", "name": "m"}}})
    assert never_reused(plain, deterministic=True, force_rerun=False) is None
    assert never_reused(plain, deterministic=True, force_rerun=True) == "settings.force_rerun is set"
    assert "not deterministic" in str(never_reused(plain, deterministic=False, force_rerun=False))
    assert "registers a version of an asset" in str(never_reused(registering, deterministic=True,
                                                               force_rerun=False))


def test_find_reusable_needs_a_completed_job_with_its_outputs(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ws.create_job(JobRecord(name="j1", status=JobStatus.COMPLETED, outputs={"o": str(out)}))
    remember(ws, "step:abc", "j1")
    assert find_reusable(ws, "step:abc") == "j1"
    assert find_reusable(ws, "step:other") is None
    out.rmdir()
    assert find_reusable(ws, "step:abc") is None  # its output is gone: run again
    out.mkdir()
    ws.update_job("j1", status=JobStatus.FAILED)
    assert find_reusable(ws, "step:abc") is None


def test_a_registered_conda_environment_is_compared_by_its_packages(ws: Workspace, folder: Path) -> None:
    envs = EnvironmentStore(ws)
    envs.create("condaenv", image="python:3.11", conda_file="dependencies:\n  - pip:\n    - six==1.16.0\n")
    before = fingerprint(ws, step(folder, environment="azureml:condaenv@latest"))
    assert fingerprint(ws, step(folder, environment="azureml:condaenv@latest")) == before
    envs.create("condaenv", image="python:3.11", conda_file="dependencies:\n  - pip:\n    - six==1.17.0\n")
    assert fingerprint(ws, step(folder, environment="azureml:condaenv@latest")) != before  # other packages
