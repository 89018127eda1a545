"""A member missing from an archive on this machine (``zip://nope.txt::file:///<archive>``, ``tar://``, a
cache around or over the archive, an archive datastore ``zip://::file:///<archive>``) is said to be missing
when the job is planned (``check=False``: ``job validate``, ``job create``), naming the archive and what
it holds, as the run says it: the archive is opened then anyway (following no link), so listing it is
cheap and contacts nothing. A link planted at the archive's place is refused, never read. Everything lives
in this test's tmp_path."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from runner.errors import ResolveError, RunnerError, SpecError
from runner.jobs.submit import plan_job
from runner.modes import PathKind
from runner.spec.load import load_job_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

MEMBERS = {"a.txt": b"alpha\n", "sub/b.txt": b"beta\n"}


def _zip(path: Path, members: dict[str, bytes] = MEMBERS) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _tar(path: Path) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in MEMBERS.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    _zip(tmp_path / "d.zip")
    _tar(tmp_path / "d.tar")
    found = Resolver(ws)
    found.datastores.save(FsspecDatastore(name="arch", url=f"zip://::file://{tmp_path}/d.zip"))
    return found


def _missing(resolver: Resolver, uri: str, *, check: bool) -> ResolveError:
    with pytest.raises(ResolveError) as caught:
        resolver.resolve(uri, field="inputs.d.path", check=check)
    return caught.value


@pytest.mark.parametrize(("url", "archive"), [
    ("zip://nope.txt::file://{tmp}/d.zip", "d.zip"),
    ("zip://nope.txt::{tmp}/d.zip", "d.zip"),
    ("tar://nope.txt::file://{tmp}/d.tar", "d.tar"),
    ("simplecache::zip://nope.txt::file://{tmp}/d.zip", "d.zip"),
    ("zip://nope.txt::simplecache::file://{tmp}/d.zip", "d.zip"),
])
def test_validate_says_a_member_is_missing_naming_the_archive(resolver: Resolver, tmp_path: Path, url: str,
                                                              archive: str) -> None:
    uri = url.format(tmp=tmp_path)
    planned, ran = _missing(resolver, uri, check=False), _missing(resolver, uri, check=True)
    assert planned.render() == ran.render() and planned.field == "inputs.d.path"
    assert f"'{tmp_path / archive}'" in planned.message and "'nope.txt'" in planned.message
    assert planned.hint is not None and "a.txt" in planned.hint and "sub" in planned.hint


def test_the_hint_lists_the_nearest_folder_in_the_archive(resolver: Resolver, tmp_path: Path) -> None:
    err = _missing(resolver, f"zip://sub/nope.txt::file://{tmp_path}/d.zip", check=False)
    assert "'sub/nope.txt'" in err.message and err.hint is not None
    assert "b.txt" in err.hint and "a.txt" not in err.hint


def test_an_archive_datastores_missing_member_is_said_at_validate(resolver: Resolver, tmp_path: Path) -> None:
    uri = "azureml://datastores/arch/paths/nope.txt"
    planned = _missing(resolver, uri, check=False)
    assert planned.render() == _missing(resolver, uri, check=True).render()
    assert f"'{uri}'" in planned.message and f"'{tmp_path / 'd.zip'}'" in planned.message
    assert planned.hint is not None and "a.txt" in planned.hint


@pytest.mark.parametrize("url", ["zip://a.txt::file://{tmp}/d.zip", "zip://sub::file://{tmp}/d.zip",
                                 "tar://sub/b.txt::file://{tmp}/d.tar", "azureml://datastores/arch/paths/a.txt"])
def test_a_member_that_is_there_still_plans(resolver: Resolver, tmp_path: Path, url: str) -> None:
    found = resolver.resolve(url.format(tmp=tmp_path), field="inputs.d.path", check=False)
    assert found.kind in (PathKind.FILE, PathKind.FOLDER)


def test_job_validate_refuses_the_missing_member_at_its_line(resolver: Resolver, tmp_path: Path) -> None:
    job = tmp_path / "spec" / "job.yml"
    job.parent.mkdir()
    job.write_text("command: cat ${{inputs.d}}\nenvironment: {image: busybox:latest}\ninputs:\n"
                   f"  d: {{type: uri_file, mode: download, path: \"zip://nope.txt::file://{tmp_path}/d.zip\"}}\n")
    with pytest.raises(ResolveError) as refused:
        plan_job(load_job_spec(job), workspace=resolver.workspace, job_name="v1")
    err = refused.value
    assert err.field == "inputs.d.path" and err.where is not None and err.where.line == 4
    assert f"'{tmp_path / 'd.zip'}'" in err.message and "'nope.txt'" in err.message


def test_a_link_planted_at_the_archive_is_refused_never_listed(resolver: Resolver, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _zip(outside / "other.zip", {"decoy-member-0123.txt": b"decoy\n"})
    os.symlink(outside / "other.zip", tmp_path / "linked.zip")
    with pytest.raises(RunnerError) as refused:
        resolver.resolve(f"zip://nope.txt::file://{tmp_path}/linked.zip", field="inputs.d.path", check=False)
    err = refused.value
    assert isinstance(err, SpecError) and "link" in err.message
    assert "decoy-member-0123" not in err.render()
