"""A loaded or built ``PipelineJob``'s inputs and outputs are edited the azure.ai.ml way (item and
attribute assignment, a plain value or an ``Input``, ``job.outputs.x.mode = ...``); the edits reach the
spec that is submitted, and a value that is not an input is one ``SpecError``, never an assertion."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

from runner import Input, Output, load_job
from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.spec.job_io import AssetInput, LiteralInput
from runner.workspace.db import Workspace

SAMPLE = REPO / "samples" / "jobs" / "pipeline-train-score-register.yml"


def _loaded() -> Any:
    return load_job(SAMPLE)


def _step_input(job: Any, tmp_path: Path, step: str, name: str) -> Any:
    graph = build_graph(job.pipeline_spec(), Workspace(tmp_path / "ws"), pipeline_name="p")
    return graph.steps[step].spec.inputs[name]


def test_a_plain_value_set_by_item_or_attribute_reaches_the_steps(tmp_path: Path) -> None:
    job = _loaded()
    job.inputs["max_iter"] = 5
    assert _step_input(job, tmp_path, "train", "max_iter").effective == 5
    job.inputs.max_iter = 6
    assert job.inputs.max_iter == 6
    assert job.to_dict()["inputs"]["max_iter"] == 6
    assert _step_input(job, tmp_path, "train", "max_iter").effective == 6


def test_an_input_entity_is_accepted(tmp_path: Path) -> None:
    job = _loaded()
    job.inputs["max_iter"] = Input(type="integer", default=7)
    assert isinstance(job.pipeline_spec().inputs["max_iter"], LiteralInput)
    assert _step_input(job, tmp_path, "train", "max_iter").effective == 7
    job.inputs.min_accuracy = Input(type="uri_file", path=str(tmp_path / "x.txt"))
    assert isinstance(job.pipeline_spec().inputs["min_accuracy"], AssetInput)


def test_outputs_are_edited_in_place_without_warnings() -> None:
    job = _loaded()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        job.outputs["trained_model"].mode = "rw_mount"
        job.outputs.registered_model.version = "3"
        job.outputs.trained_model.path = "azureml://datastores/workspaceblobstore/paths/x/"
        data = job.to_dict()
    assert data["outputs"]["trained_model"]["mode"] == "rw_mount"
    assert data["outputs"]["trained_model"]["path"] == "azureml://datastores/workspaceblobstore/paths/x/"
    assert data["outputs"]["registered_model"]["version"] == "3"
    job.outputs.trained_model = Output(type="mlflow_model", mode="upload")
    assert job.pipeline_spec().outputs["trained_model"].mode is not None


def test_a_built_pipeline_is_edited_the_same_way(tmp_path: Path) -> None:
    from runner import load_component
    from runner.dsl import pipeline

    train = load_component(source=REPO / "samples" / "jobs" / "pipeline" / "train.yml")

    @pipeline
    def one(n):  # type: ignore[no-untyped-def]
        trained = train(max_iter=n)
        return {"model": trained.outputs.model}

    job = one(n=3)
    job.inputs.n = 9
    job.outputs.model.mode = "upload"
    assert _step_input(job, tmp_path, "trained", "max_iter").effective == 9
    assert job.to_dict()["outputs"]["model"]["mode"] == "upload"


@pytest.mark.parametrize("value", [[1, 2], object(), Output(type="uri_folder", name="x")])
def test_anything_else_is_one_spec_error(value: Any) -> None:
    job = _loaded()
    with pytest.raises(SpecError, match="max_iter"):
        job.inputs["max_iter"] = value
        job.pipeline_spec()


def test_a_bad_output_mode_is_one_spec_error() -> None:
    job = _loaded()
    job.outputs.trained_model.mode = "eval_mount"
    with pytest.raises(SpecError):
        job.pipeline_spec()
    with pytest.raises(AttributeError, match="no entry named 'nope'"):
        job.outputs.nope  # noqa: B018
