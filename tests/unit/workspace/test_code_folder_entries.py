"""A code folder holding what no snapshot can take (a FIFO, a socket, an unreadable file, a path longer
than ``PATH_MAX``) is refused with one ``SpecError`` on field ``code`` that names the first few entries
relative to the folder and why, wherever a snapshot is taken: ``job create`` (``submit.copy_code``), a
registered component (``ComponentStore.create``) and a Ray node (``node._queue``). Nothing is copied
before the check, and a FIFO is never opened (a read would block).

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.node import _queue
from runner.jobs.submit import copy_code
from runner.plan.types import RunPlan
from runner.spec.component import load_component_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace
from runner.workspace.jobdir import JobDir
from runner.workspace.trees import copy_tree, remove_tree


def _socket(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket file named ``name`` in ``folder`` (bound by a relative name: tmp_path may be longer than
    a socket address may be)."""
    with monkeypatch.context() as patch:
        patch.chdir(folder)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(name)


def _bad_code(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``train.py``, ``sub/pipe`` (a FIFO), ``sock`` (a socket); a FIFO in ``.git`` and ``__pycache__``
    (left out of a job's snapshot: not refused there)."""
    (folder / "sub").mkdir(parents=True)
    (folder / "train.py").write_text("print(1)\n")
    (folder / "sub" / "ok.txt").write_text("ok\n")
    os.mkfifo(folder / "sub" / "pipe")
    _socket(folder, "sock", monkeypatch)
    for ignored in (".git", "__pycache__"):
        (folder / ignored).mkdir()
        os.mkfifo(folder / ignored / "pipe")
    return folder


def test_copy_tree_refuses_special_files_without_opening_them(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source = _bad_code(tmp_path / "src", monkeypatch)
    with pytest.raises(shutil.Error) as caught:
        copy_tree(source, tmp_path / "copy", refuse_special=True)
    assert sorted(caught.value.args[0]) == [
        (str(source / ".git" / "pipe"), str(tmp_path / "copy" / ".git" / "pipe"), "a FIFO"),
        (str(source / "__pycache__" / "pipe"), str(tmp_path / "copy" / "__pycache__" / "pipe"), "a FIFO"),
        (str(source / "sock"), str(tmp_path / "copy" / "sock"), "a socket"),
        (str(source / "sub" / "pipe"), str(tmp_path / "copy" / "sub" / "pipe"), "a FIFO"),
    ]
    assert (tmp_path / "copy" / "sub" / "ok.txt").read_text() == "ok\n"  # the rest is copied


def test_job_create_names_the_bad_entries_and_copies_nothing(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    source = _bad_code(tmp_path / "src", monkeypatch)
    job_dir = JobDir(tmp_path / "ws" / "jobs" / "j1")
    with pytest.raises(SpecError) as caught:
        copy_code(str(source), job_dir)
    err = caught.value
    assert err.field == "code"
    assert err.message == (f"the folder '{source}' holds 2 entries a code snapshot cannot take: "
                           "'sock' (a socket), 'sub/pipe' (a FIFO)")
    assert err.hint is not None and "remove" in err.hint and ".amlignore" in err.hint
    assert "Error" not in err.render() and not (job_dir.code / "train.py").exists()


def test_an_unreadable_file_or_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src"
    (source / "locked").mkdir(parents=True)
    (source / "locked" / "x.txt").write_text("x\n")
    (source / "secret.bin").write_text("s\n")
    (source / "train.py").write_text("print(1)\n")
    access = os.access
    unreadable = {str(source / "locked"), str(source / "secret.bin")}  # the tests run as root: pretend
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: os.fspath(path) not in unreadable
                        and access(path, mode, **kw))
    with pytest.raises(SpecError) as caught:
        copy_code(str(source), JobDir(tmp_path / "ws" / "jobs" / "j1"))
    assert caught.value.message.endswith(": 'locked' (a folder that is not readable), "
                                         "'secret.bin' (not readable)")


def test_a_path_too_long_is_named_shortened(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print(1)\n")
    name = "d" * 200
    folder = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(22):  # 22 * 201 bytes: past PATH_MAX (4096) below any tmp_path
            os.mkdir(name, dir_fd=folder)
            below = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder)
            os.close(folder)
            folder = below
    finally:
        os.close(folder)
    try:
        with pytest.raises(SpecError) as caught:
            copy_code(str(source), JobDir(tmp_path / "ws" / "jobs" / "j1"))
        # the first entry past the limit, its path (4000+ characters) shortened in the middle
        assert caught.value.message == (f"the folder '{source}' holds an entry a code snapshot cannot take: "
                                        f"'{'d' * 58}...{'d' * 58}' (path too long: over 4095 bytes)")
    finally:
        assert remove_tree(source)


def test_more_than_five_are_counted(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for index in range(8):
        os.mkfifo(source / f"p{index}")
    with pytest.raises(SpecError) as caught:
        copy_code(str(source), JobDir(tmp_path / "ws" / "jobs" / "j1"))
    assert caught.value.message.endswith(": 'p0' (a FIFO), 'p1' (a FIFO), 'p2' (a FIFO), 'p3' (a FIFO), "
                                         "'p4' (a FIFO) and 3 more")


def test_code_that_is_a_fifo_is_named_as_such(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SpecError, match=r"'.*/pipe' is a FIFO, not a folder or a file") as caught:
        copy_code(str(tmp_path / "pipe"), JobDir(tmp_path / "ws" / "jobs" / "j1"))
    assert caught.value.field == "code"


COMPONENT = """\
name: bad
version: 1
type: command
code: ./src
environment:
  image: runner/busybox:latest
command: echo hi
"""


def test_a_component_snapshot_refuses_them_at_its_code_line(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _bad_code(tmp_path / "c" / "src", monkeypatch)
    (tmp_path / "c" / "bad.yml").write_text(COMPONENT)
    store = ComponentStore(Workspace(tmp_path / "ws"))
    with pytest.raises(SpecError) as caught:
        store.create(load_component_spec(tmp_path / "c" / "bad.yml"))
    assert caught.value.render().startswith(f"{tmp_path / 'c' / 'bad.yml'}:4:1: code: the folder ")
    assert "'sub/pipe' (a FIFO)" in caught.value.message


def test_a_ray_node_refuses_them_before_queuing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "package"
    _bad_code(package / "code", monkeypatch)
    ws = Workspace(tmp_path / "node-ws")
    plan = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="echo", host_command="echo", env={}, code_dir="/submit/jobs/j1/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None)
    payload = {"job": {"name": "j1"}, "submit_job_dir": "/submit/jobs/j1",
               "plan": json.loads(json.dumps(plan.to_dict()))}
    with pytest.raises(SpecError, match=r"'\.git/pipe' \(a FIFO\)"):  # the package's code is taken as is
        _queue(ws, payload, package)
    assert ws.list_jobs() == []
