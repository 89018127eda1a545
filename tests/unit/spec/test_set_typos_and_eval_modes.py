"""Two errors a user coming from Azure ML meets: a ``--set`` whose input/output name is a typo of a declared
one (one error naming the typo, the name and the flag, not whatever its value then fails on), and Azure's
``eval_mount`` / ``eval_download`` (said to be Azure's v1-dataset modes, with the mode to use instead)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner import Input, InputOutputModes, Output, command
from runner.errors import ModeError, SpecError
from runner.spec.load import load_job_spec

# azureml-examples' cli/jobs/basics/hello-model-as-input.yml, with the model folder beside it
HELLO_MODEL = ("command: |\n  ls ${{inputs.my_model}}\ninputs:\n  my_model:\n    type: mlflow_model\n"
               "    path: ./mlflow-model\n"
               "environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest\n")
TYPO_SET = "inputs.my_modle.path=azureml:iris-svm:1"


def _hello(tmp_path: Path) -> Path:
    (tmp_path / "mlflow-model").mkdir()
    job = tmp_path / "hello-model-as-input.yml"
    job.write_text(HELLO_MODEL)
    return job


def test_a_set_input_name_close_to_a_declared_one_is_one_error_naming_both(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_job_spec(_hello(tmp_path), [TYPO_SET])
    assert caught.value.field == f"inputs.my_modle (from --set {TYPO_SET})"
    assert caught.value.where is None  # the name is in the flag, not in the file
    assert caught.value.message == "the job file has no input 'my_modle' (did you mean 'my_model'?)"
    hint = caught.value.hint or ""
    assert "--set inputs.my_model.path=azureml:iris-svm:1" in hint and "inputs:" in hint
    assert "data asset" not in caught.value.render()


def test_type_and_path_set_on_a_typo_give_one_error(tmp_path: Path) -> None:
    job = _hello(tmp_path)
    with pytest.raises(SpecError) as caught:
        load_job_spec(job, ["inputs.my_modle.type=mlflow_model", TYPO_SET])
    assert caught.value.field == "inputs.my_modle (from --set inputs.my_modle.type=mlflow_model)"
    assert caught.value.render().count("no input 'my_modle'") == 1


def test_a_set_output_name_close_to_a_declared_one_is_one_error(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: cp a ${{outputs.model_output}}\nenvironment: img\n"
                   "outputs:\n  model_output:\n    type: custom_model\n")
    with pytest.raises(SpecError) as caught:
        load_job_spec(job, ["outputs.model_ouptut.mode=upload"])
    assert caught.value.field == "outputs.model_ouptut (from --set outputs.model_ouptut.mode=upload)"
    assert caught.value.message == "the job file has no output 'model_ouptut' (did you mean 'model_output'?)"
    assert "--set outputs.model_output.mode=upload" in (caught.value.hint or "")


def test_a_typo_set_keeps_a_secret_out_of_the_error(tmp_path: Path) -> None:
    url = "https://acct.blob.core.windows.net/c/model?sv=2024&sig=SECRET"
    with pytest.raises(SpecError) as caught:
        load_job_spec(_hello(tmp_path), [f"inputs.my_modle.path={url}"])
    assert "SECRET" not in caught.value.render()
    assert "my_modle" in caught.value.render()


def test_a_name_differing_only_in_case_or_dash_is_a_typo(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="did you mean 'my_model'"):
        load_job_spec(_hello(tmp_path), ["inputs.My-Model.path=./mlflow-model"])


def test_a_new_input_or_output_far_from_any_name_is_still_added_with_one_warning(tmp_path: Path) -> None:
    """As ``az ml job create --set inputs.new...`` adds an input (azure-ai-ml sets the dotted key into the
    YAML before loading it), a name no declared one is close to is added; one warning per name, however
    many of its fields are set."""
    job = _hello(tmp_path)
    spec = load_job_spec(job, ["inputs.extra_data.path=./mlflow-model", "inputs.extra_data.type=uri_folder",
                               "outputs.report.mode=upload"])
    assert "extra_data" in spec.inputs and "report" in spec.outputs
    assert spec.warnings == [
        "inputs.extra_data (from --set inputs.extra_data.path=./mlflow-model): the job file has no input "
        "'extra_data' and the command does not read it; it is added (as $AZURE_ML_INPUT_extra_data)",
        "outputs.report (from --set outputs.report.mode=upload): the job file has no output 'report' and the "
        "command does not write it; it is added (as $AZURE_ML_OUTPUT_report)"]


def test_a_close_name_the_command_reads_is_added(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: cat ${{inputs.data1}} $[[${{inputs.data2}}]]\nenvironment: img\n"
                   "inputs:\n  data1:\n    type: uri_folder\n    path: .\n")
    spec = load_job_spec(job, ["inputs.data2.path=."])
    assert "data2" in spec.inputs and spec.warnings == []


@pytest.mark.parametrize(("word", "names", "expected"), [
    ("my_modle", ["my_model"], "my_model"), ("My-Model", ["my_model"], "my_model"),
    ("epoch", ["epochs"], "epochs"), ("trainig_dta", ["training_data"], "training_data"),
    ("nn", ["n"], None), ("lr2", ["lr"], None), ("train_data", ["test_data"], None),
    ("model_output", ["model_input"], None), ("extra", ["my_model"], None), ("N", ["n"], "n"),
])
def test_typo_of(word: str, names: list[str], expected: str | None) -> None:
    from runner.spec.validation import typo_of

    assert typo_of(word, names) == expected


def _runner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", "--workspace", str(tmp_path / "ws"), *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_prints_the_typo_once_without_traceback(tmp_path: Path) -> None:
    job = _hello(tmp_path)
    result = _runner(tmp_path, "job", "create", "--file", str(job),
                     "--set", "inputs.my_modle.type=mlflow_model", "--set", TYPO_SET)
    assert result.returncode == 2
    assert result.stderr.startswith("error: inputs.my_modle (from --set inputs.my_modle.type=mlflow_model): "
                                    "the job file has no input 'my_modle' (did you mean 'my_model'?)")
    assert result.stderr.count("my_modle'") == 1
    assert "data asset" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the message and its hint


EVAL_CASES = [
    ("input", "eval_mount", "inputs", "Azure's eval_mount is not supported here (it evaluates v1 mltable "
                                      "datasets on the cloud); use ro_mount (or download)"),
    ("input", "eval_download", "inputs", "Azure's eval_download is not supported here (it evaluates v1 "
                                         "mltable datasets on the cloud); use download (or ro_mount)"),
    ("output", "eval_mount", "outputs", "Azure's eval_mount is not supported here (it evaluates v1 mltable "
                                        "datasets on the cloud, for inputs); use rw_mount (or upload)"),
]


def _eval_job(tmp_path: Path, kind: str, mode: str) -> Path:
    job = tmp_path / "job.yml"
    io = (f"inputs:\n  d:\n    type: mltable\n    path: ./table\n    mode: {mode}\n" if kind == "input" else
          f"outputs:\n  d:\n    type: mltable\n    mode: {mode}\n")
    ref = "inputs" if kind == "input" else "outputs"
    job.write_text(f"command: ls ${{{{{ref}.d}}}}\nenvironment: img\n{io}")
    return job


@pytest.mark.parametrize(("kind", "mode", "group", "message"), EVAL_CASES)
def test_azure_eval_modes_in_yaml_are_named_with_the_alternative(tmp_path: Path, kind: str, mode: str,
                                                                 group: str, message: str) -> None:
    job = _eval_job(tmp_path, kind, mode)
    line = 7 if kind == "input" else 6
    with pytest.raises(ModeError) as caught:
        load_job_spec(job)
    assert caught.value.render().startswith(f"{job}:{line}:5: {group}.d.mode: {message}")
    assert "is not a mode" not in caught.value.render()


@pytest.mark.parametrize(("kind", "mode", "group", "message"), EVAL_CASES)
def test_azure_eval_modes_in_python_are_named_with_the_alternative(kind: str, mode: str, group: str,
                                                                   message: str) -> None:
    modes = {"eval_mount": InputOutputModes.EVAL_MOUNT, "eval_download": InputOutputModes.EVAL_DOWNLOAD}
    with pytest.raises(ModeError) as caught:
        if kind == "input":
            command(command="ls ${{inputs.d}}", environment="img:1",
                    inputs={"d": Input(type="mltable", path="./t", mode=modes[mode])})
        else:
            command(command="ls ${{outputs.d}}", environment="img:1",
                    outputs={"d": Output(type="mltable", mode=modes[mode])})
    assert str(caught.value).startswith(f"<python>: {group}.d.mode: {message}")


def test_cli_names_eval_mount_at_its_line(tmp_path: Path) -> None:
    job = _eval_job(tmp_path, "input", "eval_mount")
    result = _runner(tmp_path, "job", "validate", "--file", str(job))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {job}:7:5: inputs.d.mode: {EVAL_CASES[0][3]}")
    assert "Traceback" not in result.stderr
