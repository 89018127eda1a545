"""A built job is mutable as azure.ai.ml's: settings written after ``command(...)`` reach its spec (what
is submitted and dumped), each checked; a setting that does not exist is refused, never ignored. Model
and Data take azure.ai.ml's argument types, and a wrong one is one ``SpecError`` naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Data, Input, Model, Output, command
from runner.entities import Command, Environment
from runner.errors import ModeError, SpecError


def _job() -> Command:
    return command(command="ls ${{inputs.d}} ${{outputs.o}} ${{inputs.n}}", environment="img:1",
                   inputs={"d": Input(type="uri_folder", path="data"), "n": 3},
                   outputs={"o": Output(type="uri_folder")})


def test_settings_written_after_building_reach_the_spec() -> None:
    job = _job()
    job.display_name = "shown"
    job.experiment_name = "exp"
    job.description = "about"
    job.tags = {"k": "v"}
    job.environment_variables = {"A": 1}
    job.compute = "local-process"
    job.inputs["d"].path = "tables"
    job.inputs["n"] = 5
    job.outputs["o"].mode = "rw_mount"
    spec = job.spec
    assert (spec.display_name, spec.experiment_name, spec.description) == ("shown", "exp", "about")
    assert spec.tags == {"k": "v"} and spec.environment_variables == {"A": "1"}
    assert spec.compute == "local-process"
    data = spec.to_yaml_dict()
    assert data["inputs"]["d"]["path"] == "tables" and data["inputs"]["n"] in (5, {"value": 5})
    assert data["outputs"]["o"]["mode"] == "rw_mount"
    dumped = job.to_dict()
    assert dumped["inputs"]["d"]["path"] == "tables" and dumped["outputs"]["o"]["mode"] == "rw_mount"


def test_edits_keep_reaching_the_spec_after_it_was_read() -> None:
    job = _job()
    data = job.inputs["d"]
    data.path = "one"
    assert job.to_dict()["inputs"]["d"]["path"] == "one"
    data.path = "two"
    assert job.to_dict()["inputs"]["d"]["path"] == "two"
    job.inputs = {"d": Input(path="three"), "n": 1}
    assert job.to_dict()["inputs"]["d"]["path"] == "three"


def test_inline_environment_edits_reach_the_spec() -> None:
    job = command(command="ls", environment=Environment(image="a:1"))
    job.environment.image = "b:2"  # type: ignore[union-attr]
    assert job.spec.environment.image == "b:2"  # type: ignore[union-attr]
    job.environment = "c:3"
    assert job.spec.environment == "c:3"


def test_inputs_and_outputs_read_as_attributes() -> None:
    job = _job()
    assert job.inputs.d.path == "data" and job.inputs.n == 3
    assert job.outputs.o.type == "uri_folder"
    with pytest.raises(AttributeError, match="no entry named 'x'"):
        job.inputs.x  # noqa: B018


def test_a_bad_setting_is_one_spec_error() -> None:
    job = _job()
    with pytest.raises(SpecError, match="no setting 'dispaly_name'") as raised:
        job.dispaly_name = "x"
    assert "display_name" in str(raised.value)  # did you mean
    with pytest.raises(SpecError) as raised:
        job.tags = ["a"]
    assert raised.value.field == "tags"
    job.outputs["o"].mode = "eval_mount"
    with pytest.raises(ModeError):
        job.spec  # noqa: B018
    pathless = command(command="ls", environment="img:1")
    pathless.inputs = {"x": Input()}  # a component input, as in azure.ai.ml: refused when submitted
    assert pathless.spec.inputs["x"].has_value is False


def test_model_and_data_take_a_pathlike(tmp_path: Path) -> None:
    assert Model(name="m", path=Path("data")).path == "data"  # type: ignore[arg-type]
    assert Data(name="d", path=tmp_path).path == str(tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize(("entity", "kwargs", "field"), [
    (Model, {"name": "m", "path": "p", "description": 5}, "description"),
    (Model, {"name": "m", "path": "p", "tags": ["a"]}, "tags"),
    (Data, {"name": "d", "path": "p", "version": [1]}, "version"),
])
def test_a_wrong_field_type_on_an_asset_is_one_spec_error(entity: type, kwargs: dict[str, object],
                                                            field: str) -> None:
    with pytest.raises(SpecError) as raised:
        entity(**kwargs)
    assert raised.value.field == field


def test_command_inputs_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="inputs must be a mapping of name to Input") as raised:
        command(command="ls", environment="img:1", inputs=[Input(path="x")])  # type: ignore[arg-type]
    assert raised.value.field == "inputs"
    with pytest.raises(SpecError, match="outputs must be a mapping of name to Output"):
        command(command="ls", environment="img:1", outputs=[Output()])  # type: ignore[arg-type]


@pytest.mark.parametrize("group", ["inputs", "outputs"])
def test_an_undeclared_input_or_output_set_by_attribute_is_one_error(group: str) -> None:
    """As azure.ai.ml's: ``job.outputs.foo = ...`` for an output the job does not declare is refused,
    naming the ones it has (never a silent new attribute or entry); a declared one is set."""
    job = _job()
    kind, known = group[:-1], {"inputs": "d, n", "outputs": "o"}[group]
    with pytest.raises(SpecError) as raised:
        getattr(job, group).foo = Output() if group == "outputs" else 1
    err = raised.value
    assert err.message == f"the job has no {kind} 'foo'; its {group}: {known}", str(err)
    assert err.field == f"{group}.foo" and err.hint and f"{group}=" in err.hint
    assert "foo" not in getattr(job, group) and "foo" not in getattr(job.spec, group)
    with pytest.raises(SpecError, match="did you mean 'o'"):
        job.outputs.oo = Output()
    job.outputs.o = Output(type="uri_file", mode="upload")
    job.inputs.n = 7
    assert job.spec.outputs["o"].type.value == "uri_file" and job.spec.outputs["o"].mode.value == "upload"
    assert job.to_dict()["inputs"]["n"] in (7, {"value": 7})
