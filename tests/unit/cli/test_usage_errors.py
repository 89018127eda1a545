"""The command line's own usage errors (a bad choice, an unknown option or command, a missing option, a
bad value) are one message in runner's style, as every ``RunnerError`` is: ``error: <where>: <what>``
(with "did you mean" when something close exists) and a ``hint:`` naming the command's ``--help``;
exit status 2, as click's; no box, no usage block, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _runner(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``runner *args`` (as the installed command names itself) in its own process."""
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(workspace), "COLUMNS": "80"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=workspace)


def _one_message(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The error's lines, once checked to be runner's one message (exit 2, nothing on stdout)."""
    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert result.stdout == "", said
    assert result.stderr.startswith("error: "), said
    for boxed in ("╭", "│", "Usage:", "Try '", "Traceback", "Error:"):
        assert boxed not in said, said
    lines = result.stderr.splitlines()
    assert len(lines) <= 2 and all(line.startswith("  hint: ") for line in lines[1:]), said
    return lines


def test_a_bad_choice_names_the_choices_and_the_close_one(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "model", "create", "--name", "m", "--type", "mlflow", "--path",
                                 "p"))
    assert lines[0] == ("error: --type: 'mlflow' is not one of 'custom_model', 'mlflow_model', "
                        "'triton_model' (did you mean 'mlflow_model'?)"), lines
    assert "--type mlflow_model" in lines[1] and "runner model create --help" in lines[1], lines


def test_a_bad_choice_with_nothing_close_names_the_choices(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "job", "list", "-o", "xml"))
    assert lines[0].startswith("error: --output: 'xml' is not one of 'table', 'json', 'yaml', 'tsv'"), lines
    assert "did you mean" not in lines[0] and "runner job list --help" in lines[1], lines


def test_an_unknown_option_close_to_one_says_which(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "job", "create", "--file", "job.yml", "--nmae", "x"))
    assert lines[0] == "error: runner job create: no such option '--nmae' (did you mean '--name'?)", lines
    assert "runner job create --help" in lines[1], lines


def test_an_unknown_short_option(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "model", "list", "-x"))
    assert lines[0] == "error: runner model list: no such option '-x'", lines
    assert "runner model list --help" in lines[1], lines


def test_a_root_option_after_the_command_says_where_it_goes(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "job", "list", "--debug"))
    assert "no such option '--debug'" in lines[0], lines
    assert "runner --debug job list" in lines[1], lines


def test_a_missing_option(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "job", "show"))
    assert lines[0] == "error: runner job show: missing option '--name'", lines
    assert "--name" in lines[1] and "runner job show --help" in lines[1], lines


def test_an_option_without_its_value(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "model", "create", "--name"))
    assert lines[0] == "error: runner model create: option '--name' needs a value", lines
    assert "runner model create --help" in lines[1], lines


@pytest.mark.parametrize(("value", "says"), [("abc", "a valid integer"), ("0", "greater than or equal to 1")])
def test_a_bad_value(tmp_path: Path, value: str, says: str) -> None:
    lines = _one_message(_runner(tmp_path, "job", "list", "--max-results", value))
    assert lines[0].startswith(f"error: --max-results: invalid value '{value}': "), lines
    assert says in lines[0], lines
    assert "runner job list --help" in lines[1], lines


def test_an_unknown_command_says_the_close_one(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "jb", "list"))
    assert lines[0] == "error: runner: no such command 'jb' (did you mean 'job'?)", lines
    assert "runner --help" in lines[1], lines
    lines = _one_message(_runner(tmp_path, "model", "craete"))
    assert lines[0] == "error: runner model: no such command 'craete' (did you mean 'create'?)", lines


def test_an_extra_argument(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "job", "list", "extra"))
    assert lines[0] == "error: runner job list: unexpected extra argument 'extra'", lines
    assert "runner job list --help" in lines[1], lines


def test_a_root_usage_error(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "--bogus", "job", "list"))
    assert lines[0] == "error: runner: no such option '--bogus'", lines


def test_control_characters_in_what_was_typed_are_escaped(tmp_path: Path) -> None:
    lines = _one_message(_runner(tmp_path, "job", "list", "-o", "js\x1b[31mon"))
    assert "\x1b" not in "".join(lines) and "\\x1b" in lines[0], lines


def test_no_arguments_still_prints_the_help(tmp_path: Path) -> None:
    for args in ((), ("job",)):
        result = _runner(tmp_path, *args)
        assert result.returncode == 2 and "Usage: runner" in result.stdout, result.stderr
        assert "error:" not in result.stderr


@pytest.mark.parametrize("stray", [
    "inputs.x.path=https://acct.blob.core.windows.net/c/x?sv=2024&sig=SECRETSIG",
    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRETKEY==;EndpointSuffix=core.windows.net",
    "sftp://me:SECRETPW@host/x",
])
def test_a_stray_argument_holding_a_secret_is_echoed_without_it(tmp_path: Path, stray: str) -> None:
    lines = _one_message(_runner(tmp_path, "job", "list", stray))
    assert "unexpected extra argument" in lines[0]
    assert "SECRET" not in "\n".join(lines)
