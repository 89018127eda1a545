"""What a ``@dsl.pipeline`` step may take as an input beyond a pipeline input and ``step.outputs.<x>``:
a step itself (Azure takes its only output; a step with several outputs is one error listing them),
as it is when returned as a pipeline output. A
``@dsl.pipeline`` function called inside another (a nested pipeline, not supported here) is one error
naming the step and the sub-pipeline, at the line of the call."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Input, Output, command, dsl
from runner.errors import SpecError


def _component(outputs: tuple[str, ...] = ("out",)) -> object:
    return command(name="upper", inputs={"text": Input(type="uri_folder")},
                   outputs={o: Output(type="uri_folder") for o in outputs},
                   command="cp -r ${{inputs.text}} " + " ".join(f"${{{{outputs.{o}}}}}" for o in outputs),
                   environment="runner/busybox:latest")


def test_a_step_given_as_an_input_is_its_only_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    upper = _component()

    @dsl.pipeline()
    def p(words):  # type: ignore[no-untyped-def]
        first = upper(text=words)  # type: ignore[operator]
        second = upper(text=first)  # type: ignore[operator]
        return {"result": second.outputs.out}

    steps = p(words=Input(type="uri_folder", path="./data")).to_dict()["jobs"]
    assert steps["second"]["inputs"] == {"text": "${{parent.jobs.first.outputs.out}}"}


def test_a_step_with_several_outputs_is_refused_as_an_input() -> None:
    two = _component(("model", "metrics"))
    upper = _component()

    @dsl.pipeline()
    def p(words):  # type: ignore[no-untyped-def]
        train = two(text=words)  # type: ignore[operator]
        upper(text=train)  # type: ignore[operator]

    with pytest.raises(SpecError) as caught:
        p(words=Input(type="uri_folder", path="/tmp"))
    message = str(caught.value)
    assert "input 'text' is given a step (component 'upper') with 2 outputs: model, metrics" in message
    assert caught.value.field == "text"
    assert ".outputs.model" in (caught.value.hint or "")


def test_a_nested_pipeline_names_the_step_and_the_sub_pipeline() -> None:
    upper = _component()

    @dsl.pipeline()
    def inner(words):  # type: ignore[no-untyped-def]
        step = upper(text=words)  # type: ignore[operator]
        return {"out": step.outputs.out}

    @dsl.pipeline()
    def outer(words):  # type: ignore[no-untyped-def]
        shouted = inner(words=words)
        return {"result": shouted.outputs.out}

    with pytest.raises(SpecError) as caught:
        outer(words=Input(type="uri_folder", path="/tmp"))
    error = caught.value
    assert "nested pipelines are not supported" in str(error)
    assert "step 'shouted' of @pipeline 'outer' calls the @pipeline function 'inner'" in str(error)
    assert error.where is not None and error.where.file == Path(__file__) and error.where.line
    assert "PipelineInput" not in str(error) and "inner" in (error.hint or "")


def test_a_step_returned_as_a_pipeline_output_is_its_only_output() -> None:
    upper = _component()

    @dsl.pipeline()
    def p(words):  # type: ignore[no-untyped-def]
        shout = upper(text=words)  # type: ignore[operator]
        return {"result": shout}

    data = p(words=Input(type="uri_folder", path="/tmp")).to_dict()
    assert "result" in data["outputs"]
    assert data["jobs"]["shout"]["outputs"] == {"out": "${{parent.outputs.result}}"}


def test_a_step_with_several_outputs_is_refused_as_a_pipeline_output() -> None:
    two = _component(("model", "metrics"))

    @dsl.pipeline()
    def p(words):  # type: ignore[no-untyped-def]
        train = two(text=words)  # type: ignore[operator]
        return {"result": train}

    with pytest.raises(SpecError) as caught:
        p(words=Input(type="uri_folder", path="/tmp"))
    message = str(caught.value)
    assert "pipeline output 'result' is given a step (component 'upper') with 2 outputs: model, metrics" \
        in message
    assert ".outputs.model" in (caught.value.hint or "")
