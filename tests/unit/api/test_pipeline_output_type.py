"""A pipeline's output reads the type of the step output it is bound to, as azure.ai.ml's: a
``@dsl.pipeline`` returning a step's ``custom_model`` output has a ``custom_model`` output (built, and in
the job ``ml_client.jobs`` returns), and so does a YAML pipeline whose output gives no type (the job read
back takes it from the step the pipeline ran). A type given to the pipeline's output wins. The pipelines
are queued, not run (their orchestrator is not started); every file is in tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner import MLClient, Output, load_component, load_job
from runner.dsl import pipeline
from runner.pipelines import submit

COMPONENT = """\
name: train_model
version: 1
type: command
outputs:
  model_output:
    type: custom_model
  report:
    type: uri_folder
environment:
  image: runner/busybox:latest
command: echo hi > ${{outputs.model_output}}/m.txt
"""


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(submit, "start_orchestrator", lambda ws, name: 0)  # queued, not run
    (tmp_path / "train.yml").write_text(COMPONENT)
    return MLClient(workspace_dir=tmp_path / "ws")


def test_a_dsl_pipelines_output_has_its_steps_type(ml_client: MLClient) -> None:
    train = load_component(source="train.yml")

    @pipeline(default_compute="local-process")
    def pipe():  # type: ignore[no-untyped-def]
        t = train()
        return {"trained": t.outputs.model_output, "report": t.outputs.report}

    built = pipe()
    assert (built.outputs.trained.type, built.outputs.report.type) == ("custom_model", "uri_folder")
    returned = ml_client.jobs.create_or_update(built, name="p1")
    assert returned.outputs.trained.type == "custom_model"
    assert ml_client.jobs.get("p1").outputs.trained.type == "custom_model"


def test_a_type_given_to_the_pipelines_output_wins(ml_client: MLClient) -> None:
    train = load_component(source="train.yml")

    @pipeline(default_compute="local-process")
    def pipe():  # type: ignore[no-untyped-def]
        t = train()
        t.outputs.report = Output(type="uri_folder", mode="upload")
        return {"report": t.outputs.report}

    assert pipe().outputs.report.type == "uri_folder"


def test_a_yaml_pipelines_untyped_output_reads_its_steps_type(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(textwrap.dedent("""\
        type: pipeline
        settings: {default_compute: local-process}
        outputs:
          trained:
        jobs:
          t:
            type: command
            component: ./train.yml
            outputs:
              model_output: ${{parent.outputs.trained}}
        """))
    ml_client.jobs.create_or_update(load_job("p.yml"), name="p2")
    assert ml_client.jobs.get("p2").outputs.trained.type == "custom_model"
