"""Bad input says what is wrong in the user's words: an unknown job ``type`` (not the fields that follow
from it), a step name (not an input/output name), a default below ``min`` (not an interval), an unknown
component with a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from runner.errors import ResolveError, SpecError
from runner.spec.component import load_component_spec
from runner.spec.load import load_job_spec
from runner.spec.pipeline import StepName, load_pipeline_spec
from runner.spec.validation import from_validation_error
from runner.spec.yamlio import load_yaml
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace


@pytest.mark.parametrize(("written", "suggested"), [("pipline", "pipeline"), ("comand", "command"),
                                                    ("Sweep", "sweep")])
def test_an_unknown_job_type_is_named_with_the_allowed_ones(tmp_path: Path, written: str,
                                                            suggested: str) -> None:
    job = tmp_path / "p1.yml"
    job.write_text(f"type: {written}\nsettings:\n  default_compute: local-process\njobs: {{}}\n")
    with pytest.raises(SpecError) as caught:
        load_job_spec(job)
    rendered = caught.value.render()
    assert f"p1.yml:1:1: type: unknown job type '{written}' (did you mean '{suggested}'?)" in rendered
    assert "command, pipeline" in rendered and "settings" not in rendered


class _Steps(BaseModel):
    jobs: dict[StepName, int]


def test_a_bad_step_name_is_called_a_step_name(tmp_path: Path) -> None:
    pipeline = tmp_path / "p1.yml"
    pipeline.write_text('jobs:\n  "train job": 1\n')
    doc = load_yaml(pipeline)
    with pytest.raises(ValidationError) as caught:
        _Steps.model_validate(doc.data)
    error = from_validation_error(caught.value, root=_Steps, data=doc.data, doc=doc)
    assert "'train job' is not a valid step name" in error.render()
    assert "input/output" not in error.render() and "train_job" in (error.hint or "")
    assert _Steps.model_validate({"jobs": {"train-job_2": 1}}).jobs == {"train-job_2": 1}


@pytest.mark.parametrize(("literal", "message"), [
    ("{type: integer, default: 2, min: 5}", "the default 2 is below min 5"),
    ("{type: integer, default: 9, min: 1, max: 5}", "the default 9 is above max 5"),
    ("{type: number, value: 0.5, min: 1}", "the value 0.5 is below min 1"),
])
def test_a_value_out_of_range_says_which_bound(tmp_path: Path, literal: str, message: str) -> None:
    job = tmp_path / "job.yml"
    job.write_text(f"command: echo ${{{{inputs.n}}}}\nenvironment: python:3.11\ninputs:\n  n: {literal}\n")
    with pytest.raises(SpecError) as caught:
        load_job_spec(job)
    assert message in caught.value.render() and "None" not in caught.value.render()


def test_an_unknown_component_gets_a_did_you_mean(tmp_path: Path) -> None:
    store = ComponentStore(Workspace(tmp_path / "ws"))
    with pytest.raises(ResolveError) as caught:
        store.get("uper")
    assert "unknown component 'uper'" in str(caught.value)
    source = tmp_path / "upper.yml"
    source.write_text("name: upper\ncommand: echo hi\nenvironment: python:3.11\n")
    store.create(load_component_spec(source))
    with pytest.raises(ResolveError) as caught:
        store.get("uper")
    assert "unknown component 'uper' (did you mean 'upper'?)" in str(caught.value)


def test_a_pipeline_step_named_with_a_space_is_called_a_step_name(tmp_path: Path) -> None:
    pipeline = tmp_path / "p1.yml"
    pipeline.write_text('type: pipeline\njobs:\n  "train job":\n    type: command\n    command: echo hi\n'
                        '    environment: python:3.11\n')
    with pytest.raises(SpecError) as caught:
        load_pipeline_spec(pipeline)
    rendered = caught.value.render()
    assert "'train job' is not a valid step name" in rendered and "p1.yml:3:" in rendered, rendered
    assert "input/output" not in rendered
