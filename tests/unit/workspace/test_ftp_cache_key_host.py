"""The download cache key of a file read over ftp:// or sftp:// names its scheme, host and port: fsspec's
ftp/sftp filesystems drop the host from their paths (``/data/x.csv``), so two hosts serving the same path
with the same mtime and size must not share a cached download. Keys of URLs that keep their host in the
path (s3://, memory://) read as before. Nothing is contacted: the filesystem is a stand-in that answers
``info`` (its class's path rules, ftp's, are fsspec's own), in a workspace in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec import AbstractFileSystem

import runner.workspace.resolve as resolve_module
from runner.uris import parse_path
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

INFO = {"type": "file", "size": 11, "mtime": 1700000000.0}  # the same file on every host


class _StandIn(AbstractFileSystem):
    """Answers ``info`` as an ftp server does (mtime and size, no etag) and connects to nothing."""

    protocol = ("ftp",)

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return {"name": path, **INFO}


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def opened(url: str, *, field: str | None = None, check: bool = True) -> tuple[AbstractFileSystem, str]:
        protocol = url.split("://", 1)[0]  # ftp's path: /data/x.csv, the host dropped, as fsspec does
        return _StandIn(), fsspec.get_filesystem_class(protocol)._strip_protocol(url)

    monkeypatch.setattr(resolve_module, "open_fsspec_url", opened)
    ws = Workspace(tmp_path / "ws")

    def cache_key(url: str) -> str | None:
        return Resolver(ws).resolve(parse_path(url), check=True).cache_key

    return cache_key


def test_two_hosts_serving_one_path_have_their_own_keys(key: Any) -> None:
    one, two = key("ftp://198.51.100.1/data/x.csv"), key("ftp://203.0.113.2/data/x.csv")
    assert None not in (one, two)
    assert one != two
    assert "198.51.100.1" in one and "203.0.113.2" in two


def test_the_port_and_scheme_count_too(key: Any) -> None:
    plain, other_port = key("ftp://198.51.100.1/data/x.csv"), key("ftp://198.51.100.1:2121/data/x.csv")
    assert plain != other_port and ":2121" in other_port
    assert plain.startswith("ftp://198.51.100.1/data/x.csv:")
    assert key("ftp://198.51.100.1/data/x.csv") == plain  # the same file on the same host keeps its key


def test_a_user_name_is_kept_and_the_key_names_no_password(key: Any) -> None:
    assert key("ftp://me@198.51.100.1/data/x.csv").startswith("ftp://me@198.51.100.1/data/x.csv:")


def test_a_url_whose_paths_keep_their_host_keys_as_before(key: Any) -> None:
    assert key("memory://bucket/data/x.csv") == "memory:/bucket/data/x.csv:1700000000.0:11"
