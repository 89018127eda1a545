"""Two windows on the Ray submission path (``runner.jobs.ray_submit``). A version registered by reference
where the job writes, after its outputs were checked and before its record exists (while the cluster is
asked), is met once the record exists (from then on such a registration is refused,
``runner.workspace.active_writers``): the record ends Failed naming the version and nothing is submitted;
the node, in its own empty workspace, would never see it. And an error met while copying the code (the
folder changed since it was checked) is one error at the ``code:`` line, as for a local job, and the
record ends Failed with it. Nothing here reaches a cluster; everything lives in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.jobs import ray_submit
from runner.jobs.ray_submit import submit_ray_job
from runner.spec.data import Data
from runner.spec.load import load_job_spec
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.datastores import AzureDatastore, DatastoreStore
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.registry import DataRegistry

COMPUTE = RayCompute(name="cluster", address="http://127.0.0.2:9", datastore="az")
OUT = "azureml://datastores/az/paths/race/o"
JOB = f"""\
command: ls
code: ./src
compute: azureml:cluster
environment:
  image: runner/busybox:latest
outputs:
  o:
    type: uri_folder
    mode: upload
    path: {OUT}
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    DatastoreStore(workspace).save(AzureDatastore(name="az", type="azure_blob", account_name="acct",
                                                  container_name="c"))
    ComputeStore(workspace).save(COMPUTE)
    return workspace


@pytest.fixture
def job(tmp_path: Path) -> Path:
    (tmp_path / "job" / "src").mkdir(parents=True)
    (tmp_path / "job" / "src" / "main.py").write_text("print(1)\n")
    (tmp_path / "job" / "job.yml").write_text(JOB)
    return tmp_path / "job" / "job.yml"


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The jobs handed to Ray (none reached: ``_submit`` stands in)."""
    calls: list[str] = []
    monkeypatch.setattr(ray_submit, "_submit", lambda _ws, _client, record, *_: calls.append(record.name))
    return calls


def _meanwhile(monkeypatch: pytest.MonkeyPatch, action: Any) -> None:
    """``action`` runs while the cluster is asked: after the outputs were checked, before the record."""
    monkeypatch.setattr(ray_submit, "check_cluster", lambda *_: action())


@pytest.mark.parametrize("registered", [OUT, "azureml://datastores/az/paths/race"], ids=["at", "above"])
def test_a_version_registered_while_submitting_fails_the_job(ws: Workspace, job: Path, registered: str,
                                                             submitted: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _meanwhile(monkeypatch, lambda: DataRegistry(ws).create(Data(name="late", type="uri_folder",
                                                                 path=registered)))
    with pytest.raises(SpecError) as caught:
        submit_ray_job(ws, load_job_spec(job), compute=COMPUTE, name="j1")
    err = caught.value
    assert "output 'o'" in err.message and "registered data late:1" in err.message, err.message
    assert err.where is not None and str(err.where) == f"{job}:10:5"  # the output's path: line
    assert submitted == []  # never handed to Ray
    record = ws.get_job("j1")
    assert record.status is JobStatus.FAILED
    assert record.error is not None and "registered data late:1" in record.error


def test_a_version_elsewhere_does_not_stop_the_job(ws: Workspace, job: Path, submitted: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _meanwhile(monkeypatch, lambda: DataRegistry(ws).create(Data(name="other", type="uri_folder",
                                                                 path="azureml://datastores/az/paths/raceother")))
    record = submit_ray_job(ws, load_job_spec(job), compute=COMPUTE, name="j1")
    assert submitted == ["j1"] and ws.get_job("j1").status is JobStatus.QUEUED == record.status


def test_a_snapshot_error_while_copying_is_located_at_code(ws: Workspace, job: Path, submitted: list[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _meanwhile(monkeypatch, lambda: os.mkfifo(job.parent / "src" / "pipe"))  # after the code was checked
    with pytest.raises(SpecError) as caught:
        submit_ray_job(ws, load_job_spec(job), compute=COMPUTE, name="j1")
    err = caught.value
    assert "pipe" in err.message, err.message
    assert err.where is not None and str(err.where) == f"{job}:2:1"
    assert err.render().startswith(f"{job}:2:1: code: ")
    assert submitted == []
    record = ws.get_job("j1")
    assert record.status is JobStatus.FAILED and record.error == err.render()
