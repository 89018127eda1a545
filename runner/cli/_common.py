"""Shared CLI state and output helpers: the ``-o`` formats, tables, JSON, YAML, the client."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from runner.errors import SpecError

if TYPE_CHECKING:
    from rich.console import Console

    from runner.client import MLClient


@dataclass
class CliState:
    workspace: str | None = None
    workspace_source: str = "--workspace"  # or RUNNER_WORKSPACE: where the workspace was named
    debug: bool = False
    quiet: bool = False


STATE = CliState()
_console: Console | None = None


# a table printed to a pipe or a file (a CI log) is as wide as its widest row: never cut to 80 columns
UNBOUNDED_WIDTH = 100_000


def console() -> Console:
    """The shared rich console, created on first use (rich is not imported at CLI start-up). Not on a
    terminal (and without COLUMNS) nothing is truncated or wrapped; with ``NO_COLOR`` (set and not empty,
    https://no-color.org) no style at all is printed, bold included (rich alone drops only colours)."""
    global _console
    if _console is None:
        import os

        from rich.console import Console  # rich is not imported at CLI start-up

        piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
        plain = bool(os.environ.get("NO_COLOR"))
        _console = Console(width=UNBOUNDED_WIDTH if piped else None, no_color=plain or None,
                           color_system=None if plain else "auto")
    return _console


def print_json(data: Any) -> None:
    """Print ``data`` as JSON (the ``-o json`` format)."""
    print(json.dumps(data, indent=2, default=str, sort_keys=False))


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a readable table (the default output of read commands)."""
    from rich.table import Table  # rich is not imported at CLI start-up

    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


OUTPUT = typer.Option(OutputFormat.table, "--output", "-o", help="Output format.")


def client(registry_name: str | None = None) -> MLClient:
    """The Python client for this workspace (imported here: ``runner --help`` stays cheap)."""
    from runner.client import MLClient  # the client's imports (pydantic, fsspec): not at CLI start-up

    return MLClient(workspace_dir=STATE.workspace, registry_name=registry_name)


REGISTRY = typer.Option(None, "--registry-name", help="A registry (a local namespace of models).")


def emit(data: dict[str, Any] | list[dict[str, Any]], output: OutputFormat, columns: list[str]) -> None:
    """Print ``data`` as JSON, YAML, or a readable table of ``columns``."""
    if output is OutputFormat.json:
        print_json(data)
    elif output is OutputFormat.yaml:
        from ruamel.yaml import YAML  # only -o yaml needs it

        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        yaml.dump(data, sys.stdout)
    elif isinstance(data, list):
        print_table([c.replace("_", " ").title() for c in columns],
                            [[_cell(row.get(c)) for c in columns] for row in data])
    else:  # one entity: "field: value" lines, never truncated
        width = max((len(k) for k in data), default=0)
        for key, value in data.items():
            typer.echo(f"{key + ':':<{width + 1}} {_cell(value)}")


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else str(value)


def check_output(output: str, allowed: tuple[str, ...] = ("table", "json")) -> None:
    """Refuse an ``-o`` value the command does not print (one clear error, not a silent table)."""
    if output not in allowed:
        raise SpecError(f"unknown output format '{output}'", field="--output",
                        hint=f"use -o {' or -o '.join(allowed)}")
