"""Shared CLI state and output helpers: the ``-o`` formats, tables, JSON, YAML, the client."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import click

from runner.errors import SpecError
from runner.terminal_text import safe_field_text

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
    """Print a readable table (the default output of read commands); no line ends in spaces (the
    padding of a short last cell)."""
    from rich.table import Table  # rich is not imported at CLI start-up
    from rich.text import Text

    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    out = console()
    lines = []
    for line in out.render_lines(table, out.options, pad=False):
        text = Text.assemble(*((part.text, part.style or "") for part in line if not part.control))
        text.rstrip()
        lines.append(text)
    out.print(Text("\n").join(lines), soft_wrap=True)  # one write: a reader gets the table whole


def print_fields(rows: Iterable[tuple[str, Any]]) -> None:
    """One record as ``field  value`` rows (``job show``), each as wide as its own value: a multi-line
    value's further lines (on a terminal, a long line's wrapped rest too) are indented under its first,
    in the value column, and never widen the other rows."""
    import textwrap

    from rich.text import Text  # rich is not imported at CLI start-up

    shown = [(str(key), _text(value)) for key, value in rows]
    width = max([len("field"), *(len(key) for key, _ in shown)])
    indent = " " * (width + 3)
    out = console()
    room = max(out.width - len(indent), 20)
    out.print(Text(f" {'field':<{width}}  value", style="bold"), soft_wrap=True)
    for key, value in shown:
        lines = [part for line in value.splitlines() or [""]
                 for part in (textwrap.wrap(line, room, break_on_hyphens=False) if len(line) > room
                              else [line.rstrip()])]
        out.print(Text((f" {key:<{width}}  " + f"\n{indent}".join(lines)).rstrip()), soft_wrap=True)


# the runner's own time fields, the only text rewritten: a record's (or each listed record's) own keys,
# its creation_context's, and every value of its extra.status_times. Nothing else (tags, properties,
# descriptions, literal inputs, the spec) is touched, whatever its keys are named or its text looks like.
RECORD_TIME_FIELDS = ("created_at", "last_modified_at", "started_at", "ended_at")
CREATION_TIME_FIELDS = ("created_at", "last_modified_at")


def iso_z(value: datetime) -> str:
    """A time as every output shows it: ISO 8601 in UTC, ``Z`` for the offset (as the records' JSON
    has ``created_at``); a naive time is UTC (runner writes none other)."""
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat().removesuffix("+00:00") + "Z"


def with_z_times(data: Any) -> Any:
    """``data`` (what a command prints) with every time in the one ``iso_z`` form: ``datetime`` values
    anywhere, and the runner's own time fields stored as UTC text (``RECORD_TIME_FIELDS`` of a record or
    of each record of a list, ``creation_context``'s, ``extra.status_times``'s values)."""
    data = _datetimes_z(data)
    return [_record_z(item) for item in data] if isinstance(data, list) else _record_z(data)


def _datetimes_z(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _datetimes_z(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_datetimes_z(value) for value in data]
    return iso_z(data) if isinstance(data, datetime) else data


def _record_z(record: Any) -> Any:
    """One record's time fields stored as older runners' ``+00:00`` UTC text in the ``Z`` form, by the
    rule the Python API reads them with (``runner.workspace.job_records``: ``z_status_times``, ``z_text``)."""
    if not isinstance(record, dict):
        return record
    from runner.workspace import job_records  # pydantic: loaded by then (the data came from a record)

    out = _fields_z(record, RECORD_TIME_FIELDS, job_records.z_text)
    if isinstance(out.get("creation_context"), dict):
        out["creation_context"] = _fields_z(out["creation_context"], CREATION_TIME_FIELDS, job_records.z_text)
    if isinstance(out.get("extra"), dict):
        out["extra"] = job_records.z_status_times(out["extra"])
    return out


def _fields_z(data: dict[str, Any], keys: Sequence[str], z_text: Callable[[Any], Any]) -> dict[str, Any]:
    return {key: z_text(value) if key in keys else value for key, value in data.items()}


def _text(value: Any) -> str:
    """A table cell's text (a ``datetime`` in the ``iso_z`` form; text as it is, but a control character
    a job may have put there, an escape sequence's ESC, shown as ``\\x1b``: ``safe_field_text``)."""
    if value is None:
        return ""
    return iso_z(value) if isinstance(value, datetime) else safe_field_text(str(_datetimes_z(value)))


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    tsv = "tsv"


OUTPUT_HELP = ("Output format: table, json, yaml or tsv (tab-separated values, one entity a line, a "
               "newline or tab in a value escaped: for scripts, as az's -o tsv).")
QUERY_EXAMPLE = "[?status=='Failed'].name"  # a job's: each group gives one that fits its entities


def query_help(example: str = QUERY_EXAMPLE) -> str:
    """``--query``'s help, with an ``example`` that fits the command's entities."""
    return (f"JMESPath query applied to what -o json prints (as az's --query), its result printed in the -o "
            f"format: --query \"{example}\" -o tsv. See https://jmespath.org.")


QUERY_HELP = query_help()


def output_option(default: str = "table") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``-o/--output`` option every command that prints data takes (the same formats everywhere);
    the command gets the format's name (``emit`` takes it as it is)."""
    return click.option("--output", "-o", type=click.Choice([f.value for f in OutputFormat]),
                        default=default, help=OUTPUT_HELP)


