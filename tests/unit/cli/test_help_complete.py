"""Every command's help is whole: each command and option has help text, each group lists its commands'
one-line summaries uncut on an 80-column terminal, file and folder options read PATH, ``-h`` is
``--help`` everywhere, the help takes a wider terminal (up to 120 columns), and ``--query``'s example
fits each group's entities."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner

from runner.backends import BACKENDS
from runner.cli import _common
from runner.cli.main import app, click_command

# options whose value is a file or a folder on this machine (or, for --path, a URI as well)
PATH_OPTIONS = ("--file", "--download-path", "--path", "--workspace", "--conda-file", "--build-context",
                "--dockerfile", "--sources")


def _tree(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the tree with its argv path, every group imported (as the root's ``--help`` is)."""
    found = [(path, command)]
    if isinstance(command, click.Group):
        with click.Context(command) as ctx:
            for name in command.list_commands(ctx):
                found += _tree(command.get_command(ctx, name), (*path, name))
    return found


TREE = _tree(click_command())
EVERY_COMMAND = [pytest.param(path, command, id=" ".join(path) or "runner") for path, command in TREE]


def _help(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(app, [*args], env={"COLUMNS": str(columns)}, prog_name="runner")
    assert result.exit_code == 0, result.output
    return result.output


def test_the_walk_reaches_every_group_and_command() -> None:
    paths = [path for path, _ in TREE]
    assert ("job", "create") in paths and ("component", "show") in paths and ("ui",) in paths
    assert len(paths) > 40


@pytest.mark.parametrize(("path", "command"), EVERY_COMMAND)
def test_every_command_and_option_has_help(path: tuple[str, ...], command: Any) -> None:
    assert (command.help or "").strip(), f"`runner {' '.join(path)}` has no help text"
    bare = [param.opts for param in command.params
            if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()]
    assert not bare, f"`runner {' '.join(path)}`: options without help: {bare}"


@pytest.mark.parametrize("path", [pytest.param(p, id=" ".join(p) or "runner")
                                  for p, c in TREE if isinstance(c, click.Group)])
def test_a_groups_command_list_shows_each_summary_whole_at_80_columns(path: tuple[str, ...]) -> None:
    listed = _help(*path, "--help").split("Commands:\n", 1)[1]
    assert "..." not in listed, listed
    group = dict(TREE)[path]
    with click.Context(group) as ctx:
        for name in group.list_commands(ctx):
            summary = group.get_command(ctx, name).get_short_help_str(limit=10_000)
            assert summary.endswith((".", ")")), (name, summary)  # a whole sentence
            assert " ".join(summary.split()) in " ".join(listed.split()), (name, summary)


def _terminal_help(columns: int, *args: str) -> list[str]:
    """The help as a terminal of ``columns`` columns shows it (click's test runner fixes 80 columns)."""
    env = {**os.environ, "COLUMNS": str(columns), "RUNNER_FORKSERVER": "0"}
    done = subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_help_takes_the_terminals_width_up_to_120_columns() -> None:
    wide = max(len(line) for line in _terminal_help(200, "job", "create", "--help"))
    assert 100 < wide <= 120
    assert max(len(line) for line in _terminal_help(90, "job", "create", "--help")) <= 90


@pytest.mark.parametrize(("path", "command"), EVERY_COMMAND)
def test_h_is_help_everywhere(path: tuple[str, ...], command: Any) -> None:
    assert _help(*path, "-h") == _help(*path, "--help")


def test_no_command_has_an_h_of_its_own() -> None:
    for path, command in TREE:
        for param in command.params:
            assert "-h" not in (*param.opts, *param.secondary_opts), (path, param.name)


def test_file_and_folder_options_read_path_and_keep_their_values_types() -> None:
    seen = 0
    for path, command in TREE:
        with click.Context(command) as ctx:
            for param in command.params:
                if isinstance(param, click.Option) and set(param.opts) & set(PATH_OPTIONS):
                    seen += 1
                    assert param.make_metavar(ctx) == "PATH", (path, param.opts)
    assert seen >= 15
    model_create = dict(TREE)[("model", "create")]
    with model_create.make_context("create", ["--file", "m.yml", "--path", "./m"]) as ctx:
        assert ctx.params["file"] == "m.yml" and ctx.params["path"] == "./m"  # still str for callers


def test_backend_lists_the_backends_there_are() -> None:
    assert _common.BACKEND_NAMES == BACKENDS
    assert "--backend [docker|process]" in _help("job", "create", "--help", columns=120)


@pytest.mark.parametrize("group", ["model", "data"])
def test_update_lists_add_among_its_options(group: str) -> None:
    options = _help(group, "update", "--help", columns=120).split("Options:\n", 1)[1]
    assert "--add tags KEY=VALUE..." in options


@pytest.mark.parametrize(("group", "example"), [
    ("job list", "[?status=='Failed'].name"), ("model list", "[?version=='2'].name"),
    ("data list", "[?type=='uri_file'].name"), ("datastore list", "[?type=='azure_blob'].name"),
    ("compute list", "[?type=='ray'].address"), ("job validate", "{image: image, command: command}"),
])
def test_query_help_gives_an_example_that_fits_the_group(group: str, example: str) -> None:
    text = " ".join(_help(*group.split(), "--help", columns=120).split())
    assert f'--query "{example}"' in text
    if not group.startswith("job"):
        assert "status==" not in text
