"""What a read-write mount (``mounts.fuse.rw``) knows of the tree in its store: folder listings and entry
attributes.

A folder is listed once (``fs.ls``, or the mount's ``FolderLister``), leaving out the names
``mounts.fuse.rw_names`` hides; from then on the cached listing and attributes are kept as the job makes,
removes and renames entries through the mount. A change also drops what the readahead cached of a path's
content. A staged file's attributes are its staged copy's, not these (``FsspecReadWrite._stat``).
"""

from __future__ import annotations

import stat
import threading
from typing import Any

from fsspec import AbstractFileSystem

from mounts.fuse.readahead import BlockCache
from mounts.fuse.ro import FolderLister, attrs_of, child_name
from mounts.fuse.rw_names import HiddenNames, name_of, parent_of


class MountTree:
    """The listings and attributes of a read-write mount's folders and files, by mount path."""

    def __init__(self, fs: AbstractFileSystem, root: str, lister: FolderLister | None, names: HiddenNames,
                 content: BlockCache) -> None:
        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.lister = lister  # instead of ``fs.ls`` (as ro's): it names what adlfs drops unsaid (``x//y``)
        self.names = names
        self.content = content  # what readahead cached of each file, by store path
        self.attrs: dict[str, dict[str, Any]] = {"/": attrs_of({"type": "directory"}, writable=True)}
        self.listings: dict[str, set[str]] = {}
        self.lock = threading.RLock()  # shared with the mount's handles (``FsspecReadWrite._lock``)

    def fs_path(self, path: str) -> str:
        return self.root if path == "/" else f"{self.root.rstrip('/')}/{path.lstrip('/')}"

    def list(self, path: str) -> set[str]:
        with self.lock:
            if path in self.listings:
                return self.listings[path]
        full = self.fs_path(path)
        entries: dict[str, dict[str, Any]] = {}
        try:
            listed = list(self.lister(full).items()) if self.lister is not None else [
                (child_name(full.rstrip("/"), str(info["name"]).rstrip("/")), info)
                for info in self.fs.ls(full, detail=True)]  # "": the folder itself, in some stores
            for name, info in listed:
                if (name or self.lister is not None) and not self.names.hides(path, name):
                    entries[name] = attrs_of(info, writable=True)
        except FileNotFoundError:
            if path != "/" and path not in self.attrs:
                raise
        prefix = path.rstrip("/") + "/"
        with self.lock:
            for name, attrs in entries.items():
                self.attrs.setdefault(prefix + name, attrs)
            return self.listings.setdefault(path, set(entries))

    def stat(self, path: str) -> dict[str, Any]:
        """The attributes of ``path`` as listed or kept (its parent listed first if need be)."""
        with self.lock:
            known = self.attrs.get(path)
        if known is not None:
            return known
        self.list(parent_of(path))
        with self.lock:
            if path not in self.attrs:
                raise FileNotFoundError(path)
            return self.attrs[path]

    def full_folder(self, path: str) -> bool:
        """Whether ``path`` is a known folder with entries (a rename onto it is ``ENOTEMPTY``)."""
        with self.lock:
            return path in self.attrs and stat.S_ISDIR(self.attrs[path]["st_mode"]) and bool(self.list(path))

    def forget(self, path: str) -> None:
        """Forget cached content of ``path`` (it changed through this mount)."""
        self.content.discard(self.fs_path(path))

    def add(self, path: str, attrs: dict[str, Any]) -> None:
        with self.lock:
            self.attrs[path] = attrs
            self.list(parent_of(path)).add(name_of(path))

    def add_folder(self, path: str) -> None:
        self.add(path, attrs_of({"type": "directory"}, writable=True))
        self.listings.setdefault(path, set())

    def remove(self, path: str) -> None:
        self.forget(path)
        with self.lock:
            self.attrs.pop(path, None)
            self.listings.pop(path, None)
            self.list(parent_of(path)).discard(name_of(path))

    def durable(self, path: str, size: int) -> None:
        """``path`` was uploaded with ``size`` bytes: the store's copy is what the next read sees."""
        self.forget(path)
        with self.lock:
            if path in self.attrs:
                self.attrs[path] = attrs_of({"type": "file", "size": size}, writable=True)

    def moved_folder(self, old: str, new: str) -> None:
        """The folder ``old`` was renamed ``new``: what was known below either name is forgotten."""
        with self.lock:
            attrs = self.attrs[old]
            for path in [p for p in {*self.attrs, *self.listings}  # what was at ``new`` is gone too
                         if p in (old, new) or p.startswith((old + "/", new + "/"))]:
                self.forget(path)
                self.attrs.pop(path, None)
                self.listings.pop(path, None)
            self.list(parent_of(old)).discard(name_of(old))
            self.add(new, attrs)
