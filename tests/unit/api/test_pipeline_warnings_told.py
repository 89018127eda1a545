"""A pipeline submitted from Python tells its warnings as a command job does
(``test_ignored_settings_told``): ``ml_client.jobs.create_or_update(pipeline)`` logs each warning of the
pipeline once (logger ``runner.pipelines.operations``), in Python's words, before it runs: a compute that
is not registered (``ml_client.compute.create_or_update(...)``, not ``runner compute create``), a setting
that is not a pipeline's, secrets in a step's ``environment_variables``, and the runner workspace a step's
code snapshot leaves out (one warning for the steps sharing the folder, as the compute's). The pipeline's
record, and so its log and ``runner job show``, holds them in the CLI's words; the CLI's submission
(``on_submitted``) logs nothing. The pipeline is not run here (its orchestrator is not started); every
file and workspace is in tmp_path."""

from __future__ import annotations

import logging
import re
import textwrap
from pathlib import Path

import pytest

from runner import MLClient, command, load_job
from runner.dsl import pipeline
from runner.pipelines import submit
from runner.pipelines.operations import PipelineJobOperations
from runner.spec.pipeline import load_pipeline_spec

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
PIPELINE = """\
type: pipeline
settings: {default_compute: azureml:gpu, bogus_setting: 1}
jobs:
  a:
    type: command
    code: .
    command: echo a
    environment: {image: runner/busybox:latest}
    environment_variables: {DB_PASSWORD: hunter2}
  b:
    type: command
    code: .
    command: echo b
    environment: {image: runner/busybox:latest}
"""
TOLD = {  # each warning, by words it has, and the Python words it is told in
    "compute 'gpu' is not registered": "`ml_client.compute.create_or_update({'name': 'gpu', 'type': 'ray', "
                                       "'address': 'http://<head>:8265'})` registers a Ray cluster) "
                                       "(steps a, b)",
    "settings.bogus_setting is not a pipeline setting": "is ignored",
    "DB_PASSWORD look like secrets": "`ml_client.datastores.create_or_update(...)`",
    "the code snapshot leaves out 'ws'": "(steps a, b)",
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(submit, "start_orchestrator", lambda ws, name: 0)  # queued, not run
    (tmp_path / "p.yml").write_text(PIPELINE)
    return tmp_path


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_each_warning_of_a_yaml_pipeline_is_logged_once_in_python_words(
        folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    ml_client = MLClient(workspace_dir=folder / "ws")
    with caplog.at_level(logging.WARNING):
        job = ml_client.jobs.create_or_update(load_job("p.yml"), name="p1")
    assert job.status == "Queued"
    told = _told(caplog)
    for about, words in TOLD.items():
        said = [t for t in told if about in t]
        assert len(said) == 1 and words in said[0], (about, told)
    assert len(told) == len(TOLD), told
    assert not [t for t in told if CLI_FORMS.search(t)], told
    assert {r.name for r in caplog.records if r.levelno >= logging.WARNING} == {"runner.pipelines.operations"}
    recorded = ml_client.workspace.get_job("p1").extra["warnings"]  # its log's and `job show`'s: the CLI's
    assert len(recorded) == len(TOLD) and any("`runner compute create --name gpu" in w for w in recorded)
    assert any("the code snapshot leaves out 'ws'" in w for w in recorded), recorded


def test_a_dsl_pipelines_warnings_are_logged(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    ml_client = MLClient(workspace_dir=folder / "ws")
    step = command(command="echo hi", environment="runner/busybox:latest",
                   environment_variables={"API_TOKEN": "t0ken"})

    @pipeline(default_compute="azureml:gpu")
    def built():  # type: ignore[no-untyped-def]
        step()

    with caplog.at_level(logging.WARNING):
        ml_client.jobs.create_or_update(built(), name="p2")
    told = _told(caplog)
    assert len([t for t in told if "compute 'gpu' is not registered" in t]) == 1, told
    assert len([t for t in told if "API_TOKEN look like secrets" in t]) == 1, told
    assert not [t for t in told if CLI_FORMS.search(t) or "t0ken" in t], told


def test_the_clis_submission_logs_nothing(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    ops = PipelineJobOperations(MLClient(workspace_dir=folder / "ws").workspace)
    submitted: list[object] = []
    with caplog.at_level(logging.WARNING):
        ops.create_or_update(load_pipeline_spec(folder / "p.yml"), name="p3", on_submitted=submitted.append)
    assert _told(caplog) == []
    assert len(ops.workspace.get_job("p3").extra["warnings"]) == len(TOLD)


def test_a_pipeline_without_warnings_logs_none(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    (folder / "q.yml").write_text(textwrap.dedent("""\
        type: pipeline
        settings: {default_compute: local-process}
        jobs:
          s: {type: command, command: echo hi, environment: {image: runner/busybox:latest}}
        """))
    with caplog.at_level(logging.WARNING):
        MLClient(workspace_dir=folder / "ws").jobs.create_or_update(load_job("q.yml"), name="p4")
    assert _told(caplog) == []
