"""A ``file://`` URL as RFC 8089 reads it: ``file:///x`` and ``file://localhost/x`` are this machine's
``/x``; any other host (``file://host/x``) is another machine's file, which cannot be read from here: one
clear error, never the relative path ``host/x`` (as a job input, a chain's last link, a datastore's url).
A chain's ``file://localhost/...`` link is written ``file:///...`` before fsspec sees it (fsspec would read
``localhost/...`` relative to the current folder). Nothing here reads a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from runner.errors import SpecError
from runner.uris import FsspecUrl, LocalPath, parse_path
from runner.workspace.datastores import FsspecDatastore, load_datastore


@pytest.mark.parametrize(("text", "path"), [
    ("file:///data/x.csv", "/data/x.csv"),
    ("file://localhost/data/x.csv", "/data/x.csv"),
    ("file://LocalHost/data/x.csv", "/data/x.csv"),
    ("FILE:///data/x.csv", "/data/x.csv"),
])
def test_a_file_url_on_this_machine_is_its_absolute_path(text: str, path: str) -> None:
    assert parse_path(text) == LocalPath(path)


@pytest.mark.parametrize("text", ["file://host/x", "file://fileserver.example.com/share/x.csv",
                                  "file://me@host:22/x", "file://127.0.0.2/x"])
def test_a_file_url_naming_another_host_is_one_clear_error(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    err = info.value
    host = text.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    assert err.field == "inputs.d.path" and f"'{host}'" in err.message and "host" in err.message
    assert err.hint and "file:///" in err.hint and "datastore" in err.hint


@pytest.mark.parametrize("text", ["file://", "file://localhost"])
def test_a_file_url_naming_no_path_is_one_clear_error(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    assert "no path" in info.value.message and "file:///" in (info.value.hint or "")


def test_a_chains_file_link_naming_another_host_is_one_clear_error() -> None:
    with pytest.raises(SpecError) as info:
        parse_path("zip://a.txt::file://host/d.zip", field="inputs.d.path")
    assert "'host'" in info.value.message and "relative" not in info.value.message


def test_a_chains_localhost_file_link_is_written_as_fsspec_reads_it() -> None:
    assert parse_path("zip://a.txt::file://localhost/d/x.zip") == FsspecUrl("zip://a.txt::file:///d/x.zip")


@pytest.mark.parametrize("url", ["file://host/data", "simplecache::file://host/data",
                                 "zip://::file://host/d.zip"])
def test_a_datastore_url_naming_another_host_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="'host'"):
        FsspecDatastore(name="x", url=url)
    yml = tmp_path / "ds.yml"
    yml.write_text(f"name: x\ntype: fsspec\nurl: {url}\n")
    with pytest.raises(SpecError) as info:
        load_datastore(yml)
    assert "'host'" in info.value.message and "file:///" in (info.value.hint or "")


def test_a_localhost_datastore_url_is_this_machines_folder(tmp_path: Path) -> None:
    ds = FsspecDatastore(name="x", url=f"file://localhost{tmp_path}")
    assert ds.url == f"file://{tmp_path}" and ds.host_root(tmp_path) == str(tmp_path)
    cached = FsspecDatastore(name="c", url=f"simplecache::file://localhost{tmp_path}")
    assert cached.url == f"simplecache::file://{tmp_path}"
