"""A sub-path of a job output recorded as a chained fsspec URL is joined into the path fsspec reads: the
first link's (``zip://<inside the archive>::file:///a.zip``), or, when that link is a cache with no path
of its own (``simplecache::``), the next link's, as ``fsspec.core._un_chain`` passes it on."""

from __future__ import annotations

import zipfile
from pathlib import Path

import fsspec
import pytest

from runner.uris import FsspecUrl, parse_path
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.resolve import Resolver, _join_ref


@pytest.mark.parametrize(("base", "sub", "joined"), [
    ("simplecache::s3://b/x", "a.txt", "simplecache::s3://b/x/a.txt"),
    ("simplecache::s3://b/x/", "d/a.txt", "simplecache::s3://b/x/d/a.txt"),
    ("filecache::blockcache::s3://b/x", "a.txt", "filecache::blockcache::s3://b/x/a.txt"),
    ("zip://inner::s3://b/archive.zip", "a.txt", "zip://inner/a.txt::s3://b/archive.zip"),
    ("zip://::s3://b/archive.zip", "a.txt", "zip://a.txt::s3://b/archive.zip"),
    ("simplecache::zip://inner::file:///t/a.zip", "a.txt", "simplecache::zip://inner/a.txt::file:///t/a.zip"),
    ("s3://b/x", "a.txt", "s3://b/x/a.txt"),
])
def test_a_sub_path_goes_into_the_link_fsspec_reads(base: str, sub: str, joined: str) -> None:
    assert str(_join_ref(FsspecUrl(base), sub)) == joined


def test_a_path_inside_a_zip_output_resolves_to_the_file_in_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "out.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/a.txt", "inside")
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="j", outputs={"o": f"zip://inner::file://{archive}"}))
    resolved = Resolver(ws).resolve(parse_path("azureml://jobs/j/outputs/o/paths/a.txt"))
    assert resolved.url == f"zip://inner/a.txt::file://{archive}", resolved
    with fsspec.open(resolved.url, "rt") as handle:
        assert handle.read() == "inside"
