"""An ``mlflow_model`` output that fails to register (the job wrote no MLmodel file) fails its job with a
hint in the job's words: write the folder MLflow saves to the output, or set the output's ``type:
custom_model`` (a Python caller reads ``type=AssetTypes.CUSTOM_MODEL``), never ``runner model create``'s
``--type custom_model`` flag, which registering a model from the CLI keeps. The job runs as a host process
(``compute="local-process"``); every file and workspace is in tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner import MLClient, Model, Output, command
from runner.errors import JobFailedError, RegistryError

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
JOB_HINT = "set the output's `type: custom_model`"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def test_a_jobs_mlflow_output_without_mlmodel_hints_the_outputs_type(ml_client: MLClient) -> None:
    job = command(command="echo weights > ${{outputs.m}}/model.pkl", environment="runner/busybox:latest",
                  compute="local-process", name="mlf1",
                  outputs={"m": Output(type="mlflow_model", name="walk-mlflow")})
    ml_client.jobs.create_or_update(job, stream=True, echo=lambda _: None)
    recorded = ml_client.workspace.get_job("mlf1").error or ""  # the CLI's words: `runner job show`
    assert "has no MLmodel file, so it is not an mlflow_model" in recorded, recorded
    assert JOB_HINT in recorded and "--type" not in recorded, recorded
    with pytest.raises(JobFailedError) as info:
        ml_client.jobs.stream("mlf1", echo=lambda _: None)
    said = str(info.value)  # a Python caller's words
    assert "type=AssetTypes.CUSTOM_MODEL" in said and not CLI_FORMS.search(said), said
    assert "type=AssetTypes.CUSTOM_MODEL" in (ml_client.jobs.get("mlf1").error or "")


def test_registering_a_model_keeps_its_own_words(ml_client: MLClient, tmp_path: Path) -> None:
    """``runner model create`` (``err.render()``, the CLI's words) keeps its flag; Python its keyword."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.pkl").write_text("weights")
    with pytest.raises(RegistryError) as info:
        ml_client.models.create_or_update(Model(name="m1", path=str(tmp_path / "m"), type="mlflow_model"))
    assert "or use --type custom_model" in info.value.render() and JOB_HINT not in info.value.render()
    assert "give type=AssetTypes.CUSTOM_MODEL" in str(info.value)


def test_the_not_an_mlflow_model_error_copies_whole() -> None:
    """The web UI words an error on a copy (``copy.copy``, which calls the class with the message only):
    the copy keeps every hint."""
    import copy

    from runner.workspace.registry import NotThatModelType

    err = NotThatModelType("no MLmodel", hint="cli", python_hint="py", job_hint="job")
    copied = copy.copy(err)
    assert (str(copied.args[0]), copied.hint, copied.python_hint) == ("no MLmodel", "cli", "py")
    assert copied.job_hint == "job"
