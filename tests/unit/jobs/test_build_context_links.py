"""A build context holding a link to a FIFO (or a link to a link to one) is refused by ``job validate``
(``check_submission``) as by ``job create``, with the one error a FIFO in the context gets, naming the
link: ``docker build`` sends the link as a link, but a Ray job's package takes what a link names, and
the same job may go to either. A dangling link and a link to a regular file stay accepted. Nothing is
opened: the FIFO would block a read (the timeout turns that into a failure). Everything is made in
``tmp_path``; no link leads out of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.ray_package import job_package
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace

pytestmark = pytest.mark.timeout(60)

JOB = "command: echo\nenvironment:\n  build:\n    path: ./ctx\n"


def _context(tmp_path: Path) -> Path:
    context = tmp_path / "ctx"
    (context / "sub").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\n")
    (context / "app.txt").write_text("x\n")
    (context / "sub" / "alias").symlink_to(context / "app.txt")
    (context / "dangling").symlink_to(tmp_path / "nothing-here")
    os.mkfifo(tmp_path / "pipe")  # outside the context: only links lead to it
    return context


@pytest.mark.parametrize("backend", [None, "docker"])
@pytest.mark.parametrize("chain", [False, True])
def test_a_link_to_a_fifo_in_the_build_context_is_refused_at_validate_and_create(
        tmp_path: Path, backend: str | None, chain: bool) -> None:
    context = _context(tmp_path)
    if chain:  # a link to a link to the FIFO
        (tmp_path / "hop").symlink_to(tmp_path / "pipe")
    (context / "sub" / "to-pipe").symlink_to(tmp_path / ("hop" if chain else "pipe"))
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    ws = Workspace(tmp_path / "ws")
    spec = load_job_spec(job)
    with pytest.raises(SpecError) as validated:
        check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=backend)
    err = validated.value
    assert err.message == (f"the folder '{context}' holds an entry a Docker build context cannot take: "
                           "'sub/to-pipe' (a link to a FIFO)")
    assert err.field == "environment.build.path"
    assert err.where is not None and err.where.file == job and err.where.line == 4
    assert err.hint is not None and "remove these entries" in err.hint and "followed" not in err.hint
    with pytest.raises(SpecError) as created:
        submit_job(ws, load_job_spec(job), name="c1")
    assert created.value.render() == err.render()
    assert not ws.job_exists("c1")


def test_links_to_files_and_dangling_links_stay_accepted(tmp_path: Path) -> None:
    _context(tmp_path)
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    ws = Workspace(tmp_path / "ws")
    spec = load_job_spec(job)
    assert check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=None) == "docker"


def test_a_ray_package_refuses_it_with_the_same_entry_before_writing(tmp_path: Path) -> None:
    context = _context(tmp_path)
    (context / "sub" / "to-pipe").symlink_to(tmp_path / "pipe")
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError) as caught:
        job_package(tmp_path / "out", {}, code=None, build=context)
    assert caught.value.field == "environment"
    assert caught.value.message == (f"the folder '{context}' holds an entry a Ray job's package cannot take: "
                                    "'sub/to-pipe' (a link to a FIFO)")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_link_loop_is_one_error_at_validate_and_in_a_ray_package(tmp_path: Path) -> None:
    context = _context(tmp_path)
    (context / "a").symlink_to(context / "b")
    (context / "b").symlink_to(context / "a")
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    ws = Workspace(tmp_path / "ws")
    spec = load_job_spec(job)
    with pytest.raises(SpecError) as validated:
        check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=None)
    loop = os.strerror(40)  # ELOOP: "Too many levels of symbolic links"
    unfollowed = f"a link that cannot be followed: {loop}"
    assert validated.value.message == (f"the folder '{context}' holds 2 entries a Docker build context "
                                       f"cannot take: 'a' ({unfollowed}), 'b' ({unfollowed})")
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError) as packaged:  # was a bare OSError out of the package's writer
        job_package(tmp_path / "out", {}, code=None, build=context)
    assert "'a' (a link that cannot be followed" in packaged.value.message
