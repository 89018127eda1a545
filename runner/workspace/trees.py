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
"""

from __future__ import annotations

from mounts.transfer.tree import copy_tree, iter_entries, remove_tree, walk

__all__ = ["copy_tree", "iter_entries", "remove_tree", "walk"]
