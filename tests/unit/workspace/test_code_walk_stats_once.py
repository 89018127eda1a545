"""The walk ``job validate`` and ``job create`` make of a code folder before queuing (``checked_rules``:
the ignore rules and the check in one listing) looks at each entry at most once: the ignore rules take
the kind the listing gives (``d_type``), the check ``lstat``s a file or folder once (a link not at all:
the rules follow it once, only when the folder has an ignore file, whose folder patterns may match
it), and ``access()`` is asked only where the owner bits do not decide: an entry of another owner, or
one whose owner bits deny (root reads it anyway). What the walk finds and leaves out is what the rules
by names find.

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.workspace.code_tree import code_tree_problems
from runner.workspace.snapshot_rules import checked_rules, snapshot_rules

AS_ROOT = pytest.mark.skipif(os.getuid() != 0, reason="giving an entry another owner needs root")


class _Counted:
    """A listed entry whose ``stat`` calls (and a link followed by ``is_dir``) are counted."""

    def __init__(self, entry: os.DirEntry[str], counts: Counter[tuple[str, str]]) -> None:
        self._entry, self._counts = entry, counts
        self.name, self.path = entry.name, entry.path

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks and self._entry.is_symlink():
            self._counts[(self.path, "stat")] += 1
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks and self._entry.is_symlink():
            self._counts[(self.path, "stat")] += 1
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        self._counts[(self.path, "stat" if follow_symlinks else "lstat")] += 1
        return self._entry.stat(follow_symlinks=follow_symlinks)

    def inode(self) -> int:
        return self._entry.inode()

    def __fspath__(self) -> str:
        return self.path


class _Listing:
    def __init__(self, entries: Iterable[_Counted]) -> None:
        self.entries = list(entries)

    def __enter__(self) -> Iterator[_Counted]:
        return iter(self.entries)

    def __exit__(self, *exc: object) -> None:
        return None

    def __iter__(self) -> Iterator[_Counted]:
        return iter(self.entries)


def _counting(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """``(path, "lstat" | "stat" | "access")`` -> calls, through ``os`` and through listed entries."""
    counts: Counter[tuple[str, str]] = Counter()
    scandir, lstat, stat, access = os.scandir, os.lstat, os.stat, os.access

    def listing(path: Any = ".") -> _Listing:
        with scandir(path) as entries:
            return _Listing([_Counted(entry, counts) for entry in entries])

    def counted_lstat(path: Any, *args: Any, **kw: Any) -> os.stat_result:
        counts[(os.fspath(path), "lstat")] += 1
        return lstat(path, *args, **kw)

    def counted_stat(path: Any, *args: Any, follow_symlinks: bool = True, **kw: Any) -> os.stat_result:
        counts[(os.fspath(path) if not isinstance(path, int) else str(path),
                "stat" if follow_symlinks else "lstat")] += 1
        return stat(path, *args, follow_symlinks=follow_symlinks, **kw)

    def counted_access(path: Any, mode: int, **kw: Any) -> bool:
        counts[(os.fspath(path), "access")] += 1
        return access(path, mode, **kw)

    monkeypatch.setattr(os, "scandir", listing)
    monkeypatch.setattr(os, "lstat", counted_lstat)
    monkeypatch.setattr(os, "stat", counted_stat)
    monkeypatch.setattr(os, "access", counted_access)
    return counts


def _repo(root: Path) -> Path:
    """Files, folders, links (to a file, to a folder, dangling), a runner workspace (``ci-ws``) and an
    ``.amlignore`` whose patterns match a folder, a link to one and files (one re-included)."""
    for name in ("train.py", "src/a.py", "src/deep/b.py", "logs/x.log", "logs/keep.log", "data/big.bin",
                 "ci-ws/runner.db", "ci-ws/jobs/j1/x", "shared/s.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"# {name}\n")
    (root / ".amlignore").write_text("*.log\n!keep.log\ndata/\nlinked/\n")
    (root / "src" / "alias.py").symlink_to(root / "train.py")
    (root / "linked").symlink_to(root / "shared")
    (root / "to-shared").symlink_to(root / "shared")
    (root / "dangling").symlink_to(root / "nothing-here")
    return root


def _below(counts: Counter[tuple[str, str]], source: Path, what: str) -> dict[str, int]:
    """The ``what`` calls on entries below ``source`` (the ignore file aside: it is read before the
    walk, its own ``exists()`` and ``fstat``)."""
    top = os.fspath(source) + os.sep
    return {os.path.relpath(path, source): count for (path, kind), count in counts.items()
            if kind == what and path.startswith(top) and path != os.path.join(source, ".amlignore")}


def test_the_walk_stats_each_entry_at_most_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _repo(tmp_path / "repo")
    counts = _counting(monkeypatch)
    rules, found = checked_rules(source, target=tmp_path / "ws" / "jobs" / "j1" / "code")
    assert found == [] and rules.workspaces == ["ci-ws"]
    looked = Counter(_below(counts, source, "lstat")) + Counter(_below(counts, source, "stat"))
    assert {path: count for path, count in looked.items() if count > 1} == {}
    links = {"src/alias.py", "linked", "to-shared", "dangling"}
    assert set(_below(counts, source, "stat")) == links  # followed once: is it a folder (for 'linked/')
    assert not links & set(_below(counts, source, "lstat"))  # the listing says it is a link
    assert _below(counts, source, "access") == {}  # all ours, owner-readable: the mode bits tell


def test_access_is_asked_where_the_owner_bits_deny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "repo"
    (source / "closed").mkdir(parents=True)
    (source / "closed" / "inside.py").write_text("x\n")
    (source / "locked.py").write_text("x\n")
    (source / "train.py").write_text("x\n")
    (source / "locked.py").chmod(0o200)
    (source / "closed").chmod(0o300)
    try:
        counts = _counting(monkeypatch)
        _rules, found = checked_rules(source)
    finally:
        (source / "closed").chmod(0o755)
    assert _below(counts, source, "access") == {"locked.py": 1, "closed": 1}
    if os.getuid() == 0:  # root reads everything: as access() says
        assert found == []
    else:
        assert found == [("closed", "a folder that is not readable"), ("locked.py", "not readable")]


@AS_ROOT
def test_an_entry_of_another_owner_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "repo"
    (source / "theirs").mkdir(parents=True)
    for name in ("theirs/t.py", "their.py", "open.py", "mine.py"):
        (source / name).write_text("x\n")
    for name in ("theirs", "their.py", "open.py"):
        os.chown(source / name, 4321, 4321)
    denied = {str(source / "theirs"), str(source / "their.py")}  # as the kernel would say to its user
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: os.fspath(path) not in denied
                        and access(path, mode, **kw))
    counts = _counting(monkeypatch)
    _rules, found = checked_rules(source)
    assert found == [("their.py", "not readable"), ("theirs", "a folder that is not readable")]
    assert _below(counts, source, "access") == {"their.py": 1, "theirs": 1, "open.py": 1}


def test_the_walk_leaves_out_and_finds_what_the_rules_by_names_do(tmp_path: Path) -> None:
    source = _repo(tmp_path / "repo")
    os.mkfifo(source / "src" / "pipe")
    os.mkfifo(source / "logs" / "pipe.log")  # left out
    os.mkfifo(source / "logs" / "keep.log.pipe")
    (source / "loop").symlink_to(source / "loop")
    (source / "nested" / "inner-ws" / "jobs").mkdir(parents=True)
    (source / "nested" / "inner-ws" / "runner.db").write_text("")
    target = tmp_path / "ws" / "jobs" / "j1" / "code"
    rules, found = checked_rules(source, target=target)
    by_names = snapshot_rules(source, keep_out=[target])
    assert found == code_tree_problems(source, ignore=lambda folder, names: by_names(folder, names),
                                       target=target)
    assert found == [("logs/keep.log.pipe", "a FIFO"), ("src/pipe", "a FIFO")]
    assert rules.workspaces == by_names.workspaces == ["ci-ws", "nested/inner-ws"]


def test_without_an_ignore_file_no_link_is_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _repo(tmp_path / "repo")
    (source / ".amlignore").unlink()
    counts = _counting(monkeypatch)
    rules, found = checked_rules(source)
    assert found == [] and rules.workspaces == ["ci-ws"]
    links = {"src/alias.py", "linked", "to-shared", "dangling"}
    assert not links & (set(_below(counts, source, "stat")) | set(_below(counts, source, "lstat")))
    assert {path: count for path, count in _below(counts, source, "lstat").items() if count > 1} == {}
