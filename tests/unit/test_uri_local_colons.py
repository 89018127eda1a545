"""A relative local path holding ``::`` (``data::v2/x.csv``) reads to fsspec as a chain whose first link is
a protocol (``data``). Only a cache or an archive wraps a link, so when the first link is neither and the
last is no URL, the value is no chain either: one error says so and how to write the local path
(``./data::v2/x.csv``). (An unknown first link before a URL, ``nosuch::s3://...``, is the resolver's
"Protocol not known", whose hint says the same.)"""

from __future__ import annotations

import pytest

from runner.errors import SpecError
from runner.uris import FsspecUrl, LocalPath, parse_path


@pytest.mark.parametrize("value", ["data::v2/x.csv", "v2::x.csv", "s3::bucket/key", "memory::x"])
def test_a_first_link_that_is_no_cache_or_archive_is_one_clear_error(value: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(value, field="inputs.d.path")
    err = info.value
    first = value.split("::", 1)[0]
    assert f"'{first}'" in err.message and "cache or an archive" in err.message
    assert err.field == "inputs.d.path" and f"./{value}" in (err.hint or "")
    assert "simplecache::" in (err.hint or "")


@pytest.mark.parametrize("value", ["./data::v2/x.csv", "sub/data::v2/x.csv", "/abs/data::v2/x.csv"])
def test_a_local_path_holding_colons_is_a_local_path(value: str) -> None:
    assert parse_path(value) == LocalPath(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("simplecache::s3://bucket/key", FsspecUrl("simplecache::s3://bucket/key")),
    ("zip://a.txt::file:///d/x.zip", FsspecUrl("zip://a.txt::file:///d/x.zip")),
    ("tar::file:///d/x.tar", FsspecUrl("tar::file:///d/x.tar")),
    # a cache over this machine's files (simplecache::file:///abs/x.csv, filecache::rel/x.csv) is refused:
    # tests/unit/test_cache_chain_inputs.py
])
def test_chains_read_as_before(value: str, expected: object) -> None:
    assert parse_path(value) == expected


def test_an_open_ended_first_link_keeps_its_own_refusal() -> None:
    with pytest.raises(SpecError, match="'reference' protocol"):
        parse_path("reference::file:///refs.json")
