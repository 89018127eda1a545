"""``job validate`` and ``job create`` walk the code folder once to check it and to warn about the runner
workspaces inside it (``plan_with_walk``'s warning and ``check_submission``'s check come from one walk,
which the caller hands over: ``walk=``); ``job
create`` walks it a second time only to copy it. The check's errors are still ``check_submission``'s, at
the ``code:`` line, and a plan checked again is walked again (what changed since is seen).

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.jobs.submit import check_submission, plan_job, plan_with_walk, submit_job
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace

JOB = "command: ls\ncode: .\ncompute: local-process\nenvironment:\n  image: runner/busybox:latest\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """``code: .`` holding ``src/``, ``pkg/deep/``, ``big/`` (left out by ``.amlignore``), ``.git`` and a
    runner workspace, ``ci-ws`` (the CI layout)."""
    repo = tmp_path / "repo"
    for name in ("src/main.py", "pkg/a.py", "pkg/deep/b.py", "big/blob.bin", ".git/HEAD"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"# {name}\n")
    (repo / ".amlignore").write_text("big/\n")
    (repo / "job.yml").write_text(JOB)
    return repo


CODE_FOLDERS = ("", "src", "pkg", "pkg/deep")  # what the snapshot takes (not big/, .git, ci-ws)


def _listings(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each folder is listed (``os.scandir``)."""
    listed: Counter[str] = Counter()
    scandir = os.scandir

    def counting(path: Any = ".") -> Any:
        listed[os.path.normpath(os.fspath(path)) if not isinstance(path, int) else str(path)] += 1
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    return listed


def _code_listings(listed: Counter[str], repo: Path) -> dict[str, int]:
    return {rel: listed[os.path.normpath(repo / rel)] for rel in (*CODE_FOLDERS, "big", ".git")}


def _warning(repo: Path) -> str:
    return (f"the code snapshot leaves out 'ci-ws', a runner workspace inside the code folder {repo}; "
            "move the workspace out of the code folder, or add 'ci-ws/' to its .amlignore")


def test_validate_lists_each_code_folder_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(repo / "ci-ws")
    spec = load_job_spec(repo / "job.yml")
    listed = _listings(monkeypatch)
    plan, walk = plan_with_walk(spec, workspace=ws, job_name="v1")
    assert check_submission(spec, plan, backend=None, walk=walk) == "process"
    assert _code_listings(listed, repo) == {"": 1, "src": 1, "pkg": 1, "pkg/deep": 1, "big": 0, ".git": 0}
    assert plan.warnings == (_warning(repo),)


def test_create_lists_each_code_folder_once_to_check_and_once_to_copy(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(repo / "ci-ws")
    listed = _listings(monkeypatch)
    record = submit_job(ws, load_job_spec(repo / "job.yml"), name="j1")
    assert _code_listings(listed, repo) == {"": 2, "src": 2, "pkg": 2, "pkg/deep": 2, "big": 0, ".git": 0}
    assert record.extra["warnings"] == [_warning(repo)]
    assert (ws.job_dir("j1").code / "pkg" / "deep" / "b.py").read_text() == "# pkg/deep/b.py\n"


def test_a_code_folder_error_is_still_the_checks_at_the_code_line(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkfifo(repo / "pkg" / "deep" / "pipe")
    os.mkfifo(repo / "big" / "pipe")  # left out: never looked at
    ws = Workspace(repo / "ci-ws")
    spec = load_job_spec(repo / "job.yml")
    listed = _listings(monkeypatch)
    plan, walk = plan_with_walk(spec, workspace=ws, job_name="v1")  # planning refuses nothing: the check does
    with pytest.raises(SpecError) as caught:
        check_submission(spec, plan, backend=None, walk=walk)
    err = caught.value
    assert err.message == (f"the folder '{repo}' holds an entry a code snapshot cannot take: "
                           "'pkg/deep/pipe' (a FIFO)")
    assert err.field == "code" and err.where is not None and str(err.where) == f"{repo / 'job.yml'}:2:1"
    assert err.hint is not None and ".amlignore" in err.hint
    assert _code_listings(listed, repo) == {"": 1, "src": 1, "pkg": 1, "pkg/deep": 1, "big": 0, ".git": 0}


def test_a_plan_checked_again_is_walked_again(repo: Path) -> None:
    ws = Workspace(repo / "ci-ws")
    spec = load_job_spec(repo / "job.yml")
    plan = plan_job(spec, workspace=ws, job_name="v1")
    check_submission(spec, plan, backend=None)
    os.mkfifo(repo / "src" / "pipe")  # after the first check
    with pytest.raises(SpecError, match=r"'src/pipe' \(a FIFO\)"):
        check_submission(spec, plan, backend=None)


def test_a_check_of_another_plan_walks_its_own_folder(tmp_path: Path, repo: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "job.yml").write_text(JOB)
    os.mkfifo(other / "pipe")
    ws = Workspace(tmp_path / "ws")
    spec, other_spec = load_job_spec(repo / "job.yml"), load_job_spec(other / "job.yml")
    other_plan = plan_job(other_spec, workspace=ws, job_name="v2")
    plan = plan_job(spec, workspace=ws, job_name="v1")  # planned last: the other plan is walked again
    with pytest.raises(SpecError, match=r"'pipe' \(a FIFO\)"):
        check_submission(other_spec, other_plan, backend=None)
    assert check_submission(spec, plan, backend=None) == "process"
