"""A malformed expression in a command is refused at validate (file:line:col, field), never left for
bash to fail on at run time; a shell ``${VAR}`` is not an expression."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.expressions import render_command, validate_command
from runner.spec.load import load_job_spec

INPUTS = {"my_model": True}


@pytest.mark.parametrize(("command", "shown", "fixed"), [
    ("python x.py ${{inputs.my_model}", "${{inputs.my_model}", "${{inputs.my_model}}"),
    ("python x.py ${{inputs.my_model", "${{inputs.my_model", "${{inputs.my_model}}"),
    ("python x.py ${{ inputs.my_model } --v", "${{ inputs.my_model }", "${{inputs.my_model}}"),
    ("a ${{inputs.my_model} b ${{inputs.my_model}}", "${{inputs.my_model}", "${{inputs.my_model}}"),
    ("python x.py $<<inputs.my_model>", "$<<inputs.my_model>", "$<<inputs.my_model>>"),
    ("python x.py $<<inputs.my_model", "$<<inputs.my_model", "$<<inputs.my_model>>"),
])
def test_an_unclosed_expression_is_refused(command: str, shown: str, fixed: str) -> None:
    with pytest.raises(SpecError) as info:
        validate_command(command, inputs=INPUTS, outputs=())
    assert info.value.field == "command"
    assert f"'{shown}' in command is not closed" in info.value.message
    assert info.value.hint and info.value.hint.startswith(f"write {fixed} ")


def test_an_unclosed_optional_fragment_is_refused() -> None:
    with pytest.raises(SpecError, match=r"'\$\[\[' needs its '\]\]'"):
        validate_command("t $[[--lr ${{inputs.my_model}}", inputs=INPUTS, outputs=())


@pytest.mark.parametrize("command", [
    "echo ${HOME} ${VAR:-x} ${#ARR[@]} ${{inputs.my_model}}", "echo ${A:-${B}} $((1+2))", "echo '}}' '>>'",
    "python x.py ${{inputs.my_model}}}", "cat <<EOF",
])
def test_shell_text_is_not_an_expression(command: str) -> None:
    validate_command(command, inputs=INPUTS, outputs=())


def test_shell_text_renders_unchanged() -> None:
    command = "echo ${HOME} ${VAR:-x} ${{inputs.my_model}}"
    rendered = render_command(command, inputs={"my_model": "/m"}, outputs={}, job_name="j")
    assert rendered == "echo ${HOME} ${VAR:-x} /m"


@pytest.mark.parametrize(("written", "meant"), [
    ("${{input.my_model}}", "${{inputs.my_model}}"), ("${{ouputs.o}}", "${{outputs.o}}"),
    ("$<<input.my_model>>", "$<<inputs.my_model>>"), ("${{nmae}}", "${{name}}"),
])
def test_a_misspelled_kind_says_what_was_meant(written: str, meant: str) -> None:
    with pytest.raises(SpecError) as info:
        validate_command(f"t {written}", inputs=INPUTS, outputs=("o",))
    assert info.value.message == f"unknown expression '{written}' in command (did you mean '{meant}'?)"


def test_no_guess_for_an_unrelated_expression() -> None:
    with pytest.raises(SpecError) as info:
        validate_command("t ${{secrets.key}}", inputs=INPUTS, outputs=())
    assert "did you mean" not in info.value.message


@pytest.mark.parametrize("command", ["python x.py ${{inputs.my_model}", "python x.py ${{inputs.my_model"])
def test_the_error_points_at_the_file_line_and_column(tmp_path: Path, command: str) -> None:
    job = tmp_path / "job.yml"
    job.write_text(f"environment: python:3.11\ncommand: {command}\ninputs:\n  my_model:\n"
                   "    type: uri_folder\n    path: m\n")
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    assert info.value.render().startswith(f"{job}:2:22: command: the expression '${{{{inputs.my_model")
