"""What a code snapshot leaves out: Azure ML's ignore file, ``.git`` and ``__pycache__``, and any runner
workspace inside the code folder.

    rules = snapshot_rules(Path("/home/me/repo"), keep_out=[job_dir.code])
    copy_code_tree(source, job_dir.code, field="code", ignore=rules)   # rules(folder, names): left out
    rules.workspaces                                                   # ['ci-ws']: workspaces left out
    rules, found = checked_rules(source, target=job_dir.code)          # the check's walk, found refused

**The ignore file**, as Azure ML's upload reads it (azure-ai-ml's ``get_ignore_file`` and
``IgnoreFile``): the code folder's own ``.amlignore``, else its ``.gitignore``; never both, never one in
a subfolder or above the code folder (a repository's ``.gitignore`` above ``code: ./src`` is not read).
Its lines are gitignore patterns (``pathspec``'s, the library Azure's own copy comes from; UTF-8, a BOM
allowed), matched against each file's path relative to the code folder; the last pattern that matches
decides, so a ``!`` pattern re-includes a file, inside an excluded folder too (Azure matches file by
file; git itself would not look inside). The ignore file is itself copied unless a pattern names it. An
ignore file that cannot be read (a FIFO, never opened blocking; a folder; not UTF-8) or holds a line that
is no pattern is one ``SpecError`` on ``code``. A folder is left out whole (never listed) when a pattern
excludes it and the file has no ``!`` pattern; otherwise its files are matched one by one.

**Workspaces.** A folder holding a ``runner.db`` and a ``jobs/`` folder is a runner workspace (the CI
layout ``runner -w ./ci-ws`` with ``code: .``), and so is a folder that is or holds a path in
``keep_out`` (where the copy goes): never copied, listed in ``workspaces`` for the one warning that
names them (``workspace_warning``). Links are copied as links (``runner.workspace.code_tree``): one that
names a workspace copies nothing of it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import SpecError
from runner.workspace.code_tree import code_tree_problems, special_kind

if TYPE_CHECKING:
    from pathspec import PathSpec

IGNORE_FILES = (".amlignore", ".gitignore")  # the first one the code folder holds is read, as in Azure
ALWAYS_LEFT_OUT = (".git", "__pycache__")


class SnapshotRules:
    """``copy_tree``'s ``ignore``: ``rules(folder, names)`` is the names in ``folder`` (below ``root``) a
    snapshot leaves out. ``ignore_file``: the one read (None: none); ``workspaces``: the runner
    workspaces met and left out, relative to ``root``, in the order met."""

    def __init__(self, root: Path, spec: PathSpec | None = None, ignore_file: str | None = None,
                 keep_out: Iterable[Path] = ()) -> None:
        self.root = os.path.abspath(root)
        self.ignore_file = ignore_file
        self.workspaces: list[str] = []
        self._spec = spec
        self._prunes = spec is not None and all(pattern.include is not False for pattern in spec.patterns)
        real = os.path.realpath(self.root)
        kept = (os.path.relpath(os.path.realpath(path), real) for path in keep_out)
        self._keep_out = [Path(rel).as_posix() for rel in kept if rel != ".." and not rel.startswith("../")]

    def __call__(self, folder: str, names: list[str]) -> list[str]:
        links = self._spec is not None  # a link to a folder matters only to a folder pattern
        return self._left_out(folder, names, lambda name: _kind(os.path.join(folder, name), links))

    def left_out_entries(self, folder: str, entries: Sequence[os.DirEntry[str]]) -> list[str]:
        """``self(folder, names)`` for one ``os.scandir`` of ``folder``: the kinds the listing gives
        (``d_type``, no ``lstat``), a link followed once (only to match a folder pattern)."""
        links, listed = self._spec is not None, {entry.name: entry for entry in entries}
        return self._left_out(folder, list(listed), lambda name: _entry_kind(listed[name], links))

    def _left_out(self, folder: str, names: list[str], kind_of: Callable[[str], str]) -> list[str]:
        below = os.path.relpath(os.path.abspath(folder), self.root)
        prefix = None if below == ".." or below.startswith("../") else "" if below == "." else f"{below}/"
        left_out = []
        for name in names:
            if name in ALWAYS_LEFT_OUT:
                left_out.append(name)
                continue
            if prefix is None:  # not below the code folder: only the names above apply
                continue
            path, rel = os.path.join(folder, name), prefix + name
            kind = kind_of(name)
            if self._ignored(rel, kind):
                left_out.append(name)
            elif kind == _FOLDER and (self._holds_kept_out(rel) or is_workspace(path)):
                if rel not in self.workspaces:
                    self.workspaces.append(rel)
                left_out.append(name)
        return left_out

    def _ignored(self, rel: str, kind: str) -> bool:
        if self._spec is None:
            return False
        if kind == _FOLDER:  # left out whole only when nothing below it can be re-included
            return self._prunes and self._spec.match_file(rel + "/")
        return self._spec.match_file(rel + "/" if kind == _LINKED_FOLDER else rel)

    def _holds_kept_out(self, rel: str) -> bool:
        return any(kept == rel or kept.startswith(rel + "/") for kept in self._keep_out)


_FOLDER, _LINKED_FOLDER, _OTHER = "folder", "link to a folder", "other"


def _kind(path: str, links: bool = True) -> str:
    """A folder, a link to one (matched as a folder, copied as a link; ``links``: looked for), or anything
    else (nothing opened)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return _OTHER  # gone: the copy's own check says so
    if stat.S_ISDIR(mode):
        return _FOLDER
    return _LINKED_FOLDER if links and stat.S_ISLNK(mode) and os.path.isdir(path) else _OTHER


