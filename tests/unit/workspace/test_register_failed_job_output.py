"""Registering the output of a job that ended Failed or Canceled before writing it says so (the job, how
it ended, the output), not that a datastore folder does not exist, and lists no other job's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError, ResolveError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.job_records import JobStatus


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    client = MLClient(workspace_dir=tmp_path / "ws")
    ws = client.workspace
    for name, status in (("other-1", JobStatus.COMPLETED), ("other-2", JobStatus.COMPLETED)):
        _job(ws, name, status)
        (ws.default_datastore_root / "azureml" / name / "o").mkdir(parents=True)
    return client


def _job(ws: Workspace, name: str, status: JobStatus) -> str:
    ws.create_job(JobRecord(name=name, status=status,
                            outputs={"o": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/o"}))
    return f"azureml://jobs/{name}/outputs/o"


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELED])
@pytest.mark.parametrize("kind", ["model", "data"])
def test_a_failed_jobs_unwritten_output_is_named_as_such(ml_client: MLClient, status: JobStatus,
                                                         kind: str) -> None:
    path = _job(ml_client.workspace, "train-f", status)
    asset = Model(name="m", path=path) if kind == "model" else Data(name="d", path=path, type="uri_folder")
    with pytest.raises(RegistryError) as info:
        ml_client.create_or_update(asset)
    err = info.value
    assert f"job 'train-f' ended {status.value} before its output 'o' was written" in err.message
    assert err.field == "path"
    for text in (err.render(), str(err)):
        assert "does not exist" not in text and "other-1" not in text and "other-2" not in text
    assert "runner job show --name train-f" in err.render()
    assert "ml_client.jobs.get('train-f')" in str(err) and "runner job" not in str(err)


def test_a_path_inside_a_failed_jobs_unwritten_output(ml_client: MLClient) -> None:
    _job(ml_client.workspace, "train-r", JobStatus.FAILED)
    with pytest.raises(RegistryError, match="job 'train-r' ended Failed before its output 'o' was written"):
        ml_client.models.create(Model(name="m", path="azureml://jobs/train-r/outputs/o/paths/model.pkl"))


def test_a_failed_jobs_written_output_still_registers(ml_client: MLClient) -> None:
    path = _job(ml_client.workspace, "train-w", JobStatus.FAILED)
    folder = ml_client.workspace.default_datastore_root / "azureml" / "train-w" / "o"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"w")
    assert ml_client.models.create_or_update(Model(name="m", path=path)).job_name == "train-w"


def test_a_missing_file_inside_a_written_output_is_the_usual_error(ml_client: MLClient) -> None:
    path = _job(ml_client.workspace, "train-p", JobStatus.FAILED)
    (ml_client.workspace.default_datastore_root / "azureml" / "train-p" / "o").mkdir(parents=True)
    with pytest.raises(ResolveError) as info:
        ml_client.models.create_or_update(Model(name="m", path=f"{path}/paths/missing.pkl"))
    assert "does not exist" in info.value.message

