"""Registering the output of a job that has not ended (``azureml://jobs/<job>/outputs/<o>``, ``runs:/``)
says the job's status and to wait for it, not that a folder does not exist; a Failed or Canceled job's
output registers with a warning that it may be partial. The registration a job makes of its own outputs
as it ends (``runner.jobs.register``, on the registry directly) is not the user's and is not refused."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.job_records import JobStatus
from runner.workspace.registry import ModelRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _job(ws: Workspace, name: str, status: JobStatus, *, written: bool) -> str:
    where = f"azureml/{name}/o"
    ws.create_job(JobRecord(name=name, status=status,
                            outputs={"o": f"azureml://datastores/workspaceblobstore/paths/{where}"}))
    if written:
        folder = ws.default_datastore_root / where
        folder.mkdir(parents=True)
        (folder / "model.pkl").write_bytes(b"w")
    return f"azureml://jobs/{name}/outputs/o"


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING,
                                    JobStatus.FINALIZING])
def test_an_unfinished_jobs_output_is_refused_with_its_status(ws: Workspace, status: JobStatus) -> None:
    path = _job(ws, "train-1", status, written=False)
    ml_client = MLClient(workspace_dir=ws.root)
    with pytest.raises(RegistryError) as info:
        ml_client.models.create_or_update(Model(name="m", path=path))
    err = info.value
    assert f"job 'train-1' is {status.value}" in err.message and "output 'o'" in err.message
    assert "does not exist" not in err.message
    assert "runner job stream --name train-1" in (err.hint or "")
    assert "ml_client.jobs.stream('train-1')" in (err.hint or "")
    with pytest.raises(RegistryError, match=f"job 'train-1' is {status.value}"):
        ml_client.data.create_or_update(Data(name="d", path=path, type="uri_folder"))
    with pytest.raises(RegistryError, match=f"job 'train-1' is {status.value}"):  # what the CLI calls
        ml_client.models.create(Model(name="m", path="runs:/train-1/model"))


def test_a_running_jobs_files_already_there_are_refused_too(ws: Workspace) -> None:
    path = _job(ws, "train-2", JobStatus.RUNNING, written=True)  # direct mode writes as it runs
    with pytest.raises(RegistryError, match="job 'train-2' is Running"):
        MLClient(workspace_dir=ws.root).models.create_or_update(Model(name="m", path=path))


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELED])
def test_an_ended_unsuccessful_jobs_output_registers_with_a_warning(
        ws: Workspace, status: JobStatus, caplog: pytest.LogCaptureFixture) -> None:
    path = _job(ws, "train-3", status, written=True)
    with caplog.at_level(logging.WARNING):
        created = MLClient(workspace_dir=ws.root).models.create_or_update(Model(name="m", path=path))
    assert created.job_name == "train-3"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"job 'train-3' ended {status.value}" in w and "partial" in w for w in warned), warned


def test_a_completed_jobs_output_registers_without_a_warning(ws: Workspace,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = _job(ws, "train-4", JobStatus.COMPLETED, written=True)
    with caplog.at_level(logging.WARNING):
        MLClient(workspace_dir=ws.root).models.create_or_update(Model(name="m", path=path))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_jobs_own_registration_as_it_ends_is_not_refused(ws: Workspace) -> None:
    """A job on Ray registers its outputs while its record still says Running."""
    path = _job(ws, "train-5", JobStatus.RUNNING, written=True)
    assert ModelRegistry(ws).create(Model(name="m", path=path)).job_name == "train-5"
