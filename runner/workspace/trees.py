"""Folder trees of any depth, for the code that walks or copies a user's tree (a job's code snapshot, a
registered component's, a job package, a registration's source): runner's one door to
``mounts.transfer.tree``, whose loops keep an explicit stack where ``os.walk`` and ``shutil.copytree``
recurse once per folder level in Python 3.11 (``RecursionError`` past ~1,000 levels, which a user's
``mkdir a; cd a`` loop reaches).

    for folder, dirs, files in walk(top): ...             # os.walk, top-down (follow_links=False)
    for rel, entry in iter_entries(top): ...              # every entry, by relative path, no link followed
    copy_tree(source, target, ignore=ignore_patterns(".git"), dirs_exist_ok=True)  # shutil.copytree,
                                                          # symlinks=True: the same copy, the same errors
    remove_tree(folder)                                   # rm -rf, no link followed; never raises

And the tolerant looks at what a job left in its folders (its staging folders: ``runner.workspace.
upload_state``, ``runner.jobs.recovery``), which never raise and never follow a link: a folder is one only
when it is not a link (a link to one is not looked into), a link below it is an entry like a file (what
the job left, never what it points at), and what cannot be listed whole (unreadable, nested deeper than a
path can name) may hold files.

    is_folder(path)            # a folder, not a link to one
    subfolders(path)           # its folders (not links), sorted; [] when it is none or cannot be listed
    holds_files(folder)        # anything but a folder below it, any depth (stops at the first)
    count_files(folder)        # how many; at least 1 when not all could be listed
    list_files(folder, keep=3) # how many, the first ``keep`` by name, and why not all were listed
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from mounts.transfer.tree import copy_tree, iter_entries, remove_tree, walk

__all__ = ["Listing", "copy_tree", "count_files", "holds_files", "is_folder", "iter_entries", "list_files",
           "remove_tree", "subfolders", "walk"]


@dataclass(frozen=True)
class Listing:
    """What ``list_files`` found below a folder."""

    count: int = 0  # files (anything but a folder) listed, any depth
    first: list[str] = field(default_factory=list)  # the first of them by name (relative, posix)
    unlisted: str | None = None  # why not all of it could be listed (it may hold more); None: all was


def is_folder(path: Path) -> bool:
    """A folder, not a link to one (nor anything that cannot be looked at)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def subfolders(path: Path) -> list[Path]:
    """The folders in ``path`` (not links to one), sorted; [] when it is not a folder or cannot be listed."""
    if not is_folder(path):
        return []
    try:
        return sorted(p for p in path.iterdir() if is_folder(p))
    except OSError:
        return []


def holds_files(folder: Path) -> bool:
    """Whether anything but a folder is below ``folder`` (stops at the first); what cannot be listed may
    (True); what is not a folder (a link to one too) holds nothing."""
    if not is_folder(folder):
        return False
    try:
        return any(not entry.is_dir(follow_symlinks=False) for _rel, entry in iter_entries(folder))
    except OSError:
        return True


def count_files(folder: Path) -> int:
    """How many files (anything but a folder) are below ``folder``, any depth; what cannot be listed counts
    as one when none was (it may hold data); 0 for what is not a folder."""
    listing = list_files(folder, keep=0)
    return listing.count or (1 if listing.unlisted is not None else 0)


def list_files(folder: Path, *, keep: int = 3) -> Listing:
    """How many files are below ``folder`` (any depth) and the first ``keep`` by name (not all: there may be
    millions); when a folder could not be listed (unreadable, too deep to name), what was, and why not."""
    if not is_folder(folder):
        return Listing()
    count = 0
    first: list[str] = []
    try:
        for relative, entry in iter_entries(folder):
            if not entry.is_dir(follow_symlinks=False):
                count += 1
                if keep and (len(first) < keep or relative < first[-1]):
                    first = sorted([*first, relative])[:keep]
    except OSError as exc:
        return Listing(count, first, str(exc.strerror or exc))
    return Listing(count, first)