def _entry_kind(entry: os.DirEntry[str], links: bool) -> str:
    """``_kind`` of a listed entry, from what the listing gives (a link followed once when ``links``)."""
    try:
        if entry.is_dir(follow_symlinks=False):
            return _FOLDER
        return _LINKED_FOLDER if links and entry.is_symlink() and entry.is_dir() else _OTHER
    except OSError:  # gone, or a loop
        return _OTHER


def is_workspace(path: str) -> bool:
    """``path`` is a runner workspace: it holds ``runner.db`` and a ``jobs/`` folder (no link followed)."""
    try:
        return os.path.lexists(os.path.join(path, "runner.db")) and stat.S_ISDIR(
            os.lstat(os.path.join(path, "jobs")).st_mode)
    except OSError:
        return False


def snapshot_rules(source: Path, *, keep_out: Iterable[Path] = ()) -> SnapshotRules:
    """The rules of the code folder ``source`` (see the module docstring); ``keep_out``: paths the
    snapshot must never copy (where it goes). Its ignore file is read here: ``SpecError`` on ``code``."""
    if not os.path.isdir(source):
        return SnapshotRules(source, keep_out=keep_out)
    for name in IGNORE_FILES:
        path = os.path.join(source, name)
        if os.path.exists(path):  # as Azure: a dangling link is no ignore file
            return SnapshotRules(source, _patterns(path, name), name, keep_out)
    return SnapshotRules(source, keep_out=keep_out)


def _patterns(path: str, name: str) -> PathSpec:
    from pathspec import PathSpec  # start-up cost (~30 ms): only for a code folder that has an ignore file
    from pathspec.patterns.gitignore.base import GitIgnorePatternError
    from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

    hint = f"make {name} a UTF-8 text file of gitignore patterns, one a line, or remove it"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)  # a FIFO: not blocked
    except OSError as exc:
        raise SpecError(f"cannot read the ignore file '{path}': {exc.strerror or exc}", field="code",
                        hint=hint) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # nothing read from a FIFO or a device
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else special_kind(mode)
        raise SpecError(f"cannot read the ignore file '{path}': it is {kind}, not a regular file",
                        field="code", hint=hint)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    try:
        lines = data.decode("utf-8-sig").splitlines()  # as azure-ai-ml reads it
    except UnicodeDecodeError as exc:
        raise SpecError(f"cannot read the ignore file '{path}': not UTF-8 text (byte {exc.start})",
                        field="code", hint=hint) from None
    patterns = []
    for number, line in enumerate(lines, start=1):
        try:
            patterns.append(GitIgnoreBasicPattern(line))
        except GitIgnorePatternError:
            raise SpecError(f"the ignore file '{path}' line {number}: '{line}' is not a gitignore pattern",
                            field="code", hint=f"fix or remove that line of {name} (a lone '!' or a "
                                                "trailing '\\' is no pattern)") from None
    return PathSpec(patterns)


def checked_rules(source: Path, *, target: Path | None = None) -> tuple[SnapshotRules, list[tuple[str, str]]]:
    """``snapshot_rules`` of the code folder ``source`` (``target``: where the copy goes, kept out) after
    the check's one walk of it (``code_tree_problems``: nothing opened, no link followed, no recursion):
    its ``workspaces`` are those the snapshot leaves out, and the list is every entry the snapshot cannot
    take (``code_tree_refusal``'s; below a refused folder nothing is looked at). Each entry is looked at
    once (the rules and the check share the listing's entries), and ``access()`` is asked only where
    the owner bits do not decide (``code_tree_problems``' ``owner_bits``: the copy asks for every entry
    it copies). ``SpecError`` on ``code`` for an ignore file that cannot be read."""
    rules = snapshot_rules(source, keep_out=[target] if target is not None else [])
    return rules, code_tree_problems(source, ignore=rules, target=target, owner_bits=True)


def workspace_warning(source: Path, rules: SnapshotRules) -> str | None:
    """The one warning naming the runner workspaces ``rules`` left out of ``source``'s snapshot."""
    if not rules.workspaces:
        return None
    named = ", ".join(f"'{rel}'" for rel in rules.workspaces)
    patterns = ", ".join(f"'{rel}/'" for rel in rules.workspaces)
    what = "a runner workspace" if len(rules.workspaces) == 1 else "runner workspaces"
    them = "the workspace" if len(rules.workspaces) == 1 else "them"
    return (f"the code snapshot leaves out {named}, {what} inside the code folder {source}; move {them} out "
            f"of the code folder, or add {patterns} to its {rules.ignore_file or IGNORE_FILES[0]}")
