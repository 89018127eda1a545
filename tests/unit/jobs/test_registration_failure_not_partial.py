"""A job whose command completed and whose outputs were all uploaded, but whose registration of an output
failed (an ``mlflow_model`` output without an MLmodel file): the job fails, saying it failed at the
registration and that its outputs are whole; they are not partial (``outputs_partial`` False, the record
says where it failed: ``extra["failed_at"]``), so registering or downloading the output afterwards works
with no "may be partial" warning. The same for a job run on Ray, whose registration the follower makes.

The Ray follower runs for real against a stand-in Ray dashboard on 127.0.0.1 (the job SUCCEEDED), the
node's ``result.json`` in the control folder on the workspace's own local datastore, all under tmp_path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_dashboard_standin import serving, succeeded_job

from runner import Output, command
from runner.client import MLClient
from runner.jobs import operations as jobs
from runner.jobs.download import download_outputs
from runner.jobs.node import result_of
from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.ray_package import write_control
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import AssetRef, Binding, RunPlan
from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow

PARTIAL = "may be partial"


def _no_partial_warning(ws: Workspace, job: str, caplog: pytest.LogCaptureFixture) -> None:
    """Registering the output afterwards (as it is: a custom_model) warns of no partial output."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        model = MLClient(workspace_dir=ws.root).models.create_or_update(
            Model(name="kept", type="custom_model", path=f"azureml://jobs/{job}/outputs/m"))
    assert model.version == "1"
    assert not [r for r in caplog.records if PARTIAL in r.getMessage()]


def test_a_failed_registration_leaves_whole_outputs_not_partial(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    job = command(command="echo x > ${{outputs.m}}/w.txt",
                  outputs={"m": Output(type="mlflow_model", name="fake-mlflow")},
                  environment="does-not-matter:1", compute="local-process")
    jobs.JobOperations(ws).create_or_update(job, name="mlout1", stream=True, echo=lambda _chunk: None)
    record = ws.get_job("mlout1")
    assert record.status is JobStatus.FAILED and record.exit_code == 0
    error = record.error or ""
    assert "registering output 'm' as model 'fake-mlflow' failed" in error and "no MLmodel file" in error
    assert "completed and its outputs were uploaded" in error
    assert record.outputs_partial is False
    assert record.extra.get("failed_at") == "registration"
    written = download_outputs(ws, record, ["m"], tmp_path / "dl")
    assert [(p / "w.txt").read_text() for p in written] == ["x\n"]
    _no_partial_warning(ws, "mlout1", caplog)


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(succeeded_job("r1", logs="x\n")) as address:
        yield address


def test_a_failed_registration_on_ray_is_not_partial_either(tmp_path: Path, dashboard: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    where = "azureml/r1/m"
    uri = f"azureml://datastores/workspaceblobstore/paths/{where}"
    out = Binding(name="m", direction=Direction.OUTPUT, type=AssetType.MLFLOW_MODEL, mode=Mode.UPLOAD,
                  uri=uri, kind=PathKind.FOLDER, host_path="/h", container_path="/c", value="/c",
                  host_value="/h", registered_as=AssetRef("model", "fake-mlflow"))
    plan = RunPlan(job_name="r1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/nowhere/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(out,), literals={}, timeout_s=None)
    control = "azureml://datastores/workspaceblobstore/paths/_ray/r1"
    ray = {"address": dashboard, "submission_id": "r1", "control": control, "compute": "ray"}
    ws.create_job(JobRecord(name="r1", status=JobStatus.QUEUED, backend="docker", outputs={"m": uri},
                            job_dir=str(ws.job_dir("r1").root),
                            extra={"plan": json.loads(json.dumps(plan.to_dict())), "ray": ray,
                                   "status_times": {"Queued": utc_text(utcnow())}}))
    folder = ws.default_datastore_root / where  # the node uploaded the output whole: no MLmodel in it
    folder.mkdir(parents=True)
    (folder / "w.txt").write_text("x\n")
    result = result_of(JobRecord(name="r1", status=JobStatus.COMPLETED, exit_code=0, started_at=utcnow(),
                                 ended_at=utcnow(), extra={"status_times": {}}))
    write_control(ws, control, "result.json", json.dumps(result).encode())
    record = follow_ray_job(ws, "r1")
    assert record.status is JobStatus.FAILED
    assert "registering output 'm' as model 'fake-mlflow' failed" in (record.error or "")
    assert record.outputs_partial is False and record.extra.get("failed_at") == "registration"
    _no_partial_warning(ws, "r1", caplog)
