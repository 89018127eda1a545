"""MkDocs hooks (``hooks:`` in mkdocs.yml): what the site generates from the code at every build, so the
pages cannot drift from it.

* ``reference/cli.md``: the whole page, from the click group (``scripts/docs_cli.py``), in place of the
  placeholder kept in docs/ (which links read on GitHub reach);
* ``<!-- generated: NAME -->`` on a line of its own in any page is replaced by:
  ``modes-matrix`` (the supported-modes matrix, ``runner.modes.MATRIX``, via ``scripts/gen_matrix.py``),
  ``yaml-<table>`` (a YAML reference table, ``scripts/docs_yaml.py``), ``python-api`` (one
  mkdocstrings entry per public name in ``runner.__all__``); an unknown NAME fails the build;
* the doc-test markers (``<!-- norun: ... -->``, ``<!-- needs: ... -->``, ``<!-- setup:... -->``, see
  ``tests/docs_examples.py``) are removed from the page source.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

SCRIPTS = Path(__file__).resolve().parent


def _import_path() -> None:
    """This checkout's code first (also where `pip install -e` points at another checkout, or nowhere),
    and the generators beside this file: MkDocs restores sys.path after loading a hook."""
    for folder in (str(SCRIPTS), str(SCRIPTS.parent)):
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)


_import_path()

import docs_cli  # noqa: E402
import docs_yaml  # noqa: E402
import docs_yaml_fields  # noqa: E402
import gen_matrix  # noqa: E402

CLI_PAGE = "reference/cli.md"
_GENERATED = re.compile(r"^<!--\s*generated:\s*(?P<name>[\w-]+)\s*-->[ \t]*$", re.M)
_MARKER = re.compile(r"^[ \t]*<!--\s*(norun|needs|setup:\w+)\b.*?-->[ \t]*\n", re.S | re.M)


def on_config(config: Any) -> Any:
    _import_path()
    return config


def on_pre_build(config: Any) -> None:
    # `mkdocs serve` rebuilds in this process: forget the code so an edited command or field shows up
    for name in [m for m in sys.modules if m.split(".")[0] in ("runner", "mounts")]:
        del sys.modules[name]
    for module in (docs_cli, docs_yaml_fields, docs_yaml, gen_matrix):
        importlib.reload(module)


def on_files(files: Files, config: Any) -> Files:
    kept = files.get_file_from_path(CLI_PAGE)  # the placeholder in docs/ that links read on GitHub reach
    if kept is not None:
        files.remove(kept)
    files.append(File.generated(config, CLI_PAGE, content=docs_cli.cli_reference_markdown()))
    return files


def python_api_markdown() -> str:
    """One mkdocstrings entry per public name of ``runner`` (its ``__all__``), in that order."""
    import runner

    return "\n\n".join(f"::: runner.{name}" for name in runner.__all__ if not name.startswith("_"))


def generated(name: str) -> str:
    if name == "modes-matrix":
        return gen_matrix.matrix_text()
    if name == "python-api":
        return python_api_markdown()
    if name.startswith("yaml-"):
        try:
            return docs_yaml.table(name.removeprefix("yaml-"))
        except docs_yaml.DocsError as err:
            raise PluginError(str(err)) from err
    raise PluginError(f"unknown generated section '{name}' (<!-- generated: {name} -->)")


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    markdown = _GENERATED.sub(lambda m: generated(m["name"]), markdown)
    return _MARKER.sub("", markdown)
