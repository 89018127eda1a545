"""A pipeline step (``node = component(...)``) has azure.ai.ml's node setters: ``set_limits`` and
``set_resources`` write the step's ``limits`` / ``resources`` (kept fields stay), with the keyword checks
a built job's have; ``node.sweep(...)`` is the one sweep error, not an AttributeError."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Input, Output, command, dsl
from runner.entities import JobResourceConfiguration
from runner.errors import SpecError


def _step_component() -> object:
    return command(inputs={"text": Input(type="uri_folder")}, outputs={"out": Output(type="uri_folder")},
                   command="cp -r ${{inputs.text}} ${{outputs.out}}", environment="runner/python:3.11",
                   name="copy")


def test_set_limits_and_set_resources_reach_the_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy = _step_component()

    @dsl.pipeline()
    def p(words):  # type: ignore[no-untyped-def]
        step = copy(text=words)  # type: ignore[operator]
        step.resources = JobResourceConfiguration(instance_count=1)
        step.set_limits(timeout=600)
        step.set_resources(shm_size="1g")
        return {"result": step.outputs.out}

    step = p(words=Input(type="uri_folder", path="./data")).to_dict()["jobs"]["step"]
    assert step["limits"] == {"timeout": 600}
    assert step["resources"] == {"instance_count": 1, "shm_size": "1g"}


def test_node_setter_keywords_and_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    node = _step_component()(text=Input(type="uri_folder", path="./data"))  # type: ignore[operator]
    with pytest.raises(SpecError, match="set_limits.*'timout'.*did you mean 'timeout'"):
        node.set_limits(timout=3)
    with pytest.raises(SpecError, match="set_resources.*'shm'"):
        node.set_resources(shm="1g")
    with pytest.raises(SpecError, match=r"<step>\.sweep\(\.\.\.\): sweep jobs are not supported here"):
        node.sweep(primary_metric="acc", goal="maximize")
