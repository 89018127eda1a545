"""A file on this machine that an input's chain reads as an archive of another kind, or as no archive at all
(``tar://a.txt::file:///<folder>/x.zip``, ``zip://...::file:///<folder>/d.tar``, a corrupt or empty file,
a ``.tar.gz`` that is not gzip) is one ``SpecError`` when the job is planned: what (the file cannot be read
as that archive, and why), where (the input's path line), and how to fix it (the link that reads the file's
real format, when it is one runner knows; else what each link reads). Never an internal error. An archive
datastore over such a file says the same on its name. Everything lives in this test's tmp_path."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.submit import plan_job
from runner.spec.load import load_job_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


def _files(folder: Path) -> None:
    with zipfile.ZipFile(folder / "x.zip", "w") as archive:
        archive.writestr("a.txt", "alpha\n")
    with tarfile.open(folder / "d.tar", "w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 6
        archive.addfile(info, io.BytesIO(b"alpha\n"))
    (folder / "junk.bin").write_bytes(b"this is no archive of any kind\n" * 3)
    (folder / "empty.tar").write_bytes(b"")
    (folder / "plain.tar.gz").write_bytes((folder / "d.tar").read_bytes())  # a tar, not gzipped
    (folder / "d.tar.gz").write_bytes(gzip.compress((folder / "d.tar").read_bytes()))


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    _files(tmp_path)
    return Resolver(ws)


def _refused(resolver: Resolver, uri: str, *, check: bool) -> SpecError:
    with pytest.raises(SpecError) as caught:
        resolver.resolve(uri, field="inputs.d.path", check=check)
    return caught.value


@pytest.mark.parametrize(("url", "read_as", "use"), [
    ("tar://a.txt::file://{tmp}/x.zip", "tar", "zip://"),
    ("tar://a.txt::{tmp}/x.zip", "tar", "zip://"),
    ("simplecache::tar://a.txt::file://{tmp}/x.zip", "tar", "zip://"),
    ("zip://a.txt::file://{tmp}/d.tar", "zip", "tar://"),
    ("zip://a.txt::file://{tmp}/d.tar.gz", "zip", "tar://"),
])
def test_an_archive_read_as_another_kind_names_the_kind_it_is(resolver: Resolver, tmp_path: Path, url: str,
                                                              read_as: str, use: str) -> None:
    uri = url.format(tmp=tmp_path)
    planned, ran = _refused(resolver, uri, check=False), _refused(resolver, uri, check=True)
    assert planned.render() == ran.render() and planned.field == "inputs.d.path"
    assert "internal error" not in planned.render() and "input 'd' cannot be read" in planned.message
    file = uri.rsplit("::", 1)[-1].removeprefix("file://")
    assert f"'{file}'" in planned.message and f"as a {read_as} archive" in planned.message
    assert planned.hint is not None and use in planned.hint


@pytest.mark.parametrize("name", ["junk.bin", "empty.tar", "plain.tar.gz"])
def test_a_file_that_is_no_such_archive_is_one_error(resolver: Resolver, tmp_path: Path, name: str) -> None:
    err = _refused(resolver, f"tar://a.txt::file://{tmp_path}/{name}", check=False)
    assert f"'{tmp_path / name}'" in err.message and "as a tar archive" in err.message
    assert err.hint is not None and "zip://" in err.hint and "tar://" in err.hint
    assert err.exit_code == 2


def test_an_archive_that_is_what_it_is_read_as_still_plans(resolver: Resolver, tmp_path: Path) -> None:
    for uri in (f"zip://a.txt::file://{tmp_path}/x.zip", f"tar://a.txt::file://{tmp_path}/d.tar",
                f"tar://a.txt::file://{tmp_path}/d.tar.gz"):
        assert resolver.resolve(uri, field="inputs.d.path", check=False).path == "a.txt"


def test_an_archive_datastore_over_a_zip_read_as_tar_says_it_on_the_datastore(resolver: Resolver,
                                                                             tmp_path: Path) -> None:
    resolver.datastores.save(FsspecDatastore(name="arch", url=f"tar://::file://{tmp_path}/x.zip"))
    with pytest.raises(SpecError) as caught:
        resolver.resolve("azureml://datastores/arch/paths/a.txt", field="inputs.d.path", check=False)
    err = caught.value
    assert "datastore 'arch'" in err.message and "as a tar archive" in err.message
    assert err.hint is not None and "zip://" in err.hint and "internal error" not in err.render()


def test_job_validate_refuses_it_at_the_inputs_path_line(resolver: Resolver, tmp_path: Path) -> None:
    job = tmp_path / "spec" / "job.yml"
    job.parent.mkdir()
    job.write_text("command: cat ${{inputs.d}}\nenvironment: {image: busybox:latest}\ninputs:\n  d:\n"
                   f"    type: uri_file\n    path: tar://a.txt::file://{tmp_path}/x.zip\n"
                   "    mode: download\n")
    with pytest.raises(SpecError) as refused:
        plan_job(load_job_spec(job), workspace=resolver.workspace, job_name="v1")
    err = refused.value
    assert err.field == "inputs.d.path" and err.where is not None and err.where.line == 6
    assert err.exit_code == 2 and "zip://" in (err.hint or "")
