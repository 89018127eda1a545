"""An ``environment_variables`` name holding ``=`` (``"A=hunter2-TOKEN": x``: a ``NAME=value`` written as the
key) is refused as before, naming the name and why, but what follows its first ``=`` is never echoed: not
in the message, not in the field path the error is located at (``environment_variables.A=***``), neither
from ``job validate`` / ``job create`` nor from the Python builder (``runner.command``). What comes
before the ``=`` is shown as any echoed value is (``without_secrets``: a token there is masked too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import command
from runner.errors import SpecError
from runner.spec.load import load_job_spec, spec_from_data

GH = "ghp_" + "Q" * 36  # a GitHub token's form
# (id, the name as written, how the error shows it, what must never be shown)
NAMES = [
    ("value", "A=hunter2-TOKEN0491", "A=***", ("hunter2", "TOKEN0491")),
    ("sas", "X=sv=2021&sig=abc0492", "X=***", ("sv=2021", "abc0492", "sig=")),
    ("conn", "STORE=AccountName=a;AccountKey=k0493==", "STORE=***", ("AccountName", "k0493")),
    ("token-before", f"{GH}=v0494", "ghp_***=***", (GH, "v0494")),
]
IDS = [case[0] for case in NAMES]


def _yaml(tmp_path: Path, name: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text("command: echo hi\nenvironment: img\nenvironment_variables:\n"
                   f"  OK: fine\n  '{name}': x\n")
    return job


def _check(rendered: str, field: str, shown: str, hidden: tuple[str, ...]) -> None:
    first = rendered.splitlines()[0]
    assert f"{field}: " in first, rendered
    assert f"environment variable name '{shown}' holds '='" in first, rendered
    assert not [part for part in hidden if part in rendered], rendered
    assert "Traceback" not in rendered and "pydantic" not in rendered.lower()


@pytest.mark.parametrize(("name", "shown", "hidden"), [c[1:] for c in NAMES], ids=IDS)
def test_the_yaml_error_names_the_name_without_its_value(tmp_path: Path, name: str, shown: str,
                                                        hidden: tuple[str, ...]) -> None:
    job = _yaml(tmp_path, name)
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    err = info.value
    assert err.field == f"environment_variables.{shown}"
    assert err.where is not None and err.where.line == 5  # still located at the key
    _check(err.render(), f"{job}:5:3: environment_variables.{shown}", shown, hidden)
    assert err.hint and "without '='" in err.hint


@pytest.mark.parametrize(("name", "shown", "hidden"), [c[1:] for c in NAMES], ids=IDS)
def test_the_python_builder_names_it_without_its_value(name: str, shown: str,
                                                       hidden: tuple[str, ...]) -> None:
    with pytest.raises(SpecError) as info:
        command(command="ls", environment="img", environment_variables={name: "x"})
    assert info.value.field == f"environment_variables.{shown}"
    _check(str(info.value), f"<python>: environment_variables.{shown}", shown, hidden)
    with pytest.raises(SpecError) as again:  # the loader the builder goes through
        spec_from_data({"command": "ls", "environment": "img", "environment_variables": {name: "x"}})
    _check(again.value.render(), f"environment_variables.{shown}", shown, hidden)


def test_a_nul_in_a_name_with_a_value_after_its_equals_is_masked_too() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_data({"command": "ls", "environment": "img", "environment_variables": {"A\0=hunter2": "x"}})
    rendered = info.value.render()
    assert rendered.startswith("<python>: environment_variables.A\\x00=***: environment variable name "
                               "'A\\x00=***' holds a NUL"), rendered
    assert "hunter2" not in rendered


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


@pytest.mark.parametrize("verb", [("validate",), ("create", "--backend", "process")])
def test_job_validate_and_create_print_one_error_without_the_value(tmp_path: Path, verb: tuple[str, ...]
                                                                    ) -> None:
    name, shown, hidden = NAMES[1][1:]
    job = _yaml(tmp_path, name)
    result = _runner(tmp_path, "job", verb[0], "--file", str(job), *verb[1:])
    assert result.returncode == 2 and result.stdout == "", result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("  hint: "), result.stderr
    _check(lines[0].removeprefix("error: "), f"{job}:5:3: environment_variables.{shown}", shown, hidden)
    assert not (tmp_path / "ws").exists() or not list((tmp_path / "ws").glob("jobs/*"))  # nothing created


def test_a_set_giving_the_mapping_names_it_without_the_value(tmp_path: Path) -> None:
    """``--set environment_variables={...}`` (``params_override`` in Python): the error says which
    ``--set`` gave the field, that too without what follows the name's '='."""
    job = tmp_path / "ok.yml"
    job.write_text("command: echo hi\nenvironment: img\n")
    given = '{"X=sv=2021&sig=abc0492": "x"}'
    result = _runner(tmp_path, "job", "validate", "--file", str(job), "--set",
                     f"environment_variables={given}")
    assert result.returncode == 2 and result.stdout == "", result.stderr
    _check(result.stderr.removeprefix("error: "), "environment_variables.X=*** (from --set "
           'environment_variables={"X=***": "x"})', "X=***", NAMES[1][3])
    with pytest.raises(SpecError) as info:
        load_job_spec(job, overrides=[f"environment_variables={given}"])
    _check(info.value.render(), 'environment_variables.X=*** (from --set environment_variables={"X=***": '
           '"x"})', "X=***", NAMES[1][3])
