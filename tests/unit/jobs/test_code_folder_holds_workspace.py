"""``job create`` of a job whose ``code: .`` holds the workspace in use (``runner -w ./ci-ws`` in a
repository, docs/guides/ci.md's layout): the snapshot skips the workspace with one warning naming it,
and the job is queued. A snapshot error met while copying is one error at the ``code:`` line
(file:line), and ``job validate`` warns as ``job create`` does. A step's reuse fingerprint follows the
snapshot's rule: an ignored file, or the workspace inside the code folder, changes nothing.

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.jobs import submit
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.pipelines.reuse import fingerprint
from runner.spec.load import load_job_spec, spec_from_data
from runner.workspace.db import JobStatus, Workspace

JOB = "command: ls\ncode: .\ncompute: local-process\nenvironment:\n  image: runner/busybox:latest\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "main.py").write_text("print(1)\n")
    (repo / "big").mkdir()
    (repo / "big" / "blob.bin").write_bytes(b"x" * 1000)
    (repo / ".amlignore").write_text("big/\n")
    (repo / "job.yml").write_text(JOB)
    return repo


def _warning(repo: Path) -> str:
    return (f"the code snapshot leaves out 'ci-ws', a runner workspace inside the code folder {repo}; "
            "move the workspace out of the code folder, or add 'ci-ws/' to its .amlignore")


def test_job_create_skips_the_workspace_inside_code_with_one_warning(repo: Path) -> None:
    ws = Workspace(repo / "ci-ws")
    record = submit_job(ws, load_job_spec(repo / "job.yml"), name="j1")
    assert record.status is JobStatus.QUEUED
    assert record.extra["warnings"] == [_warning(repo)]
    assert ws.get_job("j1").extra["warnings"] == [_warning(repo)]  # the stored record says it too
    code = ws.job_dir("j1").code
    assert sorted(os.listdir(code)) == [".amlignore", "job.yml", "logs", "outputs", "src"]
    record = submit_job(ws, load_job_spec(repo / "job.yml"), name="j2")  # j1's folder is not copied
    assert sorted(os.listdir(ws.job_dir("j2").code)) == [".amlignore", "job.yml", "logs", "outputs", "src"]


def test_job_validate_warns_as_create_does(repo: Path) -> None:
    ws = Workspace(repo / "ci-ws")
    spec = load_job_spec(repo / "job.yml")
    plan = plan_job(spec, workspace=ws, job_name="j1")
    check_submission(spec, plan, backend=None)
    assert _warning(repo) in plan.warnings
    assert not ws.job_exists("j1")


def test_an_ignored_workspace_gives_no_warning(repo: Path) -> None:
    (repo / ".amlignore").write_text("big/\nci-ws/\n")
    ws = Workspace(repo / "ci-ws")
    record = submit_job(ws, load_job_spec(repo / "job.yml"), name="j1")
    assert record.extra["warnings"] == []


def test_a_snapshot_error_while_copying_is_located_at_code(repo: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(repo / "ci-ws")

    def refused(*_: Any, **__: Any) -> None:
        raise SpecError(f"the folder '{repo}' holds an entry a code snapshot cannot take: 'p' (a FIFO)",
                        field="code", hint="remove it")

    monkeypatch.setattr(submit, "copy_code_tree", refused)  # changed after job create's check
    with pytest.raises(SpecError) as caught:
        submit_job(ws, load_job_spec(repo / "job.yml"), name="j1")
    err = caught.value
    assert err.where is not None and str(err.where) == f"{repo / 'job.yml'}:2:1"
    assert err.render().startswith(f"{repo / 'job.yml'}:2:1: code: the folder")


def test_reuse_follows_the_snapshot_rule(repo: Path) -> None:
    ws = Workspace(repo / "ci-ws")
    data = {"command": "ls", "code": ".", "parent_job_name": "p1",
            "environment": {"image": "runner/busybox:latest"}}
    before = fingerprint(ws, spec_from_data(data, base_dir=repo))
    (repo / "big" / "other.bin").write_bytes(b"y")  # ignored by .amlignore
    submit_job(ws, load_job_spec(repo / "job.yml"), name="j1")  # the workspace inside changes
    assert fingerprint(ws, spec_from_data(data, base_dir=repo)) == before
    (repo / "src" / "main.py").write_text("print(2)\n")
    assert fingerprint(ws, spec_from_data(data, base_dir=repo)) != before
