"""The CLI reference page, generated from the click group (``runner.cli.main:app``) at every docs build.

It walks the command tree as ``--help`` does (``list_commands``, ``get_command``, ``get_params``,
``get_help_record``, ``collect_usage_pieces``): each group's module is imported as the walk reaches it.
Anchors are ``#runner-job-create``: a guide's link to a command that is renamed or removed breaks the
strict build.
"""

from __future__ import annotations

import html
import importlib
import inspect
import re
from typing import Any

APP = "runner.cli.main:app"  # module:attribute of the root click command
PROG = "runner"  # the program name shown in usage lines
TITLE = "CLI reference"

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def load_command(app: str = APP) -> Any:
    module_name, _, attr = app.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _text(value: str) -> str:
    """Help text as literal Markdown: no HTML, no emphasis, safe in a table cell; `code` in it (an even
    number of backticks) stays code, as the terminal's help shows it between backticks."""
    def escaped(part: str) -> str:
        return _MD_SPECIAL.sub(r"\\\1", html.escape(part, quote=False))

    parts = value.replace("\n", " ").split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: all of it is text
        return escaped(value.replace("\n", " "))
    return "`".join(part if index % 2 else escaped(part) for index, part in enumerate(parts))


def _paragraphs(value: str) -> str:
    value = inspect.cleandoc(value).replace("\b\n", "")  # click's \b marks a no-rewrap paragraph
    return "\n\n".join(_text(p.strip()) for p in re.split(r"\n\s*\n", value) if p.strip())


def anchor(path: list[str]) -> str:
    return "-".join(path)


def _code(value: str) -> str:
    """A code span that may itself contain backticks."""
    return f"`` {value} ``" if "`" in value else f"`{value}`"


def _subcommands(cmd: Any, ctx: Any) -> list[tuple[str, Any]]:
    found = []
    if hasattr(cmd, "list_commands"):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                found.append((name, sub))
    return found


def _params_markdown(cmd: Any, ctx: Any) -> list[str]:
    rows: dict[str, list[str]] = {"argument": [], "option": []}
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:  # hidden
            continue
        kind = "argument" if param.param_type_name == "argument" else "option"
        rows[kind].append(f"| {_code(record[0])} | {_text(record[1])} |")
    return [f"| {title} | Description |\n| --- | --- |\n" + "\n".join(rows[kind]) + "\n"
            for kind, title in (("argument", "Argument"), ("option", "Option")) if rows[kind]]


def _command_markdown(cmd: Any, ctx: Any, path: list[str], out: list[str]) -> None:
    if getattr(cmd, "hidden", False):
        return
    out.append(f"## {' '.join(path)} {{ #{anchor(path)} }}\n")
    if getattr(cmd, "deprecated", False):
        out.append("**Deprecated.**\n")
    if cmd.help:
        out.append(_paragraphs(cmd.help) + "\n")
    usage = " ".join([ctx.command_path, *cmd.collect_usage_pieces(ctx)])
    out.append(f"```text\nUsage: {usage}\n```\n")
    out.extend(_params_markdown(cmd, ctx))
    subcommands = _subcommands(cmd, ctx)
    if subcommands:
        out.append("| Command | Description |\n| --- | --- |\n" + "\n".join(
            f"| [{name}](#{anchor([*path, name])}) | {_text(sub.get_short_help_str(limit=200))} |"
            for name, sub in subcommands) + "\n")
    for name, sub in subcommands:
        with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
            _command_markdown(sub, sub_ctx, [*path, name], out)


def commands(app: str = APP, prog: str = PROG) -> list[str]:
    """Every command path (``runner job create``), for tests."""
    found: list[str] = []

    def walk(cmd: Any, ctx: Any, path: list[str]) -> None:
        found.append(" ".join(path))
        for name, sub in _subcommands(cmd, ctx):
            with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
                walk(sub, sub_ctx, [*path, name])

    root = load_command(app)
    with root.make_context(prog, [], resilient_parsing=True) as ctx:
        walk(root, ctx, [prog])
    return found


def cli_reference_markdown(app: str = APP, prog: str = PROG) -> str:
    """The whole page."""
    root = load_command(app)
    out = [f"# {TITLE}\n",
           f"<!-- generated at build time from {app} by scripts/docs_cli.py: edit the code, not this -->\n",
           "Every command, option and default as `--help` shows them, generated from the code at each "
           "build. Global options (`--workspace`, `--debug`, `--quiet`) go before the command group: "
           "`runner --workspace DIR job list`.\n"]
    with root.make_context(prog, [], resilient_parsing=True) as ctx:
        _command_markdown(root, ctx, [prog], out)
    return "\n".join(out)
