"""The ``--set`` typo check (``refuse_typo_sets``) against what a command really reads: an input (output) it
reads through ``$AZURE_ML_INPUT_<x>`` / ``$AZURE_ML_OUTPUT_<x>`` (``_`` for ``-`` too) or ``$<<inputs.x>>`` is
no typo; numbered siblings (``data1``/``data2``) are no slip; and the hint's ``--set`` can be pasted back
(``<value>`` where the value held a query or password, which is never shown)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner import load_job
from runner.errors import SpecError
from runner.spec.load import load_job_spec
from runner.spec.validation import typo_of

SAS_URL = "https://acct.blob.core.windows.net/c/model?sv=2024&sig=SECRET"


def _job(tmp_path: Path, command: str, io: str) -> Path:
    (tmp_path / "m").mkdir(exist_ok=True)
    job = tmp_path / "j.yml"
    job.write_text(f"command: {command}\nenvironment: img\n{io}")
    return job


MODEL_IN = "inputs:\n  model:\n    type: uri_folder\n    path: ./m\n"
MY_MODEL_IN = "inputs:\n  my_model:\n    type: uri_folder\n    path: ./m\n"


@pytest.mark.parametrize("read", ["$AZURE_ML_INPUT_models", "${AZURE_ML_INPUT_models}", "$<<inputs.models>>",
                                  "\"$AZURE_ML_INPUT_models\"/x", "${{ inputs.models }}"])
def test_a_close_name_the_command_reads_by_any_form_is_added(tmp_path: Path, read: str) -> None:
    job = _job(tmp_path, f"ls ${{{{inputs.model}}}} {read}", MODEL_IN)
    spec = load_job_spec(job, ["inputs.models.path=./m"])
    assert "models" in spec.inputs and spec.warnings == []


def test_a_close_output_the_command_writes_by_its_variable_is_added(tmp_path: Path) -> None:
    job = _job(tmp_path, "cp a ${{outputs.report}} $AZURE_ML_OUTPUT_reports",
               "outputs:\n  report:\n    type: uri_folder\n")
    spec = load_job_spec(job, ["outputs.reports.mode=upload"])
    assert "reports" in spec.outputs and spec.warnings == []


@pytest.mark.parametrize("read", ["$AZURE_ML_INPUT_my_modle", "os.environ['AZURE_ML_INPUT_my-modle']"])
def test_a_dashed_name_read_by_its_variable_is_added(tmp_path: Path, read: str) -> None:
    job = _job(tmp_path, f"echo ${{{{inputs.my-model}}}} {read}",
               "inputs:\n  my-model:\n    type: uri_folder\n    path: ./m\n")
    spec = load_job_spec(job, ["inputs.my-modle.path=./m"])
    assert "my-modle" in spec.inputs and spec.warnings == []


@pytest.mark.parametrize("read", ["$AZURE_ML_INPUT_models_dir", "$AZURE_ML_INPUT_model",
                                  "$AZURE_ML_OUTPUT_models", "AZURE_ML_INPUT_Models"])
def test_a_variable_of_another_name_is_no_read(tmp_path: Path, read: str) -> None:
    job = _job(tmp_path, f"ls ${{{{inputs.model}}}} {read}", MODEL_IN)
    with pytest.raises(SpecError, match=r"no input 'models' \(did you mean 'model'\?\)"):
        load_job_spec(job, ["inputs.models.path=./m"])


def test_a_far_name_read_by_its_variable_gets_no_warning(tmp_path: Path) -> None:
    job = _job(tmp_path, "ls ${{inputs.model}} $AZURE_ML_INPUT_extra", MODEL_IN)
    spec = load_job_spec(job, ["inputs.extra.path=./m"])
    assert "extra" in spec.inputs and spec.warnings == []


@pytest.mark.parametrize(("word", "names", "expected"), [
    ("data2", ["data1"], None), ("model_v2", ["model_v1"], None), ("model-v2", ["model_v1"], None),
    ("data10", ["data1"], None), ("data2", ["data"], None), ("Data1", ["data1"], "data1"),
    ("dat1", ["data1"], "data1"), ("dtaa2", ["data1", "data2"], "data2"),
])
def test_numbered_siblings_are_no_slip(word: str, names: list[str], expected: str | None) -> None:
    assert typo_of(word, names) == expected


def test_a_numbered_sibling_is_added_with_the_warning(tmp_path: Path) -> None:
    job = _job(tmp_path, "ls ${{inputs.data1}}", "inputs:\n  data1:\n    type: uri_folder\n    path: ./m\n")
    spec = load_job_spec(job, ["inputs.data2.path=./m"])
    assert "data2" in spec.inputs
    assert spec.warnings == ["inputs.data2 (from --set inputs.data2.path=./m): the job file has no input "
                             "'data2' (did you mean 'data1'?) and the command does not read it; it is added "
                             "(as $AZURE_ML_INPUT_data2)"]


@pytest.mark.parametrize("value", [SAS_URL, "https://user:SECRET@host.example/model"])
def test_the_hint_of_a_scrubbed_value_can_be_pasted_back(tmp_path: Path, value: str) -> None:
    job = _job(tmp_path, "ls ${{inputs.my_model}}", MY_MODEL_IN)
    with pytest.raises(SpecError) as caught:
        load_job_spec(job, [f"inputs.my_modle.path={value}"])
    hint = caught.value.hint or ""
    assert "--set inputs.my_model.path=<value> " in hint
    assert "<query removed>" not in hint and "***" not in hint
    assert "SECRET" not in caught.value.render()


def test_the_python_hint_of_a_scrubbed_value_can_be_pasted_back(tmp_path: Path) -> None:
    job = _job(tmp_path, "ls ${{inputs.my_model}}", MY_MODEL_IN)
    with pytest.raises(SpecError) as caught:
        load_job(job, params_override=[{"inputs.my_modle.path": SAS_URL}])
    text = str(caught.value)
    assert "params_override=[{'inputs.my_model.path': '<value>'}]" in text
    assert "SECRET" not in text and "<query removed>" not in (caught.value.python_hint or "")


def test_cli_validate_accepts_a_sibling_the_command_reads_by_its_variable(tmp_path: Path) -> None:
    """The session review's repro: it used to be accepted (added, as az does), then was refused."""
    job = _job(tmp_path, "ls ${{inputs.data1}} $AZURE_ML_INPUT_data2",
               "inputs:\n  data1:\n    type: uri_folder\n    path: ./m\n")
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(tmp_path / "ws"), "job",
                             "validate", "-f", str(job), "--set", "inputs.data2.path=./m"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "did you mean" not in result.stderr and "does not read it" not in result.stderr + result.stdout
