"""``mounts.transfer.tree.copy_tree`` and ``walk``: ``shutil.copytree(symlinks=True)`` and ``os.walk`` with
an explicit stack, so a tree deeper than Python's recursion limit is copied (walked) whole.

Each is held against the standard library's function on a shallow tree (the same files, modes, times,
links, ignored names and errors; the same triples in the same order), then run on a tree 1,200 levels
deep. Everything lives in this test's ``tmp_path``; a link planted in a tree points out of it and must
never be followed (the folder it names is checked untouched)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, chain_of, deep_scratch, make_chain

from mounts.transfer.tree import copy_tree, walk

PAST = 1_000_000_000_000_000_000  # 2001-09-09, in ns: a copied time is the source's, not the copy's


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


def _source(top: Path, outside: Path) -> None:
    """A shallow tree with what a code snapshot may hold: modes, old times, links in and out, ignored
    names at two levels, a read-only folder, and a FIFO (which no copy can take: an error)."""
    (top / "sub" / "__pycache__").mkdir(parents=True)
    (top / ".git").mkdir()
    (top / ".git" / "config").write_text("[core]\n")
    (top / "sub" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (top / "file.txt").write_text("file\n")
    (top / "file.txt").chmod(0o640)
    (top / "run.sh").write_text("#!/bin/sh\n")
    (top / "run.sh").chmod(0o755)
    (top / "sub" / "inner.txt").write_text("inner\n")
    (top / "sub" / "to-file").symlink_to("../file.txt")
    (top / "out").symlink_to(outside)
    (top / "dangling").symlink_to("nowhere")
    (top / "ro").mkdir()
    (top / "ro" / "kept.txt").write_text("kept\n")
    os.mkfifo(top / "sub" / "pipe")
    for path in (top / "file.txt", top / "sub" / "inner.txt", top / "ro" / "kept.txt", top / "sub"):
        os.utime(path, ns=(PAST, PAST))
    (top / "ro").chmod(0o555)
    (top / "sub").chmod(0o750)
    os.utime(top / "sub", ns=(PAST, PAST))
    os.utime(top / "out", ns=(PAST, PAST), follow_symlinks=False)


def _state(top: Path, *, times: bool = True) -> list[tuple[str, str, int, int]]:
    """(path, kind or link target, mode, mtime) of everything below ``top`` (shallow trees only)."""
    found = []
    for folder, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            info = os.lstat(path)
            kind = f"-> {os.readlink(path)}" if stat.S_ISLNK(info.st_mode) else stat.filemode(info.st_mode)
            found.append((os.path.relpath(path, top), kind, stat.S_IMODE(info.st_mode),
                          info.st_mtime_ns if times else 0))
    return sorted(found)


def _recording(calls: list[tuple[str, list[str]]]) -> Callable[[str, list[str]], set[str]]:
    patterns = shutil.ignore_patterns(".git", "__pycache__")

    def ignore(folder: str, names: list[str]) -> set[str]:
        calls.append((folder, sorted(names)))
        return patterns(folder, names)
    return ignore


def _errors(caught: shutil.Error, target: Path) -> list[tuple[str, str, str]]:
    return [(src, dst.replace(str(target), "<target>"), why.replace(str(target), "<target>"))
            for src, dst, why in caught.args[0]]


def test_a_copy_is_what_shutil_copytree_makes(scratch: Path) -> None:
    outside = scratch / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not to be copied\n")
    source = scratch / "src"
    source.mkdir()
    _source(source, outside)
    made: dict[str, tuple[list[tuple[str, list[str]]], list[tuple[str, str, str]]]] = {}
    for how, target in (("shutil", scratch / "by-shutil"), ("ours", scratch / "by-copy-tree")):
        calls: list[tuple[str, list[str]]] = []
        with pytest.raises(shutil.Error) as caught:
            if how == "shutil":
                shutil.copytree(source, target, symlinks=True, ignore=_recording(calls))
            else:
                copy_tree(source, target, ignore=_recording(calls))
        made[how] = (calls, _errors(caught.value, target))
    assert made["ours"] == made["shutil"]
    assert [src for src, _dst, _why in made["ours"][1]] == [str(source / "sub" / "pipe")]  # the FIFO
    assert _state(scratch / "by-copy-tree") == _state(scratch / "by-shutil")
    copied = scratch / "by-copy-tree"
    assert not (copied / "sub" / "__pycache__").exists() and not (copied / ".git").exists()
    assert os.readlink(copied / "out") == str(outside) and os.readlink(copied / "dangling") == "nowhere"
    assert os.stat(copied / "sub").st_mtime_ns == PAST
    assert stat.S_IMODE(os.stat(copied / "ro").st_mode) == 0o555
    assert sorted(os.listdir(outside)) == ["secret.txt"]  # the link out was copied as a link, not followed
    for target in (scratch / "by-copy-tree", scratch / "by-shutil"):
        (target / "ro").chmod(0o755)


def test_an_existing_target_is_refused_or_merged_as_shutil_does(scratch: Path) -> None:
    source = scratch / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "new.txt").write_text("new\n")
    (source / "link").symlink_to("sub")
    for name in ("by-shutil", "by-copy-tree"):
        (scratch / name / "sub").mkdir(parents=True)
        (scratch / name / "sub" / "new.txt").write_text("old\n")
        (scratch / name / "sub" / "stale.txt").write_text("stale\n")
        (scratch / name / "link").write_text("a file where the link goes\n")
    with pytest.raises(FileExistsError):
        copy_tree(source, scratch / "by-copy-tree")
    with pytest.raises(shutil.Error) as ours:
        copy_tree(source, scratch / "by-copy-tree", dirs_exist_ok=True)
    with pytest.raises(shutil.Error) as theirs:
        shutil.copytree(source, scratch / "by-shutil", symlinks=True, dirs_exist_ok=True)
    assert _errors(ours.value, scratch / "by-copy-tree") == _errors(theirs.value, scratch / "by-shutil")
    # the files that were there keep their own times: compared by everything else
    assert _state(scratch / "by-copy-tree", times=False) == _state(scratch / "by-shutil", times=False)
    assert (scratch / "by-copy-tree" / "sub" / "new.txt").read_text() == "new\n"


def test_a_tree_deeper_than_the_recursion_limit_is_copied_whole(scratch: Path) -> None:
    outside = scratch / "outside"
    outside.mkdir()
    deepest = make_chain(scratch / "src")
    (deepest / "__pycache__").mkdir()
    (deepest / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (deepest / "out").symlink_to(outside)
    os.utime(deepest / "f.txt", ns=(PAST, PAST))
    target = scratch / "copy"
    copy_tree(scratch / "src", target, ignore=shutil.ignore_patterns("__pycache__"))
    assert chain_of(target) == (DEEP, b"deep\n")
    copied = Path(os.path.join(target, *(["a"] * DEEP)))
    assert sorted(os.listdir(copied)) == ["f.txt", "out"]
    assert os.readlink(copied / "out") == str(outside) and os.listdir(outside) == []
    assert os.stat(copied / "f.txt").st_mtime_ns == PAST


def test_walk_gives_what_os_walk_gives(scratch: Path) -> None:
    top = scratch / "t"
    (top / "b" / "c").mkdir(parents=True)
    (top / "a" / "skip" / "x").mkdir(parents=True)
    (top / "a" / "f.txt").write_text("f\n")
    (top / "b" / "to-a").symlink_to("../a")
    (top / "to-file").symlink_to("a/f.txt")
    (top / "dangling").symlink_to("nowhere")
    for follow in (False, True):
        ours, theirs = [], []
        for triples, walked in ((ours, walk(top, follow_links=follow)),
                                (theirs, os.walk(top, followlinks=follow))):
            for folder, dirs, files in walked:
                triples.append((folder, list(dirs), list(files)))
                dirs[:] = [d for d in dirs if d != "skip"]  # pruned in place, as os.walk allows
        assert ours == theirs
        assert not any(folder.endswith("skip") for folder, _dirs, _files in ours)
    assert list(walk(scratch / "missing")) == list(os.walk(scratch / "missing")) == []


def test_walk_goes_deeper_than_the_recursion_limit(scratch: Path) -> None:
    make_chain(scratch / "t")
    folders = list(walk(scratch / "t"))
    assert len(folders) == DEEP + 1
    assert folders[-1][1:] == ([], ["f.txt"]) and folders[-1][0].count("/a") == DEEP
