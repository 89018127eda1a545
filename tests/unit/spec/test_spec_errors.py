"""Tried as a new user would: each mistake gives ONE clear message pointing at the line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import ModeError, SpecError
from runner.spec.load import load_job_spec, spec_from_data

HEAD = "command: ls ${{inputs.m}}\nenvironment:\n  image: python:3.11\n"

# (name, YAML, error class, "file:line:col: field" prefix after the path, words in the message, in the hint)
CASES = [
    ("mode-typo", HEAD + "inputs:\n  m:\n    type: custom_model\n    path: ./model\n    mode: ro_mout\n",
     ModeError, "8:5: inputs.m.mode", "'ro_mout' is not a mode (did you mean 'ro_mount'?)", "ro_mount"),
    ("mode-refused", HEAD + "inputs:\n  m:\n    type: mlflow_model\n    path: ./m\n    mode: direct\n",
     ModeError, "8:5: inputs.m.mode", "not supported for a mlflow_model input; allowed: download, ro_mount",
     "download, ro_mount"),
    ("output-mode-refused", HEAD + "inputs:\n  m: 1\noutputs:\n  o:\n    mode: download\n",
     ModeError, "8:5: outputs.o.mode", "allowed: upload, rw_mount, direct", "upload"),
    ("wrong-type", "command: ls\nenvironment: img\nresources:\n  instance_count: two\n",
     SpecError, "4:3: resources.instance_count", "expected an integer, got 'two'", None),
    ("unknown-field", "command: ls\nenviroment:\n  image: python:3.11\n",
     SpecError, "2:1: enviroment", "unknown field 'enviroment' (did you mean 'environment'?)",
     "allowed here"),
    ("unknown-input-field", HEAD + "inputs:\n  m:\n    type: custom_model\n    pth: ./model\n",
     SpecError, "7:5: inputs.m.pth", "unknown field 'pth' (did you mean 'path'?)", "path, mode"),
    ("missing-input", "command: python t.py --model ${{inputs.modle}}\nenvironment: img\n"
                      "inputs:\n  model:\n    path: m\n",
     SpecError, "1:30: command", "Inputs to job does not contain 'modle' referenced in command",
     "defined inputs: model"),
    ("missing-output", "command: cp a ${{outputs.o}}\nenvironment: img\n",
     SpecError, "1:15: command", "Outputs to job does not contain 'o' referenced in command", None),
    ("bad-indentation", HEAD + "inputs:\n  m:\n    type: uri_folder\n      path: ./data\n",
     SpecError, "7:11", "invalid YAML", "indentation"),
    ("dedent", HEAD + "inputs:\n  m:\n    type: uri_folder\n   path: ./data\n",
     SpecError, "7:4", "bad indentation", "indentation"),
    ("tab", "command: ls\nenvironment:\n\timage: x\n", SpecError, "3:1", "tab", "spaces"),
    ("duplicate-key", "command: ls\ncommand: pwd\nenvironment: img\n",
     SpecError, "2:1", "duplicate key", "once"),
    ("bad-input-name", HEAD + "inputs:\n  my.model:\n    path: m\n  m: 1\n",
     SpecError, "5:3: inputs.my.model", "'my.model' is not a valid input/output name", "letters, digits"),
    ("bad-asset-type", HEAD + "inputs:\n  m:\n    type: custom_modle\n    path: x\n",
     SpecError, "6:5: inputs.m.type", "'custom_modle' is not an input type (did you mean 'custom_model'?)",
     "uri_folder"),
    ("missing-environment", "command: ls\n", SpecError, "1:1: environment", "'environment' is required",
     "image"),
    ("missing-command", "environment: img\n", SpecError, "1:1: command", "'command' is required",
     "command:"),
    ("input-without-path", "command: ls ${{inputs.d}}\nenvironment: img\ninputs:\n  d:\n    type: uri_file\n",
     SpecError, "4:3: inputs.d", "input 'd' has no path", "optional: true"),
    ("bad-job-name", "name: my job\ncommand: ls\nenvironment: img\n",
     SpecError, "1:1: name", "'my job' is not a valid job name", "letters"),
    ("not-command", "type: pipeline\ncommand: ls\nenvironment: img\n",
     SpecError, "1:1: ", "this is a pipeline job; a command job is expected here", "runner job create"),
    ("unknown-type", "type: batch\ncommand: ls\nenvironment: img\n",
     SpecError, "1:1: type", "unknown job type 'batch'", "type: command"),
    ("env-no-image", "command: ls\nenvironment:\n  conda_file: c.yml\n",
     SpecError, "2:1: environment", "needs an image or a build context", "image:"),
    ("list-not-mapping", "command: ls\nenvironment: img\ninputs:\n  - a\n",
     SpecError, "3:1: inputs", "expected a mapping", None),
    ("version-without-name", "command: ls\nenvironment: img\noutputs:\n  o:\n    version: 1\n",
     SpecError, "4:3: outputs.o", "needs a name", "name:"),
    ("shm", "command: ls\nenvironment: img\nresources:\n  shm_size: lots\n",
     SpecError, "4:3: resources.shm_size", "is not a size", "2g"),
    ("union", "command: ls\nenvironment: img\nresources:\n  gpu_count: some\n",
     SpecError, "4:3: resources.gpu_count", "expected an integer or 'all', got 'some'", "'all'"),
    ("literal-date", "command: ls\nenvironment: img\ninputs:\n  d: 2024-01-01\n",
     SpecError, "4:3: inputs.d.value", "expected true or false, an integer, a number or text", None),
    ("bound", "command: ls\nenvironment: img\nlimits:\n  timeout: 0\n",
     SpecError, "4:3: limits.timeout", "expected a number more than 0, got 0", "more than 0"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_one_clear_message_at_the_line(tmp_path: Path, case: tuple) -> None:  # type: ignore[type-arg]
    _name, text, cls, where, words, hint = case
    job = tmp_path / "job.yml"
    job.write_text(text)
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    assert type(info.value) is cls
    rendered = info.value.render()
    assert rendered.startswith(f"{job}:{where}"), rendered
    assert words in rendered
    if hint:
        assert info.value.hint and hint in info.value.hint
    assert "Traceback" not in rendered and "pydantic" not in rendered.lower()


def test_a_list_is_not_a_job(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("- command: ls\n")
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    assert info.value.render().startswith(f"{job}:1:1: a job file must be a mapping")


def test_file_not_found_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_job_spec(tmp_path / "nope.yml")
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    with pytest.raises(SpecError, match="empty"):
        load_job_spec(empty)


def test_bad_override_names_the_flag(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: ls ${{inputs.d}}\nenvironment: img\ninputs:\n  d:\n    path: a\n")
    with pytest.raises(ModeError) as info:
        load_job_spec(job, ["inputs.d.mode=upload"])
    assert "(from --set inputs.d.mode=upload)" in info.value.render()
    with pytest.raises(SpecError, match="not key=value"):
        load_job_spec(job, ["inputs.d.mode"])


def test_a_set_input_the_job_does_not_declare_is_added_with_a_warning(tmp_path: Path) -> None:
    """``--set inputs.<x>`` naming no input of a command job adds it (as ``az ml`` does: the job gets
    ``AZURE_ML_INPUT_<x>``), with a warning when the command does not read it (a typo?); a pipeline
    refuses it (no step could read it)."""
    job = tmp_path / "job.yml"
    job.write_text("command: echo ${{inputs.n}}\nenvironment: img\ninputs:\n  n: 1\n")
    spec = load_job_spec(job, ["inputs.nn=1"])
    assert "nn" in spec.inputs
    assert spec.warnings == ["inputs.nn (from --set inputs.nn=1): the job file has no input 'nn' (did "
                             "you mean 'n'?) and the command does not read it; it is added (as "
                             "$AZURE_ML_INPUT_nn)"]
    job.write_text("command: echo ${{inputs.n}} $[[${{inputs.extra}}]]\nenvironment: img\ninputs:\n  n: 1\n")
    assert load_job_spec(job, ["inputs.extra=2", "inputs.n=2"]).warnings == []


def test_builder_errors_name_the_field_at_python() -> None:
    with pytest.raises(ModeError) as info:
        spec_from_data({"command": "ls", "environment": "i",
                        "inputs": {"m": {"type": "mlflow_model", "path": "p", "mode": "direct"}}})
    assert info.value.render().startswith("<python>: inputs.m.mode: mode 'direct' is not supported")


@pytest.mark.parametrize("name", ["mode-typo", "unknown-field", "missing-input", "bad-indentation",
                                  "wrong-type"])
def test_cli_prints_one_message_without_traceback(tmp_path: Path, name: str) -> None:
    _name, text, _cls, where, words, _hint = next(c for c in CASES if c[0] == name)
    job = tmp_path / "job.yml"
    job.write_text(text)
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(tmp_path / "ws"), "job",
                             "validate", "--file", str(job)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {job}:{where}")
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the message and its hint
