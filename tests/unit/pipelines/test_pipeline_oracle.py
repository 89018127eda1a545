"""Oracle: every pipeline YAML of the Azure ML examples' basics and of samples/jobs, and a ``@pipeline``
built with ``runner.dsl``, read the way azure-ai-ml reads them: the same steps, and for each step the same
inputs and outputs with the same bindings (``${{parent...}}``), literals and paths.

azure-ai-ml is a test oracle only; the package never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from repo_paths import EXAMPLES, REPO

from runner.spec.pipeline import load_pipeline_spec
from runner.spec.yamlio import load_yaml

azure_ml = pytest.importorskip("azure.ai.ml", reason="azure-ai-ml (dev extra) is the oracle")

BASICS = EXAMPLES / "cli" / "jobs" / "pipelines-with-components" / "basics"


def _pipelines() -> list[Path]:
    found = [p for p in sorted(BASICS.rglob("pipeline*.yml"))] if BASICS.is_dir() else []
    found += [p for p in sorted((REPO / "samples" / "jobs").glob("*.yml"))
              if load_yaml(p).data.get("type") == "pipeline"]
    return found


PIPELINES = _pipelines()


@pytest.mark.examples
def test_there_are_pipelines_to_compare() -> None:
    assert len([p for p in PIPELINES if BASICS in p.parents]) >= 17


def _plain(value: Any) -> Any:
    """A step's value as azure-ai-ml keeps it (``NodeInput._data``), reduced to comparable data."""
    data = getattr(value, "_data", value)
    if isinstance(data, str | int | float | bool) or data is None:
        return data
    fields = {k: getattr(data, k, None) for k in ("path", "mode")}
    if not any(fields.values()) and isinstance(data, dict):
        fields = {k: data.get(k) for k in ("path", "mode")}
    return {k: v for k, v in fields.items() if v is not None}


def _ours_value(value: Any) -> Any:
    """Ours as azure keeps it (``azureml:<name>@latest`` without its ``azureml:``)."""
    if isinstance(value, dict):
        return {k: _short_ref(v) if k == "path" else v for k, v in value.items()
                if k in ("path", "mode") and v is not None}
    return value


def _short_ref(path: Any) -> Any:
    if isinstance(path, str) and path.startswith("azureml:") and not path.startswith("azureml://"):
        return path[len("azureml:"):]
    return path


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_steps_and_bindings_match_azure(path: Path) -> None:
    theirs = azure_ml.load_job(path)
    ours = load_pipeline_spec(path)
    assert sorted(theirs.jobs) == sorted(ours.jobs)
    for name, node in theirs.jobs.items():
        entry = ours.jobs[name]
        their_inputs = {k: _plain(v) for k, v in node.inputs.items() if _plain(v) not in (None, {})}
        assert their_inputs == {k: _ours_value(v) for k, v in entry.inputs.items()}, name
        their_outputs = {k: _plain(v) for k, v in node.outputs.items() if _plain(v) not in (None, {})}
        assert their_outputs == {k: _ours_value(v) for k, v in entry.outputs.items()
                                 if _ours_value(v) not in (None, {})}, name
    assert sorted(theirs.inputs) == sorted(ours.inputs)
    assert sorted(theirs.outputs) == sorted(ours.outputs)
    assert theirs.settings.default_compute == (ours.settings.default_compute or "").removeprefix(
        "azureml:") or (theirs.settings.default_compute is None and ours.settings.default_compute is None)


def _body(train: Any, score: Any) -> Any:
    def train_and_score(max_iter=300, data=None):  # type: ignore[no-untyped-def]
        # (no annotations: azure's dsl reads them, and under `from __future__ import annotations` they are
        # strings it refuses)
        trained = train(max_iter=max_iter)
        trained.outputs.model.mode = "upload"
        scored = score(model=trained.outputs.model)
        return {"model": trained.outputs.model, "metrics": scored.outputs.metrics}

    return train_and_score


def _build_both(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same function built with azure.ai.ml.dsl and runner.dsl."""
    from azure.ai.ml import Input as AzureInput
    from azure.ai.ml.dsl import pipeline as azure_pipeline

    from runner import Input, load_component
    from runner.dsl import pipeline

    folder = REPO / "samples" / "jobs" / "pipeline"
    built = {}
    for kind, load, decorate, input_type in (
            ("azure", azure_ml.load_component, azure_pipeline, AzureInput),
            ("ours", load_component, pipeline, Input)):
        body = _body(load(source=str(folder / "train.yml")), load(source=str(folder / "score.yml")))
        job = decorate(body, force_rerun=True, default_compute="local-process")(
            max_iter=400, data=input_type(type="uri_folder", path=str(tmp_path)))
        built[kind] = job._to_dict() if kind == "azure" else job.to_dict()
    return built["azure"], built["ours"]


def _binding(value: Any) -> Any:
    return value.get("path", value) if isinstance(value, dict) else value


def test_dsl_builds_what_azure_builds(tmp_path: Path) -> None:
    theirs, ours = _build_both(tmp_path)
    assert sorted(theirs["jobs"]) == sorted(ours["jobs"]) == ["scored", "trained"]
    for name in theirs["jobs"]:
        assert {k: _binding(v) for k, v in theirs["jobs"][name]["inputs"].items()} == \
            {k: _binding(v) for k, v in ours["jobs"][name]["inputs"].items()}
        assert {k: _binding(v) for k, v in theirs["jobs"][name]["outputs"].items()} == \
            {k: _binding(v) for k, v in ours["jobs"][name]["outputs"].items()}
    assert theirs["inputs"]["max_iter"] == ours["inputs"]["max_iter"] == 400
    assert theirs["settings"]["force_rerun"] is ours["settings"]["force_rerun"] is True
    their_compute = theirs["settings"]["default_compute"]
    assert their_compute.removeprefix("azureml:") == ours["settings"]["default_compute"]
    assert sorted(theirs["inputs"]) == sorted(ours["inputs"]) == ["data", "max_iter"]
    assert theirs["outputs"]["model"]["mode"] == ours["outputs"]["model"]["mode"] == "upload"
