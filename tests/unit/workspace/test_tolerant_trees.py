"""``runner.workspace.trees``' tolerant helpers, the one set ``upload_state`` and ``recovery`` list a job's
staging folders with: a folder is one only when it is not a link; nothing below a folder is followed when
it is a link (a link is an entry, counted as what is not a folder: it may be what a job left there, never
the tree it points at); what cannot be listed whole may hold files (a folder nested deeper than a path can
name: ``ENAMETOOLONG``, as an unreadable one is for a user who is not root).

Everything is made in this test's ``tmp_path``; the planted link points at a folder beside the one listed
(outside it), whose files must never be counted, listed or said to be held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import deep_scratch, make_chain

from runner.workspace.trees import count_files, holds_files, is_folder, list_files, subfolders

TOO_DEEP = 2100  # "a/" each: 4,200 characters, past PATH_MAX (4,096), so the walk cannot name the deepest


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """``tmp_path/listed`` with two files, an empty folder and a link to ``tmp_path/outside`` (4 files);
    returns ``listed``."""
    outside = tmp_path / "outside"
    (outside / "deeper").mkdir(parents=True)
    for name in ("s1", "s2", "s3", "deeper/s4"):
        (outside / name).write_text("secret")
    listed = tmp_path / "listed"
    (listed / "sub" / "empty").mkdir(parents=True)
    (listed / "b.txt").write_text("b")
    (listed / "sub" / "a.txt").write_text("a")
    (listed / "out").symlink_to(outside)
    return listed


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


def test_a_link_to_a_folder_outside_is_never_followed(planted: Path) -> None:
    link = planted / "out"
    assert is_folder(planted) and is_folder(planted / "sub") and not is_folder(link)
    assert not is_folder(planted / "b.txt") and not is_folder(planted / "nowhere")
    assert subfolders(planted) == [planted / "sub"]  # the link is not one
    assert count_files(planted) == 3  # b.txt, sub/a.txt and the link itself: never outside's four
    listing = list_files(planted)
    assert (listing.count, listing.first, listing.unlisted) == (3, ["b.txt", "out", "sub/a.txt"], None)
    for helper in (holds_files, count_files):  # the link itself as the folder asked about: not followed
        assert not helper(link)
    assert (list_files(link).count, list_files(link).first) == (0, [])
    assert subfolders(link) == []


def test_files_are_counted_at_any_depth_and_empty_folders_hold_nothing(tmp_path: Path) -> None:
    top = tmp_path / "top"
    (top / "x" / "y" / "z").mkdir(parents=True)
    assert not holds_files(top) and count_files(top) == 0 and list_files(top).first == []
    for i in range(5):
        (top / "x" / "y" / f"f{4 - i}.txt").write_text(str(i))
    (top / "0.txt").write_text("0")
    assert holds_files(top) and count_files(top) == 6
    listing = list_files(top, keep=3)
    assert listing.count == 6 and listing.first == ["0.txt", "x/y/f0.txt", "x/y/f1.txt"]


def test_what_is_not_there_or_not_a_folder_holds_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("f")
    for path in (tmp_path / "missing", tmp_path / "file"):
        assert not holds_files(path) and count_files(path) == 0 and subfolders(path) == []
        assert list_files(path).count == 0 and list_files(path).unlisted is None


def test_a_folder_that_cannot_be_listed_whole_may_hold_files(scratch: Path) -> None:
    top = scratch / "top"
    (top / "first.txt").parent.mkdir()
    (top / "first.txt").write_text("1")
    make_chain(top / "d", TOO_DEEP)
    assert holds_files(scratch / "top" / "d")  # only folders listed before it stopped: it may hold some
    assert count_files(top / "d") == 1  # none counted before it stopped: one, it may hold data
    assert count_files(top) >= 1
    listing = list_files(top)
    assert listing.unlisted is not None and "too long" in listing.unlisted.lower()
    assert "first.txt" in listing.first
