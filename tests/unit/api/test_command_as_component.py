"""A job built with ``command(...)`` is also a component, as in azure.ai.ml: an input may have no path at
build time (it is a component input), ``job.component`` is a ``CommandComponent`` to register, and calling
the job makes a pipeline step. A command job submitted with an input that has no value is refused at
submit time, with one ``SpecError`` naming the input."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Input, MLClient, Output, command, dsl
from runner.components import CommandComponent
from runner.dsl_nodes import CommandNode
from runner.errors import SpecError

COMMAND = "tr a-z A-Z < ${{inputs.text}}/word.txt > ${{outputs.out}}/word.txt"


def _upper(**kwargs: object) -> object:
    return command(inputs={"text": Input(type="uri_folder")},
                   outputs={"out": Output(type="uri_folder", mode="rw_mount")},
                   command=COMMAND, environment="runner/busybox:latest", **kwargs)


def test_an_input_without_a_path_is_a_component_input() -> None:
    job = _upper(name="upper")
    assert callable(job)
    component = job.component  # type: ignore[attr-defined]
    assert isinstance(component, CommandComponent)
    assert component.spec.name == "upper" and component.spec.version is None
    assert component.spec.inputs["text"].path is None  # type: ignore[union-attr]
    assert component.spec.outputs["out"].mode.value == "rw_mount"
    assert component.spec.command == COMMAND and component.spec.environment == "runner/busybox:latest"


def test_a_nameless_command_gets_azures_component_name() -> None:
    assert _upper().component.spec.name == "azureml_anonymous"  # type: ignore[attr-defined]


def test_calling_the_job_makes_a_pipeline_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    up = _upper(name="upper", compute="local-process", tags={"k": "v"})

    @dsl.pipeline()
    def p(words):  # type: ignore[no-untyped-def]
        step = up(text=words)
        assert isinstance(step, CommandNode)
        return {"result": step.outputs.out}

    data = p(words=Input(type="uri_folder", path="./data")).to_dict()
    step = data["jobs"]["step"]
    assert step["inputs"] == {"text": "${{parent.inputs.words}}"}
    assert step["outputs"] == {"out": "${{parent.outputs.result}}"}
    assert step["component"]["command"] == COMMAND and step["component"]["name"] == "upper"
    assert step["compute"] == "local-process" and step["tags"] == {"k": "v"}
    assert data["inputs"]["words"]["path"] == str(tmp_path / "data")


def test_a_built_path_is_the_steps_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    job = command(inputs={"text": Input(type="uri_folder", path="./in"), "n": 3},
                  command="cat ${{inputs.text}} ${{inputs.n}}", environment="img:1")
    assert job.component.spec.inputs["n"].default == 3  # type: ignore[attr-defined,union-attr]
    assert job.component.spec.inputs["text"].path is None  # type: ignore[attr-defined,union-attr]

    @dsl.pipeline()
    def p():  # type: ignore[no-untyped-def]
        job()
        job(text=Input(type="uri_file", path="./other"))

    steps = p().to_dict()["jobs"]
    first, second = steps.values()
    assert first["inputs"]["text"]["path"] == str(tmp_path / "in")
    assert second["inputs"]["text"]["path"] == str(tmp_path / "other")


def test_calling_takes_inputs_by_known_name() -> None:
    with pytest.raises(SpecError, match="has no input 'txet'"):
        _upper(name="upper")(txet="x")  # type: ignore[operator]
    with pytest.raises(SpecError, match="by name"):
        _upper(name="upper")("x")  # type: ignore[operator]


def test_the_component_registers(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    job = _upper(name="upper")
    first = ml_client.create_or_update(job.component)  # type: ignore[attr-defined]
    assert isinstance(first, CommandComponent) and first.id == "azureml:upper:1"
    again = ml_client.components.create_or_update(job.component)  # type: ignore[attr-defined]
    assert again.id == "azureml:upper:1"  # no version given and unchanged: that one, as component create
    assert [c.id for c in ml_client.components.list("upper")] == ["azureml:upper:1"]


def test_submitting_a_job_with_an_input_without_a_value_is_one_error(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError, match="input 'text' has no path") as raised:
        ml_client.jobs.create_or_update(_upper(name="upper"))
    assert raised.value.field == "inputs.text"
    assert "path" in (raised.value.hint or "")
    assert ml_client.jobs.list() == []
    literal = command(inputs={"n": Input(type="integer")}, command="echo ${{inputs.n}}", environment="img:1")
    with pytest.raises(SpecError, match="input 'n' has no value"):
        ml_client.jobs.create_or_update(literal)
