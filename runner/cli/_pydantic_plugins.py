"""pydantic's search for plugins, answered with less work when there can be none.

The first time pydantic builds a validator it looks for plugins (the ``pydantic`` entry-point group:
``pydantic/plugin/_loader.py``, ``get_plugins``): every distribution ``importlib.metadata`` finds, each
one's ``entry_points.txt`` parsed, ~21 M instructions (~2%) of a cold ``runner job validate``.
``note_none_installed`` reads the same files (``entry_points.txt`` of the ``*.dist-info`` and
``*.egg-info`` folders of each ``sys.path`` entry, as ``importlib.metadata``'s path finder lists them)
and only looks for the word ``pydantic`` in them; when none holds it there is no plugin, which it records
as pydantic would (an empty ``_plugins``), so pydantic does not search again. Whatever it cannot tell
the same way (a zip or an egg on the path, another finder of distributions, a file it cannot read,
pydantic's internals not as expected, a search already made) leaves the search to pydantic. Nothing is
set in the environment: what a job inherits is unchanged (see ``runner.launch``).
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder

_METADATA_FOLDERS = (".dist-info", ".egg-info")


def note_none_installed() -> bool:
    """Record pydantic's answer (no plugin) when no distribution can hold one; whether it was recorded."""
    from pydantic.plugin import _loader  # (pydantic imports it for its first validator anyway)

    if getattr(_loader, "_plugins", ()) is not None or getattr(_loader, "_loading_plugins", True):
        return False  # searched already, or not the module this was written for
    if may_have_plugins(sys.path):
        return False
    _loader._plugins = {}
    return True


def may_have_plugins(path: list[str]) -> bool:
    """Whether a distribution on ``path`` may declare a pydantic plugin (True when in any doubt)."""
    if any(finder is not PathFinder for finder in sys.meta_path if hasattr(finder, "find_distributions")):
        return True  # another finder of distributions: only importlib.metadata knows what it finds
    for entry in path:
        if not isinstance(entry, str) or os.path.basename(entry).lower().endswith(".egg"):
            return True
        root = entry or "."  # as importlib.metadata's FastPath lists it
        try:
            names = os.listdir(root)
        except FileNotFoundError:
            continue  # nothing there: importlib.metadata finds nothing either
        except OSError:
            return True  # a zip file (importlib.metadata reads its members), or unreadable
        for name in names:
            if name.lower().endswith(_METADATA_FOLDERS) and _names_pydantic(os.path.join(root, name)):
                return True
    return False


def _names_pydantic(folder: str) -> bool:
    """Whether the distribution's ``entry_points.txt`` holds the word (read a line at a time); a file that
    is not there is none (as ``importlib.metadata`` reads it); one that cannot be read: in doubt."""
    try:
        with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as file:
            return any("pydantic" in line.lower() for line in file)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return False  # importlib.metadata's read_text gives None for these: no entry points
    except (OSError, ValueError):
        return True
