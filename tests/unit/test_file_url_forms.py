"""The ``file:`` forms a path may be written in, read alike for inputs, outputs, a chain's last link and a
datastore's url (and a job's ``code:``: ``tests/unit/jobs/test_code_file_urls.py``):

- RFC 8089's URLs of a file on this machine, ``file:///x``, ``file://localhost/x`` and the one-slash
  ``file:/x``, are the path ``/x``, percent-decoded as a URL is (``file:///a%20b`` is ``/a b``, what
  ``Path('/a b').as_uri()`` writes); an encoded ``/`` or NUL (no file name holds one) is one clear error;
- Azure ML's ``file:`` prefix before a relative path (``file:data/x.csv``) is that path, as written.

Nothing here reads a file but the output's folder in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.uris import FsspecUrl, LocalPath, parse_path
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.mark.parametrize(("text", "path"), [
    ("file:/data/x.csv", "/data/x.csv"),
    ("FILE:/data/x.csv", "/data/x.csv"),
    ("file:///data/a%20b.csv", "/data/a b.csv"),
    ("file://localhost/data/%C3%A9t%C3%A9.csv", "/data/été.csv"),
    ("file:/data/100%25.csv", "/data/100%.csv"),
    ("file:///data/x.csv", "/data/x.csv"),
])
def test_a_file_url_is_its_decoded_absolute_path(text: str, path: str) -> None:
    assert parse_path(text) == LocalPath(path)


def test_a_url_as_python_writes_it_names_that_path() -> None:
    path = Path("/data/a b/é #1.csv")
    assert parse_path(path.as_uri()) == LocalPath(str(path))


@pytest.mark.parametrize(("text", "path"), [
    ("file:data/x.csv", "data/x.csv"),
    ("file:./data/x.csv", "./data/x.csv"),
    ("file:../up/x%20y.csv", "../up/x%20y.csv"),  # a relative path: no URL, taken as written
])
def test_azure_mls_file_prefix_before_a_relative_path_is_that_path(text: str, path: str) -> None:
    assert parse_path(text) == LocalPath(path)


@pytest.mark.parametrize(("text", "words"), [
    ("file:///data/a%2Fb.csv", "%2F"),
    ("file:/data/a%2fb.csv", "%2f"),
    ("file:///data/a%00b.csv", "%00"),
])
def test_an_encoded_slash_or_nul_is_one_clear_error(text: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    err = info.value
    assert err.field == "inputs.d.path" and words in err.message and text in err.message
    assert err.hint and "/data/" in err.hint


@pytest.mark.parametrize("text", ["file:", "FILE:", "file://localhost"])
def test_a_file_url_naming_no_path_is_one_clear_error(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    assert "no path" in info.value.message and info.value.field == "inputs.d.path"


def test_file_followed_by_a_chains_colons_stays_a_chain() -> None:
    with pytest.raises(SpecError, match="before its last link"):
        parse_path("file::data/x.csv", field="inputs.d.path")


@pytest.mark.parametrize(("text", "url"), [
    ("zip://a.txt::file:/d/x.zip", "zip://a.txt::file:///d/x.zip"),
    ("zip://a.txt::file:///d/a%20b.zip", "zip://a.txt::file:///d/a b.zip"),
    ("tar://a.txt::file://localhost/d/%C3%A9.tar", "tar://a.txt::file:///d/é.tar"),
])
def test_a_chains_file_link_is_read_as_an_input_path_is(text: str, url: str) -> None:
    assert parse_path(text) == FsspecUrl(url)


def test_a_chains_file_link_decoding_to_a_chain_separator_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        parse_path("zip://a.txt::file:///d/a%3A%3Ab.zip", field="inputs.d.path")
    assert "::" in info.value.message and info.value.field == "inputs.d.path"


@pytest.mark.parametrize(("url", "stored"), [
    ("file:/data/store", "file:///data/store"),
    ("file:///data/team%20share", "file:///data/team share"),
    ("simplecache::file:/data/store", "simplecache::file:///data/store"),
])
def test_a_datastore_url_reads_file_urls_as_paths_do(url: str, stored: str) -> None:
    assert FsspecDatastore(name="x", url=url).url == stored


def test_an_output_path_reads_file_urls_as_inputs_do(tmp_path: Path) -> None:
    (tmp_path / "out dir").mkdir()
    resolver = Resolver(Workspace(tmp_path / "ws"))
    for written in (f"file:{tmp_path}/out dir", (tmp_path / "out dir").as_uri()):
        found = resolver.resolve_output(written, job_name="j", output_name="o", check=False)
        assert found.local_path == tmp_path / "out dir"
