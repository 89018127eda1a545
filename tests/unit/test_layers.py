"""The layout's rules, read from the source with ``ast``: imports point down the flow, there are no import
circles, ``mounts`` never imports ``runner``, and an import hidden inside a function says why.

    mounts < errors/modes/uris/constants < spec < workspace < plan < backends < jobs < pipelines
           < client/entities/builder/dsl < cli, ui < entry points (__main__, launch, forkserver)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from repo_paths import REPO

LAYERS: tuple[tuple[str, ...], ...] = (
    ("mounts",),
    ("runner.errors", "runner.exceptions", "runner.lazy_re"),
    ("runner.modes", "runner.uris", "runner.url_secrets", "runner.file_urls", "runner.reserved_protocols",
     "runner.fsspec_links", "runner.terminal_text"),
    ("runner.constants", "runner.poller"),
    ("runner.spec",),
    ("runner.workspace",),
    ("runner.plan",),
    ("runner.backends",),
    ("runner.jobs",),
    ("runner.pipelines",),
    ("runner.entities", "runner.builder", "runner.client", "runner.client_azure", "runner.dsl",
     "runner.dsl_nodes", "runner.components", "runner.inputs_outputs", "runner.loaders", "runner.sweep",
     "runner"),
    ("runner.cli", "runner.ui"),
    ("runner.__main__", "runner.launch", "runner.forkserver"),
)
# the runner modules that may touch mounts/ (storage copies, materialization, stale mounts, the cache CLI,
# deep folder trees, the held-log probe shared with the pin sweep)
MOUNTS_USERS = ("runner.workspace.transfers", "runner.jobs.materialize", "runner.jobs.local_artifacts",
                "runner.jobs.recovery", "runner.cli.cache", "runner.workspace.trees", "runner.jobs.log_lock",
                "runner.workspace.remote_open")  # mounts.stores.azure_urls' options_protocols only


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (resolved to a project module where it names one)
    line: int
    in_function: bool
    type_only: bool  # under ``if TYPE_CHECKING:``: never executed
    commented: bool  # the import (or the first import of its block) carries a comment


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    files = sorted((REPO / "runner").rglob("*.py")) + sorted((REPO / "mounts").rglob("*.py"))
    return {_module_name(p): p for p in files}


SOURCES = _sources()


def _project_target(name: str) -> str | None:
    """The project module ``name`` refers to (``runner.x.y`` for ``from runner.x import y`` when ``y`` is
    a module), or None for a third-party module."""
    if name.split(".")[0] not in ("runner", "mounts"):
        return None
    while name not in SOURCES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str, path: Path) -> Iterator[Import]:
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))

    def commented(lineno: int) -> bool:
        index = lineno - 1
        while index >= 0 and lines[index].lstrip().startswith(("import ", "from ")):
            if "#" in lines[index]:
                return True
            index -= 1
        return False

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            child_function = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            child_type_only = type_only or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(
                child.test))
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [f"{child.module}.{alias.name}" for alias in child.names]
            for name in names:
                target = _project_target(name)
                if target is not None and target != module:
                    yield Import(module, target, child.lineno, in_function, type_only,
                                 commented(child.lineno))
            yield from visit(child, child_function, child_type_only)

    yield from visit(tree, False, False)


IMPORTS = [imp for module, path in SOURCES.items() for imp in _imports(module, path)]


def layer_of(module: str) -> int:
    best, rank = -1, -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, rank = len(name), index
    assert rank >= 0, f"{module} is in no layer: add it to LAYERS"
    return rank


def test_every_module_has_a_layer() -> None:
    for module in SOURCES:
        layer_of(module)


def test_imports_point_down() -> None:
    """No import (at module level, in a function, or for type checking only) reaches a higher layer."""
    upward = [f"{i.module}:{i.line} imports {i.target}" for i in IMPORTS
              if layer_of(i.target) > layer_of(i.module)]
    assert upward == []


def test_mounts_never_imports_runner() -> None:
    assert [f"{i.module}:{i.line}" for i in IMPORTS
            if i.module.startswith("mounts") and i.target.startswith("runner")] == []


def test_only_named_modules_reach_into_mounts() -> None:
    users = {i.module for i in IMPORTS if i.target.startswith("mounts") and i.module.startswith("runner")}
    assert users <= set(MOUNTS_USERS), sorted(users - set(MOUNTS_USERS))


def test_no_import_circles() -> None:
    """Among the imports that run (type-only ones excluded), no module reaches itself again."""
    graph: dict[str, set[str]] = {}
    for i in IMPORTS:
        if not i.type_only:
            graph.setdefault(i.module, set()).add(i.target)
    # a package's own __init__ is imported by its modules: that edge is not a circle through them
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert cycles == []


def test_an_import_inside_a_function_says_why() -> None:
    """A project import kept inside a function is there for start-up cost, and says so; it is never a
    way around a circle."""
    silent = [f"{i.module}:{i.line} imports {i.target}" for i in IMPORTS
              if i.in_function and not i.type_only and not i.commented]
    assert silent == []


@pytest.mark.parametrize("module", sorted(m for m, p in SOURCES.items() if p.name == "__init__.py"))
def test_package_faces_stay_light(module: str) -> None:
    """A package's ``__init__`` imports nothing heavy at module level: importing one light module of
    the package (``runner.spec.names``) must not load the rest."""
    heavy = [i.target for i in IMPORTS if i.module == module and not i.in_function and not i.type_only
             and i.target not in ("runner.errors",)]
    assert heavy == []


def test_files_stay_small() -> None:
    big = {m: n for m, p in SOURCES.items() if (n := len(p.read_text().splitlines())) > 420}
    assert big == {}


def test_functions_stay_short() -> None:
    long = []
    for module, path in SOURCES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None \
                    and node.end_lineno - node.lineno >= 60:
                long.append(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == []
