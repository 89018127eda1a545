"""A ``direct`` binding hands the job its URL to open itself. A URL whose last link is a file on this
machine (an archive, ``zip://a.txt::file:///<archive>``; a datastore caching a folder here,
``simplecache::file:///<folder>``) names a host file that is not in the job's container: one clear error
at ``job validate`` (and ``job create``), at the binding's ``path:`` line, naming the modes that bring the
data in. On the ``process`` backend the job runs on this machine, where the URL opens: an output plans
there; an input is refused there too (the job could write this machine's file through its URL), its hint
naming no backend.

Everything lives in this test's tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.modes import Mode
from runner.spec.load import load_job_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cached").mkdir()
    (tmp_path / "cached" / "a.txt").write_text("cached\n")
    Resolver(workspace).datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{tmp_path}/cached"))
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("a.txt", "zipped\n")
    return workspace


def _job(folder: Path, group: str, path: str, mode: str) -> Path:
    job = folder / "spec" / "job.yml"
    job.parent.mkdir(parents=True, exist_ok=True)
    job.write_text(f"command: echo ${{{{{group}.d}}}}\nenvironment: {{image: busybox:latest}}\n"
                   f"{group}:\n  d: {{type: uri_file, path: \"{path}\", mode: {mode}}}\n")
    return job


def _validate(ws: Workspace, job: Path, backend: str | None = None) -> None:
    spec = load_job_spec(job)
    check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=backend)


@pytest.mark.parametrize(("group", "path", "fixes", "says"), [
    ("inputs", "zip://a.txt::file://{tmp}/d.zip", ("download", "ro_mount"), "file:///"),
    ("inputs", "azureml://datastores/cached/paths/a.txt", ("download", "ro_mount"),
     "datastore 'cached' caches a folder on this machine"),
    ("outputs", "azureml://datastores/cached/paths/b.txt", ("upload", "rw_mount"), "file:///"),
])
def test_direct_on_a_url_over_a_host_file_is_refused_at_validate(ws: Workspace, tmp_path: Path, group: str,
                                                                 path: str, fixes: tuple[str, str],
                                                                 says: str) -> None:
    job = _job(tmp_path, group, path.format(tmp=tmp_path), "direct")
    with pytest.raises(SpecError) as validated:
        _validate(ws, job)
    with pytest.raises(SpecError) as created:
        submit_job(ws, load_job_spec(job), name="c1")
    err = validated.value
    assert err.render() == created.value.render()
    assert err.field == f"{group}.d.path" and err.where is not None and err.where.line == 4
    assert "container" in err.message and "cannot open" in err.message and says in err.message
    assert err.hint and all(f"mode: {fix}" in err.hint for fix in fixes)
    assert ("process" in err.hint) is (group == "outputs")  # an input is refused on this machine too


@pytest.mark.parametrize(("group", "path"), [
    ("outputs", "azureml://datastores/cached/paths/b.txt"),
])
def test_direct_on_a_url_over_a_host_file_plans_on_the_process_backend(ws: Workspace, tmp_path: Path,
                                                                       group: str, path: str) -> None:
    _validate(ws, _job(tmp_path, group, path.format(tmp=tmp_path), "direct"), backend="process")


@pytest.mark.parametrize("path", ["zip://a.txt::file://{tmp}/d.zip", "azureml://datastores/cached/paths/a.txt"])
def test_a_direct_input_over_a_host_file_is_refused_on_the_process_backend_too(ws: Workspace, tmp_path: Path,
                                                                               path: str) -> None:
    """The job would open this machine's file in place and could write it through the URL."""
    with pytest.raises(SpecError) as refused:
        _validate(ws, _job(tmp_path, "inputs", path.format(tmp=tmp_path), "direct"), backend="process")
    err = refused.value
    assert err.field == "inputs.d.path" and err.where is not None and err.where.line == 4
    assert "this machine" in err.message and "write" in err.message
    assert err.hint and "mode: ro_mount" in err.hint and "mode: download" in err.hint
    assert "process" not in err.hint


@pytest.mark.parametrize(("group", "path", "mode"), [
    ("inputs", "zip://a.txt::file://{tmp}/d.zip", "download"),
    ("inputs", "azureml://datastores/cached/paths/a.txt", "ro_mount"),
    ("inputs", "{tmp}/d.zip", "direct"),  # a host path: bound into the container at the same path
    ("outputs", "azureml://datastores/cached/paths/b.txt", "upload"),
])
def test_the_other_modes_and_a_direct_host_path_still_plan(ws: Workspace, tmp_path: Path, group: str,
                                                           path: str, mode: str) -> None:
    job = _job(tmp_path, group, path.format(tmp=tmp_path), mode)
    spec = load_job_spec(job)
    plan = plan_job(spec, workspace=ws, job_name="v1")
    check_submission(spec, plan, backend=None)
    assert plan.bindings[0].mode is Mode(mode)
