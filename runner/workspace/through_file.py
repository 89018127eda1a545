"""A path that goes on below a file (``azureml://datastores/<ds>/paths/runner.db/x`` where ``runner.db`` is
a file) names nothing that can exist. Looking at it fails with ``NotADirectoryError``; that is one
``ResolveError`` naming the file, as the path was written, never a storage failure (whose hint is about
the datastore's credentials).

    raise through_file(None, "/data/runner.db/x", "azureml://datastores/d/paths/runner.db/x") from None
"""

from __future__ import annotations

import os
import posixpath
import stat
from typing import TYPE_CHECKING

from runner.errors import ResolveError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


def through_file(fs: AbstractFileSystem | None, path: str, uri: str) -> ResolveError:
    """The error for ``path`` on ``fs`` (None: this machine's files), written ``uri``, one of whose
    folders is a file: the nearest such file above it, named as ``uri`` names it."""
    parent = path.rstrip("/")
    while (parent := posixpath.dirname(parent)) not in ("", "/", "."):
        try:
            is_file = stat.S_ISREG(os.stat(parent).st_mode) if fs is None else \
                fs.info(parent)["type"] == "file"
        except Exception:  # noqa: BLE001 - higher up the path is a file too (or unreadable): keep walking up
            continue
        if not is_file:
            break  # a folder: nothing on the way is a file (it changed since)
        rest = path[len(parent):]
        named = uri[:-len(rest)] if rest and uri.endswith(rest) else parent
        return ResolveError(f"'{uri}' goes on below a file: '{named}' is a file, not a folder, so nothing "
                            "lies below it",
                            hint=f"check the path: each part of it but the last is a folder; to use the "
                                 f"file, name it ('{named}')")
    return ResolveError(f"'{uri}' goes on below a file: a part of its path is a file, not a folder",
                        hint="check the path: each part of it but the last is a folder")
