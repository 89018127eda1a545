"""The root's groups are imported when named (``runner.cli.main.LazyGroups``): a cold command imports the
module of the group its command line names and no other group's; the root's help and a mistyped name list
every group; each group is made runner's (az's arguments, the workspace guard, runner's usage errors) once,
as it is first imported."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from repo_paths import REPO

import runner.cli.main as cli_main
from runner.cli.main import named_group

EVERY_GROUP = {"job", "model", "data", "datastore", "environment", "cache", "compute", "component"}
GROUP_MODULES = {f"runner.cli.{name}" for name in EVERY_GROUP}


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


def _cold(workspace: Path, *args: str) -> tuple[int, set[str], str]:
    """``runner *args`` in a fresh process: its status, the group modules it imported, its stderr."""
    code = ("import json, sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import run\n"
            "status = run()\nprint('\\nMODULES ' + json.dumps(sorted(m for m in sys.modules "
            "if m.startswith('runner.cli.'))), flush=True)\nsys.exit(status)")
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(workspace),
           "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    listed = [line for line in result.stdout.splitlines() if line.startswith("MODULES ")]
    assert len(listed) == 1, (result.stdout, result.stderr)
    return result.returncode, set(json.loads(listed[0].removeprefix("MODULES "))), result.stderr


def test_a_cold_job_validate_imports_the_job_group_and_no_other(tmp_path: Path) -> None:
    status, modules, stderr = _cold(tmp_path, "job", "validate", "--file",
                                    "samples/jobs/model-input-ro-mount.yml")
    assert status == 0, stderr
    assert modules & GROUP_MODULES == {"runner.cli.job"}


def test_a_mistyped_group_is_named_without_importing_any_group(tmp_path: Path) -> None:
    status, modules, stderr = _cold(tmp_path, "jb", "list")
    assert status == 2 and "no such command 'jb' (did you mean 'job'?)" in stderr, stderr
    assert modules & GROUP_MODULES == set()


def test_the_roots_help_lists_every_group_with_its_modules_help(tmp_path: Path) -> None:
    status, modules, stderr = _cold(tmp_path, "--help")
    assert status == 0, stderr
    assert modules >= GROUP_MODULES
    root = cli_main.click_command()
    with click.Context(root) as ctx:
        assert set(root.list_commands(ctx)) == EVERY_GROUP | {"ui"}
        for name in EVERY_GROUP:
            group = root.get_command(ctx, name)
            assert group is importlib.import_module(f"runner.cli.{name}").app
            assert isinstance(group, click.Group) and group.help


def test_a_group_is_made_runners_once() -> None:
    """Named twice (the fork server's warm-up, then its command), a group keeps one set of az's options."""
    root = cli_main.click_command()
    with click.Context(root) as ctx:
        first = root.get_command(ctx, "model")
        assert root.get_command(ctx, "model") is first
    assert isinstance(first, click.Group)
    listing = first.commands["list"]
    names = [param.name for param in listing.params]
    assert names.count("az_resource_group") == 1 and names.count("az_workspace_name") == 1, names


def test_the_scan_knows_the_roots_options() -> None:
    """``named_group`` skips the root's own options: its lists are the root's (an option it did not know
    would only cost the note on pydantic's plugins; one it knew wrongly could name the wrong word as the
    group)."""
    params = [p for p in cli_main.click_command().params if isinstance(p, click.Option)]
    flags = {opt for p in params if p.is_flag for opt in p.opts}
    with_value = {opt for p in params if not p.is_flag for opt in p.opts}
    assert flags == set(cli_main._ROOT_FLAGS) and with_value == set(cli_main._ROOT_OPTIONS_WITH_VALUE)
