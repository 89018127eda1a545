"""A job's recorded error read from Python is in Python's words: ``ml_client.jobs.get(name).error`` (and
``list``, ``page``, ``refresh``, ``stream(..., raise_on_failure=False)``, ``create_or_update``'s returned
job, a pipeline's ``.jobs[step]``) names each ``runner`` command, flag and YAML mode as the Python call or
keyword, with ``runner.jobs.python_words.in_python`` (the translation ``JobFailedError`` uses). The record
keeps the CLI's words: ``runner job show`` prints them, and so does the web UI.

The translation is checked against the errors that carry both wordings (their ``err.render()`` read in
Python's words is their ``str(err)``). Jobs run as host processes (``compute="local-process"``); every
workspace is in tmp_path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import MLClient, command, load_job
from runner.backends.docker import DOCKER_HINT, DOCKER_PYTHON_HINT
from runner.cli.main import app
from runner.errors import BackendError, RunnerError, SpecError
from runner.file_urls import file_path
from runner.jobs.compute import choose_compute
from runner.jobs.python_words import in_python
from runner.spec.load import set_label, spec_from_data
from runner.uris import parse_path
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.host_cache import refuse_direct_read
from runner.workspace.storage_errors import cannot_connect

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
STORED = ("the command exited with code 3; its output is in user_logs/std_log.txt (`runner job stream --name "
          "j1`)\n  hint: start the Docker engine, or run the job on the host with --backend process; "
          "use mode: download or ro_mount for this input (`runner datastore show --name blobs`)")
PYTHON = ("the command exited with code 3; its output is in user_logs/std_log.txt "
          "(`ml_client.jobs.stream('j1')`)\n  hint: start the Docker engine, or run the job on the host with "
          "backend='process'; use mode='download' or mode='ro_mount' for this input "
          "(`ml_client.datastores.get('blobs')`)")


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def _failed(ws: Workspace, name: str, error: str) -> None:
    ws.create_job(JobRecord(name=name, status=JobStatus.FAILED, backend="process", exit_code=3, error=error,
                            spec={"command": "exit 3"}))


def test_a_fetched_jobs_error_speaks_python(ml_client: MLClient) -> None:
    ws = ml_client.workspace
    _failed(ws, "j1", STORED)
    jobs = ml_client.jobs
    assert jobs.get("j1").error == PYTHON
    assert [j.error for j in jobs.list()] == [PYTHON]
    assert [j.error for j in jobs.page().items] == [PYTHON]
    assert jobs.refresh("j1").error == PYTHON
    assert jobs.stream("j1", echo=lambda _: None, raise_on_failure=False).error == PYTHON
    assert ws.get_job("j1").error == STORED  # the record is unchanged


def test_the_cli_and_the_web_ui_keep_the_records_words(ml_client: MLClient, tmp_path: Path) -> None:
    from runner.ui.app import create_app
    from runner.ui.jobs import job_view

    _failed(ml_client.workspace, "j1", STORED)
    ml_client.jobs.get("j1")  # read from Python first: nothing is written back
    shown = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "job", "show", "--name", "j1",
                                     "-o", "json"])
    assert shown.exit_code == 0, shown.output
    assert "`runner job stream --name j1`" in shown.output and "ml_client" not in shown.output
    ui_jobs = create_app(ml_client, token="t" * 32).state.jobs
    assert job_view(ui_jobs, "j1")["job"]["error"] == STORED


def test_a_failed_run_read_back_from_python(ml_client: MLClient) -> None:
    failing = command(command="echo oops; exit 3", environment="runner/busybox:latest",
                      compute="local-process", name="bad2")
    job = ml_client.jobs.create_or_update(failing, stream=True, echo=lambda _: None)
    assert job.status == "Failed"
    for read in (job, ml_client.jobs.get("bad2")):
        assert read.error is not None and "`ml_client.jobs.stream('bad2')`" in read.error, read.error
        assert not CLI_FORMS.search(read.error), read.error
    assert "`runner job stream --name bad2`" in (ml_client.workspace.get_job("bad2").error or "")


def test_a_failed_pipeline_and_its_steps_read_back_from_python(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(textwrap.dedent("""\
        type: pipeline
        settings: {default_compute: local-process}
        jobs:
          s:
            type: command
            command: exit 3
            environment: {image: runner/busybox:latest}
        """))
    pipeline = ml_client.jobs.create_or_update(load_job(tmp_path / "p.yml"), name="p1", stream=True,
                                               echo=lambda _: None)
    assert pipeline.status == "Failed"
    for read in (pipeline, ml_client.jobs.get("p1")):
        step = read.jobs["s"]
        for error in (read.error, step.error):
            assert error is not None and "`ml_client.jobs.stream('p1-s')`" in error, error
            assert not CLI_FORMS.search(error), error
    for name in ("p1", "p1-s"):  # the records: what `runner job show` prints
        assert "`runner job stream --name p1-s`" in (ml_client.workspace.get_job(name).error or "")


# ---- the translation: an error's CLI text, read in Python's words, is its Python text ---------------------
def _raised(call: object) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        call()  # type: ignore[operator]
    return info.value


def _both_wordings(tmp_path: Path) -> list[RunnerError]:
    return [
        BackendError("the Docker engine is not reachable", hint=DOCKER_HINT, python_hint=DOCKER_PYTHON_HINT),
        _raised(lambda: refuse_direct_read("zipped", f"zip://::file://{tmp_path}/a.zip", {})),
        cannot_connect("azureml://datastores/blobs/paths/x", "127.0.0.1:9 refused", datastore="blobs"),
        _raised(lambda: parse_path("https://u:pw@example.invalid/x")),
        _raised(lambda: file_path("file://elsewhere/data/x", "inputs.x.path")),
    ]


def test_each_cli_wording_reads_as_its_python_one(tmp_path: Path) -> None:
    errors = _both_wordings(tmp_path)
    assert all(err.python_hint and err.python_hint != err.hint for err in errors)
    for err in errors:
        assert in_python(err.render()) == err.render(python=True), err.render()
        assert not CLI_FORMS.search(in_python(err.render())), err.render()


def test_an_unregistered_compute_and_a_set_read_as_python_says_them(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    data = {"command": "echo hi", "environment": "runner/busybox:latest", "compute": "azureml:gpu"}
    cli = choose_compute(ws, spec_from_data(dict(data), base_dir=tmp_path)).note
    python = choose_compute(ws, spec_from_data(dict(data), base_dir=tmp_path), python=True).note
    assert cli and python and cli != python
    assert in_python(cli) == python
    assert in_python(f"inputs.x.path (from {set_label('inputs.x.path=data/')})") == \
        f"inputs.x.path (from {set_label('inputs.x.path=data/', python=True)})"
    assert in_python("write --set inputs.<name>.path=<path> (a dotted field path)") == \
        "write params_override=[{'inputs.<name>.path': '<path>'}] (a dotted field path)"


def test_the_translation_is_idempotent_and_leaves_fields_alone(tmp_path: Path) -> None:
    for err in _both_wordings(tmp_path):
        once = in_python(err.render())
        assert in_python(once) == once
    located = "job.yml:4:5: inputs.data.mode: direct reads the URL itself"
    assert in_python(located) == located
    assert in_python(STORED) == PYTHON and in_python(PYTHON) == PYTHON


def test_a_spec_error_without_cli_words_is_unchanged() -> None:
    err = SpecError("'environment' is required", field="environment", hint="add environment: to the job")
    assert in_python(err.render()) == err.render()
