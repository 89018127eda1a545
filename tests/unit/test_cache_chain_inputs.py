"""A cache over this machine's files written as a path (``simplecache::file:///<folder>``,
``filecache::/<file>``) is refused with one clear error: it caches nothing a plain path does not give,
and read as the plain path it names it would follow links a cache datastore (``type: fsspec``, ``url:
simplecache::file:///<folder>``, which follows no link below its folder) refuses. The error says to give
the plain path or to use such a datastore. Caches over another store, and archives over a file here
(``zip://<member>::file:///<archive>``, with a cache anywhere in the chain), are fsspec's as before."""

from __future__ import annotations

import pytest

from runner.errors import SpecError
from runner.uris import FsspecUrl, parse_path


@pytest.mark.parametrize(("text", "plain"), [
    ("simplecache::file:///data/folder", "/data/folder"),
    ("filecache::blockcache::local:///data/d", "/data/d"),
    ("simplecache::/data/d.csv", "/data/d.csv"),
    ("cached::file://localhost/data/d.csv", "/data/d.csv"),
    ("filecache::rel/x.csv", "rel/x.csv"),
])
def test_a_cache_over_this_machines_files_as_a_path_is_refused(text: str, plain: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    err = info.value
    assert err.field == "inputs.d.path" and f"'{text}'" in err.message and "cache" in err.message
    assert err.hint and f"'{plain}'" in err.hint  # the plain path to give instead
    assert "azureml://datastores/<name>/paths/" in err.hint and "url: simplecache::file:///" in err.hint


@pytest.mark.parametrize("text", ["simplecache::s3://bucket/key", "simplecache::memory://x/y",
                                  "zip://a.txt::simplecache::file:///tmp/d.zip",
                                  "simplecache::zip://a.txt::file:///tmp/d.zip"])
def test_other_chains_stay_fsspecs(text: str) -> None:
    assert parse_path(text) == FsspecUrl(text)
