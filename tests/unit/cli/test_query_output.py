"""``--query <JMESPath>`` and ``-o table|json|yaml|tsv`` on every command that prints data, as ``az`` has
them: the query is applied to what ``-o json`` prints, and its result printed in the chosen format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from runner.cli import _common
from runner.cli.main import app
from runner.errors import SpecError

JOB = "command: echo hello\nenvironment:\n  image: runner/busybox:latest\n"


def _commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    pending: list[tuple[str, Any]] = [("", app)]
    while pending:
        path, command = pending.pop()
        if not isinstance(command, click.Group):
            found.append((path, command))
            continue
        with click.Context(command) as ctx:  # the root's groups: imported as they are asked for
            pending += [(f"{path} {name}".strip(), command.get_command(ctx, name))
                        for name in command.list_commands(ctx)]
    return found


def test_every_command_with_output_takes_query_and_the_same_formats() -> None:
    with_output = 0
    for path, command in _commands():
        params = {p.name: p for p in command.params}
        if "output" not in params:
            assert "query" not in params, path
            continue
        with_output += 1
        assert "query" in params, f"runner {path} has -o but no --query"
        context = command.make_context(path, [], resilient_parsing=True)
        usage = params["output"].get_help_record(context)[0]
        assert "table|json|yaml|tsv" in usage, (path, usage)  # one OutputFormat everywhere
    assert with_output >= 20


def _cli(ws: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture
def envs(workspace_dir: Path) -> Path:
    for name in ("alpha", "beta"):
        _cli(workspace_dir, "environment", "create", "--name", name, "--image", f"img-{name}:1")
    return workspace_dir


def test_query_filters_what_json_prints_and_tsv_prints_one_value_a_line(envs: Path) -> None:
    names = _cli(envs, "environment", "list", "--query", "[?starts_with(name, 'a') || name=='beta'].name",
                 "-o", "tsv")
    assert names.splitlines() == ["alpha", "beta"]
    as_json = json.loads(_cli(envs, "environment", "list", "--query", "[?name=='beta'].image", "-o", "json"))
    assert as_json == ["img-beta:1"]
    rows = _cli(envs, "environment", "list", "--query", "[?name=='alpha'].[name, image]", "-o", "tsv")
    assert rows == "alpha\timg-alpha:1\n"
    show = ("environment", "show", "-n", "alpha")
    assert _cli(envs, *show, "--query", "image", "-o", "tsv") == "img-alpha:1\n"
    assert "image: img-alpha:1" in _cli(envs, *show, "--query", "{image: image}", "-o", "yaml")


def test_query_with_a_table_renders_the_result_as_a_table(envs: Path) -> None:
    scalars = _cli(envs, "environment", "list", "--query", "[?name=='alpha'].name").splitlines()
    assert scalars[0].strip() == "Result" and scalars[1].strip() == "alpha"
    objects = _cli(envs, "environment", "list", "--query", "[?name=='beta'].{Name: name, Image: image}")
    header, row = objects.splitlines()
    assert header.split() == ["Name", "Image"] and row.split() == ["beta", "img-beta:1"]


def test_tsv_without_a_query_prints_each_entity_on_one_line(envs: Path) -> None:
    lines = [line for line in _cli(envs, "environment", "list", "-o", "tsv").splitlines()
             if line.split("\t")[0] in ("alpha", "beta")]
    assert len(lines) == 2 and "img-alpha:1" in lines[0].split("\t")


def test_a_bad_query_is_one_error_naming_the_expression(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(tmp_path), "environment",
                             "list", "--query", "[?name=='x'"], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --query: ") and "[?name=='x'" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_emit_tsv_forms() -> None:
    assert _common.tsv_lines([{"a": 1, "b": None, "c": {"x": 1}, "d": [1, 2]}, "s", 3, True]) == [
        "1\t\t\t2", "s", "3", "True"]
    assert _common.tsv_lines({"a": "x", "b": "y"}) == ["x\ty"]
    assert _common.tsv_lines(None) == []
    with pytest.raises(SpecError, match="--query"):
        _common.apply_query({"a": 1}, "length(a)")  # a type error at run time is the same one error


def _job(tmp_path: Path) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    return job


def test_job_validate_and_dry_run_take_yaml_tsv_and_query(workspace_dir: Path, tmp_path: Path) -> None:
    job = str(_job(tmp_path))
    assert "command: echo hello" in _cli(workspace_dir, "job", "validate", "-f", job, "-o", "yaml")
    command = _cli(workspace_dir, "job", "validate", "-f", job, "--query", "command", "-o", "tsv")
    assert command == "echo hello\n"
    assert json.loads(_cli(workspace_dir, "job", "create", "-f", job, "--dry-run", "-n", "dry1",
                           "--query", "{name: job_name}", "-o", "json")) == {"name": "dry1"}
