"""The Python API's hints speak Python: an error raised through ``ml_client`` shows (``str(err)``, what a
traceback prints) its ``python_hint`` (keywords, ``ml_client`` calls) where the CLI's hint names flags
and ``runner`` commands; the CLI prints ``err.render()``, whose text is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError, RunnerError, TransferError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord
from runner.workspace.job_records import JobStatus

CLI_WORDS = ("--version", "--label", "--type", "runner model", "runner data", "runner environment",
             "<one of those>")


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    client = MLClient(workspace_dir=tmp_path / "ws")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x.txt").write_text("x")
    client.models.create_or_update(Model(name="m", version="1", path=str(tmp_path / "a.txt")))
    client.data.create_or_update(Data(name="d", version="1", path=str(tmp_path / "folder"),
                                      type="uri_folder"))
    return client


def _raised(call: Callable[[], object]) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        call()
    return info.value


def _speaks_python(err: RunnerError, *expected: str) -> str:
    text = str(err)
    for words in expected:
        assert words in text, text
    for words in CLI_WORDS:
        assert words not in text, text
    return text


def test_the_error_keeps_both_hints_and_the_cli_renders_its_own() -> None:
    err = RegistryError("what", hint="give --flag", python_hint="give flag=...")
    assert err.render() == "what\n  hint: give --flag"
    assert str(err) == "what\n  hint: give flag=..."
    assert err.hint == "give --flag" and err.python_hint == "give flag=..."
    plain = RegistryError("what", hint="give --flag")
    assert str(plain) == plain.render() == "what\n  hint: give --flag"
    transfer = TransferError("copy failed", failed=["a"], hint="retry with --x")
    transfer.python_hint = "retry with x=True"
    assert "retry with x=True" in str(transfer) and "not transferred: a" in str(transfer)
    assert "retry with --x" in transfer.render() and "x=True" not in transfer.render()


def test_changed_content_of_an_existing_version(ml_client: MLClient, tmp_path: Path) -> None:
    err = _raised(lambda: ml_client.models.create_or_update(
        Model(name="m", version="1", path=str(tmp_path / "b.txt"))))
    _speaks_python(err, "Model(name='m', path=...)", "without version")
    assert "(`runner model create` without --version)" in err.render()  # the CLI's text, unchanged
    err = _raised(lambda: ml_client.data.create_or_update(
        Data(name="d", version="1", path=str(tmp_path / "a.txt"), type="uri_file")))
    _speaks_python(err, "Data(name='d', path=...)", "without version")


def test_an_immutable_field_given_to_update(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.models.update("m", "1", set_values={"type": "mlflow_model"}))
    _speaks_python(err, "Model(name='m', path=...)")


def test_an_existing_version_given_to_create(ml_client: MLClient, tmp_path: Path) -> None:
    err = _raised(lambda: ml_client.models.create(Model(name="m", version="1", path=str(tmp_path / "b.txt"))))
    _speaks_python(err, "version", "(2)", "ml_client.models.update('m', '1'")
    assert "omit --version to get the next version (2)" in err.render()


@pytest.mark.parametrize(("make", "python"), [
    (lambda t: Data(name="x", path=str(t / "folder"), type="uri_file"), "type=AssetTypes.URI_FOLDER"),
    (lambda t: Data(name="x", path=str(t / "a.txt"), type="uri_folder"), "type=AssetTypes.URI_FILE"),
    (lambda t: Data(name="x", path=str(t / "folder"), type="mltable"), "type=AssetTypes.URI_FOLDER"),
    (lambda t: Model(name="x", path=str(t / "a.txt"), type="mlflow_model"), "type=AssetTypes.CUSTOM_MODEL"),
    (lambda t: Model(name="x", path=str(t / "folder"), type="mlflow_model"), "type=AssetTypes.CUSTOM_MODEL"),
])
def test_the_wrong_type_for_the_path(ml_client: MLClient, tmp_path: Path,
                                     make: Callable[[Path], Model | Data], python: str) -> None:
    err = _raised(lambda: ml_client.create_or_update(make(tmp_path)))
    _speaks_python(err, python)
    assert "--type" in err.render()


@pytest.mark.parametrize("kind", ["models", "data", "environments"])
def test_an_unknown_label(ml_client: MLClient, kind: str) -> None:
    name = {"models": "m", "data": "d", "environments": "e"}[kind]
    err = _raised(lambda: getattr(ml_client, kind).get(name, label="bogus"))
    _speaks_python(err, f"ml_client.{kind}.get('{name}', label='latest')", "version=",
                   f"ml_client.{kind}.list(name='{name}')")
    assert "give --label latest, or --version <version>" in err.render()


def test_an_unknown_asset(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.models.get("nope", label="latest"))
    _speaks_python(err, "ml_client.models.list(list_view_type=ListViewType.ALL)")
    assert "`runner model list --include-archived`" in err.render()


def test_restoring_a_version_of_an_archived_asset(ml_client: MLClient) -> None:
    ml_client.models.archive("m")
    err = _raised(lambda: ml_client.models.restore("m", version="1"))
    _speaks_python(err, "ml_client.models.restore('m')")
    assert "`runner model restore --name m`" in err.render()


def test_jobs_download_of_an_unknown_output(ml_client: MLClient, tmp_path: Path) -> None:
    ml_client.workspace.create_job(JobRecord(name="chain1", status=JobStatus.COMPLETED, outputs={
        "o": "azureml://datastores/workspaceblobstore/paths/azureml/chain1/o"}))
    err = _raised(lambda: ml_client.jobs.download("chain1", output_name="nope", download_path=tmp_path))
    text = _speaks_python(err, "output_name", "['artifacts', 'o']")
    assert "azureml://jobs/chain1/outputs/" not in text
    assert "use azureml://jobs/chain1/outputs/<one of those>/paths/<p>" in err.render()  # the CLI's


@pytest.mark.parametrize(("status", "python", "cli"), [
    (JobStatus.FAILED, "`ml_client.jobs.get('early').error` says why", "`runner job show --name early`"),
    (JobStatus.RUNNING, "`ml_client.jobs.stream('early')`", "`runner job stream --name early`"),
])
def test_jobs_download_of_an_output_not_written(ml_client: MLClient, tmp_path: Path, status: JobStatus,
                                                python: str, cli: str) -> None:
    ml_client.workspace.create_job(JobRecord(name="early", status=status, outputs={
        "o": "azureml://datastores/workspaceblobstore/paths/azureml/early/o"}))
    err = _raised(lambda: ml_client.jobs.download("early", output_name="o", download_path=tmp_path))
    assert python in str(err) and "runner job" not in str(err)
    assert cli in err.render()


def test_jobs_download_of_a_pipelines_missing_log(ml_client: MLClient, tmp_path: Path) -> None:
    ml_client.workspace.create_job(JobRecord(name="pipe", status=JobStatus.COMPLETED,
                                             spec={"type": "pipeline"}))
    err = _raised(lambda: ml_client.jobs.download("pipe", download_path=tmp_path))
    _speaks_python(err, "all=True", "output_name=")
    assert "--all or --output-name" in err.render()
