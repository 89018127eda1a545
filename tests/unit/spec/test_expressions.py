"""Every expression form in a command: parse, validate (Azure's error words) and render."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.expressions import (
    env_var_warnings,
    find_references,
    render_command,
    validate_command,
)
from runner.spec.load import load_job_spec

VALUES = {"x": "/mnt/in/x", "lr": "0.1"}
OUTS = {"o": "/mnt/out/o"}


@pytest.mark.parametrize("written", [
    "${{inputs.x}}", "${{ inputs.x }}", "${{  inputs.x}}", "$<<inputs.x>>", "$<< inputs.x >>",
])
def test_input_forms_render_to_the_value(written: str) -> None:
    assert render_command(f"ls {written}", inputs=VALUES, outputs=OUTS, job_name="j") == "ls /mnt/in/x"


@pytest.mark.parametrize("written", ["${{outputs.o}}", "${{ outputs.o }}", "$<<outputs.o>>"])
def test_output_forms_render_to_the_path(written: str) -> None:
    assert render_command(f"cp a {written}/", inputs=VALUES, outputs=OUTS, job_name="j") == "cp a /mnt/out/o/"


def test_job_name_expression() -> None:
    assert render_command("echo ${{name}} ${{ name }}", inputs={}, outputs={}, job_name="calm_fern") == (
        "echo calm_fern calm_fern")


def test_optional_fragment_kept_when_input_has_value() -> None:
    command = "train $[[--lr ${{inputs.lr}}]] --x ${{inputs.x}}"
    assert render_command(command, inputs=VALUES, outputs={}, job_name="j") == "train --lr 0.1 --x /mnt/in/x"


def test_optional_fragment_dropped_when_input_has_no_value() -> None:
    command = "train $[[--lr ${{inputs.lr}}]] --x ${{inputs.x}}"
    rendered = render_command(command, inputs={"x": "/x", "lr": None}, outputs={}, job_name="j")
    assert rendered == "train  --x /x"


def test_optional_fragment_with_angle_form() -> None:
    rendered = render_command("a $[[--y $<<inputs.lr>>]]", inputs={"lr": None}, outputs={}, job_name="j")
    assert rendered == "a "


def test_find_references_in_order_with_optional_flag() -> None:
    refs = find_references("${{outputs.o}} $[[ ${{inputs.lr}} ]] $<<inputs.x>> ${{name}}")
    assert [(r.kind, r.name, r.optional) for r in refs] == [
        ("outputs", "o", False), ("inputs", "lr", True), ("inputs", "x", False), ("name", "", False)]


def test_missing_input_uses_azure_words() -> None:
    with pytest.raises(SpecError) as info:
        validate_command("python t.py --k ${{inputs.k}}", inputs={"x": True}, outputs=())
    assert info.value.message == "Inputs to job does not contain 'k' referenced in command"
    assert "defined inputs: x" in (info.value.hint or "")


def test_missing_output_uses_azure_words() -> None:
    with pytest.raises(SpecError) as info:
        validate_command("cp a $<<outputs.model>>", inputs={}, outputs=("o",))
    assert info.value.message == "Outputs to job does not contain 'model' referenced in command"


def test_missing_input_inside_optional_fragment_is_still_an_error() -> None:
    with pytest.raises(SpecError, match="Inputs to job does not contain 'lr'"):
        validate_command("t $[[--lr ${{inputs.lr}}]]", inputs={}, outputs=())


def test_input_without_value_outside_fragment_is_an_error() -> None:
    with pytest.raises(SpecError) as info:
        validate_command("t --lr ${{inputs.lr}}", inputs={"lr": False}, outputs=())
    assert "has no value" in info.value.message
    assert "$[[" in (info.value.hint or "")


def test_unknown_expression_is_an_error() -> None:
    with pytest.raises(SpecError) as info:
        validate_command("t ${{input.x}}", inputs={"x": True}, outputs=())
    assert "unknown expression '${{input.x}}'" in info.value.message


def test_fragment_without_input_is_an_error() -> None:
    with pytest.raises(SpecError, match="refers to no input"):
        find_references("t $[[ --verbose ]]")


def test_plain_shell_variables_are_left_alone() -> None:
    command = "echo $HOME ${USER} $((1+2))"
    assert validate_command(command, inputs={}, outputs=()) == []
    assert render_command(command, inputs={}, outputs={}, job_name="j") == command


def test_env_var_with_expression_warns() -> None:
    warnings = env_var_warnings({"A": "${{inputs.x}}", "B": "plain"})
    assert len(warnings) == 1 and "environment_variables.A" in warnings[0]
    assert "not substituted" in warnings[0]


def test_missing_reference_points_at_its_line(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: >-\n  python train.py\n  --data ${{inputs.data}}\n  --model ${{inputs.modle}}\n"
                   "environment: python:3.11\ninputs:\n  data:\n    path: d\n  model:\n    path: m\n")
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    assert str(info.value.where) == f"{job}:4:11"
    assert info.value.render().startswith(f"{job}:4:11: command: Inputs to job does not contain 'modle'")


def test_environment_variables_are_not_substituted_but_warned(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: echo $X\nenvironment: python:3.11\ninputs:\n  d:\n    path: d\n"
                   "environment_variables:\n  X: ${{inputs.d}}\n")
    spec = load_job_spec(job)
    assert spec.environment_variables == {"X": "${{inputs.d}}"}
    assert any(w.startswith(f"{job}:7:3:") and "not substituted" in w for w in spec.warnings)


def test_an_output_path_takes_the_jobs_name_the_outputs_name_and_the_default_datastore() -> None:
    from runner.spec.expressions import expand_output_path

    path = "azureml://datastores/${{default_datastore}}/paths/${{ name }}/${{output_name}}/x"
    assert expand_output_path(path, job_name="j1", output_name="model", default_datastore="ds") == (
        "azureml://datastores/ds/paths/j1/model/x")
    assert expand_output_path("./plain", job_name="j", output_name="o", default_datastore="d") == "./plain"
    with pytest.raises(SpecError, match=r"unknown expression '\$\{\{outputs.o\}\}' in an output path") as err:
        expand_output_path("a/${{outputs.o}}", job_name="j", output_name="o", default_datastore="d",
                           field="outputs.o.path")
    assert err.value.field == "outputs.o.path" and "${{output_name}}" in (err.value.hint or "")
