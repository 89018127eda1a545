"""A cold command builds the click tree of the group its command line names, not every group's (~20 ms
of typer's work at each start); whatever else it is given gets the whole tree, as the fork server's
commands do (``runner.cli.main.click_command``)."""

from __future__ import annotations

import pytest

import runner.cli.main as cli_main
from runner.cli.main import named_group

EVERY_GROUP = {"job", "model", "data", "datastore", "environment", "cache", "compute", "component"}


@pytest.mark.parametrize(("args", "group"), [
    (["job", "validate", "--file", "j.yml"], "job"),
    (["-w", "ws", "--debug", "-q", "model", "list"], "model"),
    (["--workspace", "job", "data", "list"], "data"),  # the value of --workspace is no command
    (["--workspace=ws", "--quiet", "datastore", "show"], "datastore"),
    (["-w", "--debug", "cache", "show"], "cache"),  # click takes the next word as -w's value
])
def test_the_group_a_command_line_names(args: list[str], group: str) -> None:
    assert named_group(args) == group


@pytest.mark.parametrize("args", [
    [], ["--help"], ["--version"], ["jb", "validate"], ["ui"], ["--", "job"], ["-wws", "job", "list"],
    ["-qw", "ws", "job", "list"], ["--no-such-option", "job"], ["-w"], ["--help", "job"],
])
def test_anything_else_names_none(args: list[str]) -> None:
    assert named_group(args) is None


def _tree(monkeypatch: pytest.MonkeyPatch, *args: str) -> set[str]:
    monkeypatch.setattr(cli_main, "_TREES", {})
    monkeypatch.setattr("sys.argv", ["runner", *args])
    return set(cli_main.click_command().commands)  # type: ignore[attr-defined]


def test_a_command_line_naming_a_group_gets_that_group_and_the_roots_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert {info.name for info in cli_main.app.registered_groups} == EVERY_GROUP
    assert _tree(monkeypatch, "-w", "ws", "job", "validate", "--file", "j.yml") == {"job", "ui"}


def test_the_roots_help_and_a_mistyped_name_get_every_group(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _tree(monkeypatch, "--help") == EVERY_GROUP | {"ui"}
    assert _tree(monkeypatch, "jb", "validate") == EVERY_GROUP | {"ui"}  # "did you mean 'job'?" needs all


def test_once_the_whole_tree_is_built_every_command_line_gets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fork server builds it in its warm-up; the commands it forks run in it whatever they name."""
    monkeypatch.setattr(cli_main, "_TREES", {})
    monkeypatch.setattr("sys.argv", ["runner", "--help"])
    whole = cli_main.click_command()
    monkeypatch.setattr("sys.argv", ["runner", "job", "list"])
    assert cli_main.click_command() is whole


def test_the_scan_knows_the_roots_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """``named_group`` skips the root's own options: its lists are the root's (an option it did not know
    would only cost the whole tree; one it knew wrongly could name the wrong word as the group)."""
    monkeypatch.setattr(cli_main, "_TREES", {})
    monkeypatch.setattr("sys.argv", ["runner", "--help"])
    params = cli_main.click_command().params  # type: ignore[attr-defined]
    flags = {opt for p in params if p.is_flag for opt in p.opts}
    with_value = {opt for p in params if not p.is_flag for opt in p.opts}
    assert flags == set(cli_main._ROOT_FLAGS) and with_value == set(cli_main._ROOT_OPTIONS_WITH_VALUE)


def _group_commands(monkeypatch: pytest.MonkeyPatch, *args: str) -> set[str]:
    monkeypatch.setattr(cli_main, "_TREES", {})
    monkeypatch.setattr("sys.argv", ["runner", *args])
    return set(cli_main.click_command().commands[args[args.index("job")]].commands)  # type: ignore[attr-defined]


def test_a_command_line_naming_a_command_of_the_group_gets_that_command_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _group_commands(monkeypatch, "-w", "ws", "job", "validate", "--file", "j.yml") == {"validate"}
    assert _group_commands(monkeypatch, "job", "create", "--help") == {"create"}


@pytest.mark.parametrize("args", [["job"], ["job", "--help"], ["job", "valdate", "-f", "j.yml"],
                                  ["job", "-f", "validate"]])
def test_the_groups_help_and_a_mistyped_command_get_every_command_of_it(
        monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    every = {info.name for group in cli_main.app.registered_groups if group.name == "job"
             for info in group.typer_instance.registered_commands}  # type: ignore[union-attr]
    assert {"validate", "create", "list"} <= every
    assert _group_commands(monkeypatch, *args) == every  # "No such command ... did you mean" needs them all


@pytest.mark.parametrize(("args", "command"), [
    (["job", "validate", "-f", "j.yml"], "validate"), (["-q", "-w", "ws", "model", "list"], "list"),
    (["job"], None), (["job", "--help"], None), (["job", "nosuch"], None), (["--help", "job", "list"], None),
])
def test_the_command_a_command_line_names(args: list[str], command: str | None) -> None:
    assert cli_main.named_command(args, named_group(args)) == command
