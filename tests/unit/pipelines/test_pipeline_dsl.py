"""``runner.dsl.pipeline`` and ``load_job`` of a pipeline: what a Python-built pipeline becomes (steps named
as azure-ai-ml names them, bindings, settings), checked the same way a YAML pipeline is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

from runner import Input, load_component, load_job
from runner.dsl import PipelineJob, pipeline
from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.workspace.db import Workspace

SAMPLE = REPO / "samples" / "jobs" / "pipeline"


def test_steps_are_named_after_variables_then_components(tmp_path: Path) -> None:
    train = load_component(source=SAMPLE / "train.yml")

    @pipeline(default_datastore="azureml:az", continue_on_step_failure=True)
    def twice(n):  # type: ignore[no-untyped-def]
        first = train(max_iter=n)
        train(max_iter=5)
        named = train(max_iter=6)
        named.name = "third"
        named.compute = "local-process"
        return {"model": first.outputs.model}

    job = twice(n=9)
    data = job.to_dict()
    assert list(data["jobs"]) == ["first", "sample_train", "third"]
    assert data["jobs"]["first"]["inputs"] == {"max_iter": "${{parent.inputs.n}}"}
    assert data["jobs"]["first"]["outputs"] == {"model": "${{parent.outputs.model}}"}
    assert data["jobs"]["third"]["compute"] == "local-process"
    assert data["inputs"] == {"n": 9}
    assert data["settings"] == {"default_datastore": "azureml:az", "continue_on_step_failure": True}
    graph = build_graph(job.pipeline_spec(), Workspace(tmp_path / "ws"), pipeline_name="p")
    assert graph.steps["first"].spec.outputs["model"].path == "azureml://datastores/az/paths/azureml/p-first/model/"


def test_inputs_become_absolute_where_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    score = load_component(source=SAMPLE / "score.yml")
    monkeypatch.chdir(tmp_path)

    @pipeline
    def one(model):  # type: ignore[no-untyped-def]
        score(model=model)

    job = one(model=Input(type="mlflow_model", path="./model"))
    assert job.to_dict()["inputs"]["model"]["path"] == str(tmp_path / "model")
    assert job.to_dict()["jobs"]["sample_score"]["inputs"] == {"model": "${{parent.inputs.model}}"}


def test_mistakes() -> None:
    score = load_component(source=SAMPLE / "score.yml")
    with pytest.raises(SpecError, match="has no input 'modle'"):
        score(modle=1)
    with pytest.raises(SpecError, match="by name"):
        score(1)

    @pipeline
    def returns_a_list():  # type: ignore[no-untyped-def]
        return [score(model=Input(path="x"))]

    with pytest.raises(SpecError, match="returns a dict of outputs"):
        returns_a_list()


def test_load_job_of_a_pipeline_yaml() -> None:
    job: Any = load_job(REPO / "samples" / "jobs" / "pipeline-train-score-register.yml")
    assert isinstance(job, PipelineJob)
    assert sorted(job.jobs) == ["register", "score", "train"]
    job.settings.force_rerun = True
    job.experiment_name = "other"
    assert job.pipeline_spec().settings.force_rerun is True and job.to_dict()["experiment_name"] == "other"


@pytest.mark.parametrize(("returned", "what"), [
    ("input", "pipeline input 'n'"),
    ("plain", "int"),
])
def test_returning_anything_but_a_step_output_is_one_clear_error(returned: str, what: str) -> None:
    train = load_component(source=SAMPLE / "train.yml")

    @pipeline
    def returns(n):  # type: ignore[no-untyped-def]
        first = train(max_iter=n)
        return {"model": first.outputs.model, "echo": n if returned == "input" else 3}

    with pytest.raises(SpecError) as raised:
        returns(n=9)
    err = raised.value
    assert "'echo'" in err.message and what in err.message
    assert err.hint is not None and "<step>.outputs.<name>" in err.hint
    assert err.field == "echo"
