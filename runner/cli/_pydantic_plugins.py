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

import importlib.util
import os
import sys
import threading
from importlib.machinery import PathFinder
from types import ModuleType

_METADATA_FOLDERS = (".dist-info", ".egg-info")


def note_none_installed() -> bool:
    """Record pydantic's answer (no plugin) when no distribution can hold one; whether it was recorded."""
    imported = "pydantic.plugin._loader" in sys.modules  # (then pydantic may have searched already)
    if not imported and may_have_plugins(sys.path):
        return False
    _metadata_on_first_use()
    from pydantic.plugin import _loader  # (pydantic imports it for its first validator anyway)

    if getattr(_loader, "_plugins", ()) is not None or getattr(_loader, "_loading_plugins", True):
        return False  # searched already, or not the module this was written for
    if imported and may_have_plugins(sys.path):
        return False
    _loader._plugins = {}
    return True


def _metadata_on_first_use() -> None:
    """``importlib.metadata`` (which pydantic's ``_loader`` imports) executed when first used: with the
    answer recorded pydantic never uses it, and its import (``email``, ``calendar``, ..., ~26 M
    instructions of a cold validate) is left to whoever does use it."""
    if "importlib.metadata" not in sys.modules:
        spec = importlib.util.find_spec("importlib.metadata")
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            module = importlib.util.module_from_spec(spec)
            module.__class__ = _ExecutedOnFirstUse
            sys.modules["importlib.metadata"] = module
            importlib.metadata = module  # as the import system binds a submodule


class _ExecutedOnFirstUse(ModuleType):
    """A module whose code runs when a name it does not hold yet is first read (``import`` reads only
    ``__spec__``, which it holds): then it is the module, as imported. One thread runs it; another that
    reads a name meanwhile waits for it (as an import would), and the code's own reads of names it has
    not yet made fail as they would in any module being imported."""

    def __getattr__(self, name: str) -> object:
        with _RUNNING:
            if type(self) is _ExecutedOnFirstUse and not self.__dict__.get("_running_now"):
                spec = self.__spec__
                if spec is None or spec.loader is None:
                    raise AttributeError(name)
                self.__dict__["_running_now"] = True
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    sys.modules.pop(self.__name__, None)
                    raise
                finally:
                    del self.__dict__["_running_now"]
                self.__class__ = ModuleType  # type: ignore[assignment]  # (a plain module from now on)
        if type(self) is _ExecutedOnFirstUse:  # its own code, reading a name it has not made yet
            raise AttributeError(f"partially initialized module {self.__name__!r} has no attribute {name!r}")
        return getattr(self, name)


_RUNNING = threading.RLock()


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
