"""``environment_variables`` holds what a process's environment can: a key is a name (not empty, no ``=``,
no NUL) and a value holds no NUL. Anything else is ONE ``SpecError`` at the key, when the job is loaded:
the process backend would fail at run time (``illegal environment variable name``), Docker would get
``FOO=AZURE_ML_INPUT_x=bar`` (the job's input variable, overridden)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.load import load_job_spec, spec_from_data

HEAD = "command: echo hi\nenvironment: img\nenvironment_variables:\n  OK: fine\n"
# (id, the key and value as YAML, the field as the error names it, words of the message)
BAD = [
    # what follows a name's '=' is shown as *** (a value written into the name: test_env_name_value_masked)
    ("equals", "FOO=AZURE_ML_INPUT_x: bar", "environment_variables.FOO=***", "holds '='"),
    ("empty", '"": bar', "environment_variables.", "is empty"),
    # a NUL written in YAML ("\\0") is refused as the file is read (runner.spec.yamlio); the builder's below
    ("nul-name", '"A\\0B": bar', "environment_variables.A\\x00B", "NUL character"),
    ("nul-value", 'A: "x\\0y"', "environment_variables.A", "NUL character"),
]


def _job(tmp_path: Path, entry: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"{HEAD}  {entry}\n")
    return job


@pytest.mark.parametrize(("entry", "field", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_name_or_value_no_environment_can_hold_is_one_error_at_its_key(
        tmp_path: Path, entry: str, field: str, words: str) -> None:
    job = _job(tmp_path, entry)
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    rendered = info.value.render()
    assert rendered.startswith(f"{job}:5:3: {field}: "), rendered
    assert words in rendered.splitlines()[0], rendered
    assert info.value.hint, rendered
    assert "pydantic" not in rendered.lower() and "Traceback" not in rendered


@pytest.mark.parametrize("name", ["PATH", "_X1", "lower", "a-b", "a.b", "ÉTÉ", "AZUREML_X"])
def test_other_names_are_passed_as_written(tmp_path: Path, name: str) -> None:
    spec = load_job_spec(_job(tmp_path, f'"{name}": "v=w"'))
    assert spec.environment_variables == {"OK": "fine", name: "v=w"}  # '=' in a value is fine


@pytest.mark.parametrize(("env", "words"), [
    ({"A=B": "x"}, "environment_variables.A=***: environment variable name 'A=***' holds '='"),
    ({"": "x"}, "environment_variables.: the environment variable's name is empty"),
    ({"A\0": "x"}, "environment_variables.A\\x00: environment variable name 'A\\x00' holds a NUL"),
    ({"A": "x\0"}, "environment_variables.A: the value holds a NUL character"),
])
def test_the_python_builder_refuses_them_too(env: dict[str, str], words: str) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_data({"command": "ls", "environment": "img", "environment_variables": env})
    assert info.value.render().startswith(f"<python>: {words}"), info.value.render()
    assert info.value.hint


@pytest.mark.parametrize(("entry", "field", "words"), [c[1:] for c in BAD[:2]], ids=[c[0] for c in BAD[:2]])
def test_job_validate_prints_one_message_and_exits_2(tmp_path: Path, entry: str, field: str,
                                                    words: str) -> None:
    job = _job(tmp_path, entry)
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(tmp_path / "ws"), "job",
                             "validate", "--file", str(job)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {job}:5:3: {field}: "), result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr and "internal" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the message and its hint
