"""Shared CLI state and output helpers (tables, JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class CliState:
    workspace: str | None = None
    debug: bool = False
    quiet: bool = False


STATE = CliState()
_console: Console | None = None


def console() -> Console:
    """The shared rich console, created on first use (rich is not imported at CLI start-up)."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console()
    return _console


def print_json(data: Any) -> None:
    """Print ``data`` as JSON (the ``-o json`` format)."""
    print(json.dumps(data, indent=2, default=str, sort_keys=False))


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a readable table (the default output of read commands)."""
    from rich.table import Table

    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)
