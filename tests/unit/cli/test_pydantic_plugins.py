"""pydantic's search for plugins, answered without it only when no distribution can declare one
(``runner.cli._pydantic_plugins``); in any doubt pydantic searches as it always did."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pydantic.plugin import _loader

from runner.cli._pydantic_plugins import may_have_plugins, note_none_installed


def _dist(root: Path, name: str, entry_points: str | None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.split('-')[0]}\nVersion: 1.0\n")
    if entry_points is not None:
        (folder / "entry_points.txt").write_text(entry_points)


def test_distributions_without_a_pydantic_entry_point_hold_no_plugin(tmp_path: Path) -> None:
    _dist(tmp_path, "tool-1.0.dist-info", "[console_scripts]\ntool = tool:main\n")
    _dist(tmp_path, "plain-2.0.dist-info", None)
    _dist(tmp_path, "old-1.0.egg-info", "[console_scripts]\nold = old:main\n")
    (tmp_path / "single-1.0.egg-info").write_text("Name: single\n")  # an egg-info file: no entry points
    assert may_have_plugins([str(tmp_path), str(tmp_path / "not-there")]) is False


@pytest.mark.parametrize("folder", ["logfire-1.0.dist-info", "Logfire-1.0.EGG-INFO"])
def test_a_pydantic_entry_point_may_be_a_plugin(tmp_path: Path, folder: str) -> None:
    _dist(tmp_path, folder, "[pydantic]\nlogfire = logfire.integrations.pydantic:LogfirePydanticPlugin\n")
    assert may_have_plugins([str(tmp_path)]) is True


def test_what_it_cannot_read_as_importlib_metadata_does_is_left_to_pydantic(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("x-1.0.dist-info/entry_points.txt", "[pydantic]\nx = x:P\n")
    assert may_have_plugins([str(archive)]) is True  # a zip on the path: importlib.metadata reads it
    assert may_have_plugins([str(tmp_path / "lib.egg")]) is True  # an egg's own metadata
    _dist(tmp_path / "bad", "x-1.0.dist-info", None)
    (tmp_path / "bad" / "x-1.0.dist-info" / "entry_points.txt").write_bytes(b"\xff\xfe[pydantic]\n")
    assert may_have_plugins([str(tmp_path / "bad")]) is True  # not UTF-8: pydantic's own read says what


def test_no_plugin_is_recorded_as_pydantics_own_search_finds_none_here(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_loader, "_plugins", None)
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    assert list(_loader.get_plugins()) == []  # pydantic's search on this machine: none installed
    assert may_have_plugins(sys.path) is False  # and the lighter read agrees
    monkeypatch.setattr(_loader, "_plugins", None)
    assert note_none_installed() is True and _loader._plugins == {}
    assert note_none_installed() is False  # searched already: left as it is


def test_a_possible_plugin_leaves_the_search_to_pydantic(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    _dist(tmp_path, "plug-1.0.dist-info", "[pydantic]\nplug = plug:Plugin\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    monkeypatch.setattr(_loader, "_plugins", None)
    assert note_none_installed() is False and _loader._plugins is None


METADATA_ON_FIRST_USE = """
import json, sys
from runner.cli._pydantic_plugins import note_none_installed
recorded = note_none_installed()
held = "email" in sys.modules or "importlib.metadata._adapters" in sys.modules  # its imports: not yet run
from pydantic.plugin import _loader
standing = sys.modules["importlib.metadata"]
import importlib.metadata
from importlib.metadata import version  # its first use: now it runs, the same module object
same = sys.modules["importlib.metadata"] is standing is importlib.metadata is _loader.importlib_metadata
print(json.dumps([recorded, held, same, type(standing).__name__, bool(version("pydantic")),
                  len(list(importlib.metadata.distributions())) > 0]))
"""


def test_importlib_metadata_runs_when_first_used_and_is_then_the_module_as_imported() -> None:
    """With no plugin recorded pydantic never reads ``importlib.metadata``: its code (``email``, ...) runs
    when someone first reads a name of it, in the module object every importer holds."""
    result = subprocess.run([sys.executable, "-c", METADATA_ON_FIRST_USE], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [True, False, True, "module", True, True]


THREADS_AT_FIRST_USE = """
import json, threading
from runner.cli._pydantic_plugins import note_none_installed
recorded = note_none_installed()
import importlib.metadata
start = threading.Barrier(8)
found = []
def first_use():
    start.wait()
    try:
        found.append(importlib.metadata.version("pydantic") is not None)
    except Exception as exc:  # a name read while another thread runs the module's code
        found.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps([recorded, found]))
"""


def test_threads_that_first_use_it_together_each_get_the_whole_module() -> None:
    """Eight threads reading a name at once: one runs the module's code, the others wait for it (as for
    an import), none sees it half made."""
    result = subprocess.run([sys.executable, "-c", THREADS_AT_FIRST_USE], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [True, [True] * 8]
