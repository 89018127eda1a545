"""A job's code folder nested deeper than Python's recursion limit (1,200 levels) is snapshotted whole,
with no recursion, wherever a snapshot is taken: ``job create`` (``submit.copy_code``), a Ray node
(``node._queue`` from the job package), the job package itself (``ray_package.job_package``) and a
registered component (``ComponentStore.create``); and ``JobDir.make_code_dirs`` opens the whole
snapshot to the container's user without following a link out of it.

Everything is made in this test's ``tmp_path`` and removed by it with no recursion."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, chain_of, deep_scratch, make_chain

from runner.jobs.node import _cleanup, _queue
from runner.jobs.ray_package import job_package
from runner.jobs.submit import copy_code
from runner.plan.types import RunPlan
from runner.spec.component import load_component_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace
from runner.workspace.jobdir import JobDir

DEEP_NAME = "/".join(["a"] * DEEP)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


def _code(folder: Path, outside: Path) -> Path:
    """A code folder: a chain with ``f.txt`` at its bottom, a ``__pycache__`` there (not snapshotted),
    a ``.git`` at the top (not snapshotted) and a link out of the folder (kept as a link)."""
    deepest = make_chain(folder)
    (deepest / "__pycache__").mkdir()
    (deepest / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (deepest / "out").symlink_to(outside)
    (folder / ".git").mkdir()
    (folder / "train.py").write_text("print(1)\n")
    return folder


def _outside(scratch: Path) -> Path:
    outside = scratch / "outside"
    outside.mkdir(mode=0o700)
    (outside / "secret.txt").write_text("not the job's\n")
    (outside / "secret.txt").chmod(0o600)
    return outside


def _bottom(top: Path) -> Path:
    return Path(os.path.join(top, *(["a"] * DEEP)))


def _snapshot_is_whole(code: Path, outside: Path) -> None:
    assert chain_of(code) == (DEEP, b"deep\n")
    assert sorted(os.listdir(_bottom(code))) == ["f.txt", "out"]  # no __pycache__
    assert os.readlink(_bottom(code) / "out") == str(outside)
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_job_create_snapshots_and_opens_a_deep_code_folder(scratch: Path) -> None:
    outside = _outside(scratch)
    source = _code(scratch / "src", outside)
    job_dir = JobDir(scratch / "ws" / "jobs" / "j1")
    copy_code(str(source), job_dir)
    _snapshot_is_whole(job_dir.code, outside)
    assert not (job_dir.code / ".git").exists() and (job_dir.code / "train.py").is_file()
    # the whole snapshot is writable by the container's user; what a link names is left alone
    assert stat.S_IMODE(os.stat(_bottom(job_dir.code)).st_mode) == 0o777
    assert stat.S_IMODE(os.stat(_bottom(job_dir.code) / "f.txt").st_mode) == 0o666
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(outside / "secret.txt").st_mode) == 0o600


def test_make_code_dirs_opens_a_deep_mlflow_store_and_follows_no_link(scratch: Path) -> None:
    outside = _outside(scratch)
    job_dir = JobDir(scratch / "ws" / "jobs" / "j1")
    deepest = make_chain(job_dir.mlruns)
    (deepest / "f.txt").chmod(0o600)
    (deepest / "dir-link").symlink_to(outside)
    (deepest / "file-link").symlink_to(outside / "secret.txt")
    job_dir.make_code_dirs()
    assert stat.S_IMODE(os.stat(deepest).st_mode) == 0o777
    assert stat.S_IMODE(os.stat(deepest / "f.txt").st_mode) == 0o666
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(outside / "secret.txt").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(job_dir.code_outputs).st_mode) == 0o777


def test_a_ray_job_package_takes_a_deep_code_folder(scratch: Path) -> None:
    outside = _outside(scratch)
    source = _code(scratch / "src", outside)
    _name, top, path = job_package(scratch, {"x": 1}, code=source, build=None)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert f"{top}/code/{DEEP_NAME}/f.txt" in names and f"{top}/code/train.py" in names
    assert not any("__pycache__" in name or "secret" in name for name in names)


def test_a_ray_node_copies_a_deep_code_folder_from_the_job_package(scratch: Path) -> None:
    outside = _outside(scratch)
    package = scratch / "package"
    _code(package / "code", outside)
    ws = Workspace(scratch / "node-ws")
    plan = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="echo", host_command="echo", env={}, code_dir="/submit/jobs/j1/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None)
    payload = {"job": {"name": "j1"}, "submit_job_dir": "/submit/jobs/j1",
               "plan": json.loads(json.dumps(plan.to_dict()))}
    assert _queue(ws, payload, package) == "j1"
    code = ws.job_dir("j1").code
    assert chain_of(code) == (DEEP, b"deep\n")
    assert sorted(os.listdir(_bottom(code))) == ["__pycache__", "f.txt", "out"]  # the package's, as is
    assert os.readlink(_bottom(code) / "out") == str(outside)


COMPONENT = """\
name: deep
version: 1
type: command
code: ./src
environment:
  image: runner/busybox:latest
command: echo hi
"""


def test_a_component_snapshots_a_deep_code_folder(scratch: Path) -> None:
    outside = _outside(scratch)
    _code(scratch / "c" / "src", outside)
    (scratch / "c" / "deep.yml").write_text(COMPONENT)
    record = ComponentStore(Workspace(scratch / "ws")).create(load_component_spec(scratch / "c" / "deep.yml"))
    snapshot = Path(record.spec["code"])
    assert snapshot.is_relative_to(scratch / "ws")
    _snapshot_is_whole(snapshot, outside)
    assert not (snapshot / ".git").exists() and (snapshot / "train.py").is_file()


def test_a_node_workspace_holding_a_deep_tree_is_removed_whole(scratch: Path) -> None:
    outside = _outside(scratch)
    root = scratch / "runner-ray-j1-x"
    _code(root / "ws" / "jobs" / "j1" / "code", outside)
    make_chain(root / "ws" / "jobs" / "j1" / "code" / "outputs")  # what the job wrote
    _cleanup(root)
    assert not os.path.lexists(root)
    assert sorted(os.listdir(outside)) == ["secret.txt"]  # the link out removed as a name, not followed
