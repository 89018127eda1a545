"""``plan_with_walk`` gives its walk of the code folder to ``check_submission`` explicitly (no state kept
between the calls, per thread or otherwise): a plan checked in another thread, or after another plan was
made, with its own walk, lists each of its folders once; a walk given with another plan is not taken
(that plan's folder is walked). ``job validate`` (``runner.cli.job.plan_spec``) and ``ml_client.jobs
.validate`` list each code folder once.

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from runner import MLClient
from runner.errors import SpecError
from runner.jobs import submit
from runner.jobs.submit import check_submission, plan_with_walk
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace

JOB = "command: ls\ncode: .\ncompute: local-process\nenvironment:\n  image: runner/busybox:latest\n"


def _repo(root: Path) -> Path:
    for name in ("src/main.py", "pkg/a.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"# {name}\n")
    (root / "job.yml").write_text(JOB)
    return root


def _listings(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    listed: Counter[str] = Counter()
    scandir = os.scandir

    def counting(path: Any = ".") -> Any:
        listed[os.path.normpath(os.fspath(path)) if not isinstance(path, int) else str(path)] += 1
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    return listed


def _of(listed: Counter[str], repo: Path) -> dict[str, int]:
    return {rel: listed[os.path.normpath(repo / rel)] for rel in ("", "src", "pkg")}


def test_a_plan_checked_in_another_thread_is_walked_once(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path / "repo")
    ws = Workspace(tmp_path / "ws")
    spec = load_job_spec(repo / "job.yml")
    listed = _listings(monkeypatch)
    plan, walk = plan_with_walk(spec, workspace=ws, job_name="v1")
    checked: list[str] = []
    thread = threading.Thread(target=lambda: checked.append(check_submission(spec, plan, backend=None,
                                                                              walk=walk)))
    thread.start()
    thread.join()
    assert checked == ["process"]
    assert _of(listed, repo) == {"": 1, "src": 1, "pkg": 1}


def test_plans_made_one_after_another_are_each_walked_once(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = _repo(tmp_path / "one"), _repo(tmp_path / "two")
    ws = Workspace(tmp_path / "ws")
    spec_one, spec_two = load_job_spec(one / "job.yml"), load_job_spec(two / "job.yml")
    listed = _listings(monkeypatch)
    plan_one, walk_one = plan_with_walk(spec_one, workspace=ws, job_name="v1")
    plan_two, walk_two = plan_with_walk(spec_two, workspace=ws, job_name="v2")
    assert check_submission(spec_one, plan_one, backend=None, walk=walk_one) == "process"
    assert check_submission(spec_two, plan_two, backend=None, walk=walk_two) == "process"
    assert _of(listed, one) == _of(listed, two) == {"": 1, "src": 1, "pkg": 1}


def test_a_walk_of_another_plan_is_not_taken(tmp_path: Path) -> None:
    one, two = _repo(tmp_path / "one"), _repo(tmp_path / "two")
    os.mkfifo(two / "src" / "pipe")
    ws = Workspace(tmp_path / "ws")
    spec_one, spec_two = load_job_spec(one / "job.yml"), load_job_spec(two / "job.yml")
    _plan_one, walk_one = plan_with_walk(spec_one, workspace=ws, job_name="v1")
    plan_two, _walk_two = plan_with_walk(spec_two, workspace=ws, job_name="v2")
    with pytest.raises(SpecError, match=r"'src/pipe' \(a FIFO\)"):
        check_submission(spec_two, plan_two, backend=None, walk=walk_one)


def test_no_walk_is_kept_between_calls() -> None:
    assert not hasattr(submit, "_WALKED")
    assert not [name for name, value in vars(submit).items() if isinstance(value, threading.local)]


def test_python_validate_walks_the_code_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path / "repo")
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    spec = load_job_spec(repo / "job.yml")
    listed = _listings(monkeypatch)
    result = ml_client.jobs.validate(spec)
    assert result.passed
    assert _of(listed, repo) == {"": 1, "src": 1, "pkg": 1}
