"""The download cache key of a member read through a chained fsspec URL names which archive it is in and
its content: two archives holding a same-named, same-sized member (or one archive rewritten with other
content) never share a cached download."""

from __future__ import annotations

import zipfile
from pathlib import Path

from runner.uris import parse_path
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


def _zip(path: Path, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", text)
    return path


def _key(ws: Workspace, archive: Path) -> str | None:
    return Resolver(ws).resolve(parse_path(f"zip://a.txt::file://{archive}")).cache_key


def test_same_named_same_sized_members_of_two_archives_have_their_own_keys(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    one, two = _zip(tmp_path / "one.zip", "x" * 18), _zip(tmp_path / "two.zip", "y" * 18)
    assert None not in (_key(ws, one), _key(ws, two))
    assert _key(ws, one) != _key(ws, two)


def test_an_archive_rewritten_with_other_content_of_the_same_size_gets_a_new_key(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    archive = _zip(tmp_path / "a.zip", "x" * 18)
    before = _key(ws, archive)
    _zip(archive, "y" * 18)
    assert _key(ws, archive) != before
    assert _key(ws, archive) == _key(ws, archive)  # and the same content keeps its key
