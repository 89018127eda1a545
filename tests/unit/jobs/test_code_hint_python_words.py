"""A job built in Python (``command(...)``) whose ``code`` is missing or not local is refused with a hint
in Python's terms (a relative ``code=`` is taken from the current folder; or pass an absolute path); a
job loaded from a YAML file keeps the YAML's wording (relative to the job YAML)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, command, load_job
from runner.errors import ResolveError, RunnerError, SpecError

ENV = "azureml:AzureML-sklearn-1.5@latest"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def _refused(ml_client: MLClient, job: object, *, create: bool,
             error: type[RunnerError] = SpecError) -> RunnerError:
    """``error``: a missing code folder is a ResolveError (exit 1: named, not there), a malformed one a
    SpecError."""
    with pytest.raises(error) as info:
        if create:
            ml_client.jobs.create_or_update(job)
        else:
            ml_client.jobs.validate(job, raise_on_failure=True)
    return info.value


@pytest.mark.parametrize("create", [False, True])
def test_a_missing_code_folder_of_a_python_job(ml_client: MLClient, tmp_path: Path, create: bool) -> None:
    job = command(code="./nope", command="echo hi", environment=ENV)
    err = _refused(ml_client, job, create=create, error=ResolveError)
    text = str(err)
    assert "does not exist" in err.message and err.field == "code"
    assert "job YAML" not in text and "code:" not in text.split("hint:", 1)[1], text
    assert f"relative to the current folder ({tmp_path})" in text and "absolute path" in text, text
    assert list(ml_client.jobs.list()) == []  # nothing queued


def test_a_code_reference_of_a_python_job(ml_client: MLClient) -> None:
    err = _refused(ml_client, command(code="azureml:some-code:1", command="echo hi", environment=ENV),
                   create=False)
    text = str(err)
    assert "is not a local folder" in err.message and "job YAML" not in text, text
    assert "code=" in text and "absolute path" in text, text


def test_a_yaml_job_keeps_the_yaml_wording(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "job.yml").write_text(f"command: echo hi\ncode: ./nope\nenvironment: {ENV}\n")
    err = _refused(ml_client, load_job(tmp_path / "job.yml"), create=False, error=ResolveError)
    assert err.hint == "set code: to a folder relative to the job YAML"
    assert err.where is not None and err.where.file == tmp_path / "job.yml"
