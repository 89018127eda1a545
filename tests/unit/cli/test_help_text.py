"""Help texts render as written: a help string that names ``runner[ui]`` shows it so in ``--help`` (click
prints it as written: an escaped
``runner\\[ui]`` would show the backslash)."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest
from click.testing import CliRunner

from runner.cli.main import app, click_command

BRACKETED = re.compile(r"[\w-]+\[[\w,.-]+\]")  # runner[ui], foo[a,b]


def _children(command: Any) -> list[tuple[str, Any]]:
    """A group's commands (the root's groups imported as they are asked for), by name."""
    if not isinstance(command, click.Group):
        return []
    with click.Context(command) as ctx:
        return [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)]


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the tree, with its argv path."""
    found = [(path, command)]
    for name, sub in _children(command):
        found += _commands(sub, (*path, name))
    return found


def _written(command: Any) -> str:
    """The help text as written: the command's, its subcommands' one-liners and its options'."""
    texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
    texts += [sub.help or "" for _, sub in _children(command)]
    return "\n".join(texts).replace("\\[", "[")


# (command path, the bracketed words its help names as written)
WITH_BRACKETS = [(path, tokens) for path, command in _commands(click_command())
                 if (tokens := BRACKETED.findall(_written(command)))]


def test_the_check_below_has_help_texts_to_check() -> None:
    assert ("ui",) in [path for path, _ in WITH_BRACKETS]  # "needs runner[ui]"


@pytest.mark.parametrize(("path", "tokens"), [pytest.param(path, tokens, id=" ".join(path) or "runner")
                                              for path, tokens in WITH_BRACKETS])
def test_bracketed_words_in_help_survive_rendering(path: tuple[str, ...], tokens: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "300"}, prog_name="runner")
    assert result.exit_code == 0, result.output
    missing = [token for token in tokens if token not in result.output]
    assert not missing, f"`{' '.join(('runner', *path))} --help` drops {missing}: escape '[' as '\\\\['"
