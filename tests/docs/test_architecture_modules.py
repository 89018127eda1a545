"""docs/design/architecture.md names every module of ``runner/`` and ``mounts/`` (each ``.py`` file but a
package's ``__init__.py``), so a module added without a line there fails here: add it to the layout's list
of its package or a row of "Which module does what".

A module is named by its path anywhere on the page (``runner/jobs/run.py``), by its dotted name in code
(``runner.jobs.run``, also as the start of a longer name: ``runner.modes.MATRIX``), by its file name in a
table cell or a layout line after a path in the same folder (``runner/ui/jobs.py``, ``events.py``), or as
a word of its package's description in the layout block (``runner/jobs/  ...: submit, operations, run``).
"""

from __future__ import annotations

import re
from pathlib import Path

from repo_paths import REPO

PAGE = REPO / "docs" / "design" / "architecture.md"
PACKAGES = ("runner", "mounts")

PATH = re.compile(r"\b(?:runner|mounts)/(?:[A-Za-z_]\w*/)*(?:[A-Za-z_]\w*\.py|[A-Za-z_]\w*/)?")
DOTTED = re.compile(r"`((?:runner|mounts)(?:\.[A-Za-z_]\w*)+)")
FILE_NAME = re.compile(r"(?<![\w/.])([A-Za-z_]\w*\.py)\b")
WORD = re.compile(r"[A-Za-z_]\w*")
LAYOUT = re.compile(r"^## The layout$.*?^```text$(.*?)^```$", re.S | re.M)


def modules(root: Path) -> set[str]:
    """Every module below ``root``'s packages, as a path from ``root`` (``runner/jobs/run.py``)."""
    return {path.relative_to(root).as_posix() for package in PACKAGES
            for path in (root / package).rglob("*.py")
            if path.name != "__init__.py" and "__pycache__" not in path.parts}


def _folder(path: str) -> str:
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def _siblings(text: str) -> set[str]:
    """File names after a path in the same piece of text (one table cell, one layout line), in its folder."""
    named: set[str] = set()
    folder = None
    for match in re.finditer(f"{PATH.pattern}|{FILE_NAME.pattern}", text):
        if match.group(0).startswith(PACKAGES):
            folder = _folder(match.group(0))
        elif folder is not None:
            named.add(folder + match.group(0))
    return named


def _layout_words(block: str) -> set[str]:
    """The layout block: each line's file names beside its first path, and each word of a package's
    description (continuation lines included) as a module of that package (and of any other package the
    line names first, ``runner/cli/ ui/``)."""
    named: set[str] = set()
    folders: list[str] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            first = line.split()[0]
            folders = [_folder(first)] + [_folder(first).rsplit("/", 2)[0] + "/" + word
                                          for word in line.split()[1:] if re.fullmatch(r"\w+/", word)]
            named |= _siblings(line)
        words = WORD.findall(re.sub(rf"{PATH.pattern}|{FILE_NAME.pattern}|\b\w+/", " ", line))
        named |= {folder + word + ".py" for folder in folders for word in words}
    return named


def named_modules(page: str) -> set[str]:
    named = {match.group(0) for match in PATH.finditer(page) if match.group(0).endswith(".py")}
    for dotted in DOTTED.findall(page):
        parts = dotted.split(".")
        named |= {"/".join(parts[:end]) + ".py" for end in range(2, len(parts) + 1)}
    for line in page.splitlines():
        if line.startswith("|"):
            for cell in line.split("|"):
                named |= _siblings(cell)
    layout = LAYOUT.search(page)
    if layout:
        named |= _layout_words(layout.group(1))
    return named


def unnamed(root: Path, page: str) -> list[str]:
    return sorted(modules(root) - named_modules(page))


def test_the_architecture_page_names_every_module() -> None:
    missing = unnamed(REPO, PAGE.read_text(encoding="utf-8"))
    assert missing == [], (f"{PAGE.relative_to(REPO)} does not name {', '.join(missing)}: add each to its "
                           "package's list in 'The layout' or a row of 'Which module does what'")


def test_a_module_the_page_does_not_name_is_found(tmp_path: Path) -> None:
    for name in ("runner/jobs/run.py", "runner/jobs/new_one.py", "runner/ui/app.py", "runner/ui/jobs.py",
                 "runner/ui/events.py", "runner/modes.py", "runner/launch.py", "runner/cli/job.py",
                 "runner/cli/ui.py", "runner/backends/docker.py", "runner/ui/__init__.py",
                 "mounts/fuse/ro.py", "mounts/stores/azure.py", "runner/spec/load.py",
                 "runner/plan/types.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    page = ("# A\n\n## The layout\n\n```text\nrunner/__main__.py launch.py   entry points\n"
            "runner/cli/ ui/    one module per group (job, model); the web UI (runner ui)\n"
            "runner/jobs/   a job's lifecycle: submit,\n               run\n```\n\n"
            "The plan (`runner.plan.types.RunPlan`), loaded by `runner.spec.load`; `runner.modes.MATRIX`.\n\n"
            "| Module | What |\n|---|---|\n| `runner/ui/app.py`, `jobs.py` | pages; `events.py` elsewhere |\n"
            "| `mounts/fuse/` | the FUSE package; ro.py |\n"
            "| backends | docker.py, `mounts/stores/azure.py` |\n")
    assert unnamed(tmp_path, page) == ["mounts/fuse/ro.py", "runner/backends/docker.py",
                                       "runner/jobs/new_one.py", "runner/ui/events.py"]