def query_option_for(example: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--query`` option, its help's example one that fits the command's entities
    (``"[?version=='2'].name"`` for models)."""
    return click.option("--query", default=None, metavar="JMESPATH", help=query_help(example))


query_option = query_option_for(QUERY_EXAMPLE)  # a job's example
# the values ``job create --backend`` takes, as its help lists them: ``runner.backends.BACKENDS`` (not
# imported at start-up; a unit test holds them equal). Another is runner's own error, not click's.
BACKEND_NAMES = ("docker", "process")
# every command's help: -h as --help (as az), as wide as the terminal up to this many columns
HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 120}


def client(registry_name: str | None = None) -> MLClient:
    """The Python client for this workspace (imported here: ``runner --help`` stays cheap)."""
    from runner.client import MLClient  # the client's imports (pydantic, fsspec): not at CLI start-up

    return MLClient(workspace_dir=STATE.workspace, registry_name=registry_name)


registry_option = click.option("--registry-name", "registry_name", default=None,
                               help="A registry (a local namespace of models).")


def emit(data: Any, output: OutputFormat | str, columns: list[str], query: str | None = None) -> None:
    """Print ``data`` (what ``-o json`` prints) as JSON, YAML, tab-separated values, or a readable table
    of ``columns``; ``query`` (``--query``) first selects from it, and a table of its result has the
    result's own columns (as ``az -o table --query`` shows it)."""
    output = OutputFormat(output)
    data = with_z_times(data)  # the one place every printed time gets its form
    if query is not None:
        data = apply_query(data, query)
    if output is OutputFormat.json:
        print_json(data)
    elif output is OutputFormat.yaml:
        from ruamel.yaml import YAML  # only -o yaml needs it

        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        yaml.dump(data, sys.stdout)
    elif output is OutputFormat.tsv:
        for line in tsv_lines(data):
            click.echo(line)
    elif query is not None:
        _result_table(data)
    elif isinstance(data, list):
        print_table([c.replace("_", " ").title() for c in columns],
                    [[_cell(row.get(c)) for c in columns] for row in data])
    else:  # one entity: "field: value" lines, never truncated; a value's further lines under its first
        width = max((len(k) for k in data), default=0)
        for key, value in data.items():
            text = f"{key + ':':<{width + 1}} " + _cell(value).replace("\n", "\n" + " " * (width + 2))
            click.echo("\n".join(line.rstrip() for line in text.split("\n")))  # no line ends in spaces


def apply_query(data: Any, query: str) -> Any:
    """The result of the JMESPath ``query`` on ``data``; one ``SpecError`` (exit 2) naming it when it is
    not valid JMESPath or cannot apply (a function given the wrong type)."""
    import jmespath  # only --query needs it
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.search(query, data)
    except JMESPathError as exc:
        reason = " ".join(str(exc).split())
        raise SpecError(f"invalid JMESPath expression \"{query}\": {reason}", field="--query",
                        hint="fix the expression (https://jmespath.org), for example --query \"[].name\" "
                             "or --query \"[?status=='Failed'].{name: name, error: error}\"; -o json "
                             "without --query shows the fields there are") from exc


def tsv_lines(data: Any) -> list[str]:
    """``-o tsv`` as az prints it: a list is one line per item, anything else one line; a line is an
    object's values (in ``-o json``'s order) or a list's items, tab-separated; in a line, a nested object
    is empty and a nested list its length; null is empty."""
    if data is None:
        return []
    return [_tsv_row(item) for item in (data if isinstance(data, list) else [data])]


def _tsv_row(item: Any) -> str:
    if isinstance(item, dict):
        return "\t".join(_tsv_value(v) for v in item.values())
    if isinstance(item, list):
        return "\t".join(_tsv_value(v) for v in item)
    return _tsv_value(item)


# a tsv field's characters that would split its line or its row (and the escape character itself)
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"})


def _tsv_value(value: Any) -> str:
    """One tsv field: a backslash, newline, tab and carriage return escaped (``\\``, ``\n``, ``\t``,
    ``\r``: one entity a line, one value a column), every other control character shown as its escape
    (``safe_field_text``)."""
    if isinstance(value, dict) or value is None:
        return ""
    if isinstance(value, list):
        return str(len(value))
    return safe_field_text(str(value).translate(_TSV_ESCAPES))


def _result_table(data: Any) -> None:
    """A ``--query`` result as a table, as az's: objects give their (non-nested) keys as columns, lists
    ``Column1``, ``Column2``..., other values one ``Result`` column; nothing for null."""
    if data is None:
        return
    items = [{f"Column{i}": v for i, v in enumerate(item, 1)} if isinstance(item, list) else item
             for item in (data if isinstance(data, list) else [data])]  # [].[a, b]: Column1, Column2
    if items and all(isinstance(item, dict) for item in items):
        columns = list(dict.fromkeys(k for item in items for k, v in item.items()
                                     if not isinstance(v, (dict, list))))
        print_table(columns, [[_table_value(item.get(c)) for c in columns] for item in items])
    else:
        print_table(["Result"], [[_table_value(item)] for item in items])


def _table_value(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _cell(value: Any) -> str:
    """A value as a table or a ``field: value`` line shows it, terminal-safe (``safe_field_text``)."""
    if isinstance(value, dict):
        return safe_field_text(", ".join(f"{k}={v}" for k, v in value.items()))
    return "" if value is None else safe_field_text(str(value))
