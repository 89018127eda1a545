"""A code snapshot (``copy_code_tree``: ``job create``'s ``submit.copy_code``, a registered component's, a
Ray node's) lists the code folder once: each entry is checked as the copy reaches it (``job create`` has
checked the whole folder before queuing, ``check_submission``), and what changed since that check is
refused with nothing left copied: the partial copy is removed, no link in it followed, what the target
held before kept. A FIFO is never opened.

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.jobs.submit import CODE_IGNORED, copy_code
from runner.workspace.code_tree import check_code_tree, copy_code_tree
from runner.workspace.jobdir import JobDir


def _code(folder: Path, outside: Path) -> Path:
    """``a.py``, ``pkg/b.py``, ``pkg/deep/c.py``, a link out of the folder, and a ``.git`` (left out)."""
    (folder / "pkg" / "deep").mkdir(parents=True)
    (folder / ".git").mkdir()
    for name in ("a.py", "pkg/b.py", "pkg/deep/c.py", ".git/HEAD"):
        (folder / name).write_text(f"# {name}\n")
    (folder / "pkg" / "out").symlink_to(outside)
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the job's\n")
    return outside


class _NameOrder:
    """A listing in name order: the copy goes in the file system's order, fixed here (``a.py`` first)."""

    def __init__(self, entries: Iterator[os.DirEntry[str]]) -> None:
        self.entries = sorted(entries, key=lambda entry: entry.name)

    def __enter__(self) -> Iterator[os.DirEntry[str]]:
        return iter(self.entries)

    def __exit__(self, *exc: object) -> None:
        return None


def _listings(monkeypatch: pytest.MonkeyPatch) -> Counter[str | int]:
    """How often each folder is listed (``os.scandir``), every listing in name order."""
    listed: Counter[str | int] = Counter()
    scandir = os.scandir

    def counting(path: Any = ".") -> _NameOrder:
        listed[path if isinstance(path, int) else os.fspath(path)] += 1
        with scandir(path) as listing:
            return _NameOrder(listing)

    monkeypatch.setattr(os, "scandir", counting)
    return listed


def test_a_snapshot_lists_each_folder_once(tmp_path: Path, outside: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = _code(tmp_path / "src", outside)
    job_dir = JobDir(tmp_path / "ws" / "jobs" / "j1")
    listed = _listings(monkeypatch)
    copy_code(str(source), job_dir)
    assert {path: count for path, count in listed.items() if str(path).startswith(str(source))} == {
        str(source): 1, str(source / "pkg"): 1, str(source / "pkg" / "deep"): 1}
    assert (job_dir.code / "pkg" / "deep" / "c.py").read_text() == "# pkg/deep/c.py\n"
    assert os.readlink(job_dir.code / "pkg" / "out") == str(outside)
    assert not (job_dir.code / ".git").exists()


def _after_first_copy(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """``change`` made once the copy has copied its first file (``.git/HEAD`` or ``a.py``: the folder
    changing under it, ``pkg/`` not listed yet)."""
    _listings(monkeypatch)
    copy2 = shutil.copy2
    done: list[bool] = []

    def changing(src: Any, dst: Any, **kwargs: Any) -> Any:
        result = copy2(src, dst, **kwargs)
        if not done:
            done.append(True)
            change()
        return result

    monkeypatch.setattr(shutil, "copy2", changing)


def test_a_fifo_made_during_the_copy_is_refused_and_nothing_is_left(tmp_path: Path, outside: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    source = _code(tmp_path / "src", outside)
    job_dir = JobDir(tmp_path / "ws" / "jobs" / "j1")
    check_code_tree(source, field="code", ignore=CODE_IGNORED)  # job create's check passes
    _after_first_copy(monkeypatch, lambda: os.mkfifo(source / "pkg" / "deep" / "pipe"))
    with pytest.raises(SpecError) as caught:
        copy_code(str(source), job_dir)
    assert caught.value.field == "code"
    assert caught.value.message == (f"the folder '{source}' holds an entry a code snapshot cannot take: "
                                    "'pkg/deep/pipe' (a FIFO)")
    assert os.listdir(job_dir.code) == []  # nothing copied is left
    assert sorted(os.listdir(outside)) == ["keep.txt"]  # the link was removed, not followed
    assert sorted(os.listdir(source)) == [".git", "a.py", "pkg"]


def test_a_file_made_unreadable_during_the_copy_is_refused(tmp_path: Path, outside: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = _code(tmp_path / "src", outside)
    unreadable: set[str] = set()
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: os.fspath(path) not in unreadable
                        and access(path, mode, **kw))  # the tests run as root: pretend
    _after_first_copy(monkeypatch, lambda: unreadable.add(str(source / "pkg" / "deep" / "c.py")))
    target = tmp_path / "component" / "code"
    with pytest.raises(SpecError) as caught:
        copy_code_tree(source, target, field="code", ignore=CODE_IGNORED)
    assert caught.value.message.endswith(": 'pkg/deep/c.py' (not readable)")
    assert not target.exists()  # a target the copy made is removed whole


def test_what_the_target_held_before_is_kept(tmp_path: Path, outside: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    source = _code(tmp_path / "src", outside)
    target = tmp_path / "node" / "code"
    target.mkdir(parents=True)
    (target / "before.txt").write_text("kept\n")
    _after_first_copy(monkeypatch, lambda: os.mkfifo(source / "pkg" / "pipe"))
    with pytest.raises(SpecError, match=r"'pkg/pipe' \(a FIFO\)"):
        copy_code_tree(source, target, field="code", dirs_exist_ok=True)
    assert os.listdir(target) == ["before.txt"]
