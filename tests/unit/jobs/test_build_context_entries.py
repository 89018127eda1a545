"""A build context holding an entry a snapshot cannot take (a FIFO, a socket, an unreadable file) is
refused by ``job validate`` (``check_submission``) as by ``job create``, with one error at the line that
named the context (``environment.build.path``, or ``environment:`` for a mapped environment), for a
Docker build and a Ray package alike; and the Docker backend's content hash of a context reads no link
out of it and opens no FIFO. Everything is made in ``tmp_path``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.backends.docker import context_hash
from runner.errors import SpecError
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace
from runner.workspace.environments import EnvironmentStore

JOB = "command: echo\nenvironment:\n  build:\n    path: ./ctx\n"


def _context(tmp_path: Path) -> Path:
    context = tmp_path / "ctx"
    (context / "sub").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\n")
    os.mkfifo(context / "sub" / "pipe")
    return context


@pytest.mark.parametrize("backend", [None, "docker"])
def test_a_fifo_in_an_inline_build_context_is_refused_at_validate(tmp_path: Path,
                                                                  backend: str | None) -> None:
    context = _context(tmp_path)
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    ws = Workspace(tmp_path / "ws")
    spec = load_job_spec(job)
    with pytest.raises(SpecError) as validated:
        check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=backend)
    err = validated.value
    assert err.message == (f"the folder '{context}' holds an entry a Docker build context cannot take: "
                           "'sub/pipe' (a FIFO)")
    assert err.field == "environment.build.path"
    assert err.where is not None and err.where.file == job and err.where.line == 4
    assert err.hint is not None and "remove these entries" in err.hint and "followed" not in err.hint
    with pytest.raises(SpecError) as created:
        submit_job(ws, load_job_spec(job), name="c1")
    assert created.value.render() == err.render()
    assert not ws.job_exists("c1")


def test_a_fifo_in_a_mapped_environments_context_is_refused_at_the_environment_line(tmp_path: Path) -> None:
    context = _context(tmp_path)
    ws = Workspace(tmp_path / "ws")
    EnvironmentStore(ws).create("built", version="1", build_context=context)
    job = tmp_path / "job.yml"
    job.write_text("command: echo\nenvironment: azureml:built:1\n")
    spec = load_job_spec(job)
    with pytest.raises(SpecError) as validated:
        check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=None)
    assert "'sub/pipe' (a FIFO)" in validated.value.message
    assert validated.value.field == "environment"
    assert validated.value.where is not None and validated.value.where.line == 2


def test_the_context_hash_follows_no_link_out_and_opens_no_fifo(tmp_path: Path) -> None:
    context = _context(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret 1")
    (context / "planted").symlink_to(outside)
    (context / "to-pipe").symlink_to(context / "sub" / "pipe")
    first = context_hash(context, None)
    outside.write_text("secret 2: the link's target changed, not the context")
    assert context_hash(context, None) == first
    (context / "planted").unlink()
    (context / "planted").symlink_to(tmp_path / "elsewhere")
    assert context_hash(context, None) != first  # the link itself is part of the context
