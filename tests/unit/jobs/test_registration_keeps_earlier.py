"""A job with several named outputs, a later one failing to register (an ``mlflow_model`` output without
an MLmodel file): the versions registered before it stay in the job's record (``registered_models``), so
the user sees ``azureml:a:1`` exists; the job still fails, its error naming the output that failed and
what was registered before it. The same for a job run on Ray, whose registration the follower makes
(it runs against a stand-in Ray dashboard on 127.0.0.1, all under tmp_path)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_dashboard_standin import serving, succeeded_job

from runner import Output, command
from runner.jobs import operations as jobs
from runner.jobs.node import result_of
from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.ray_package import write_control
from runner.jobs.register import RegistrationFailed, register_outputs
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import AssetRef, Binding, RunPlan
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.registry import ModelRegistry


def _assert_kept(ws: Workspace, record: JobRecord) -> None:
    assert record.status is JobStatus.FAILED
    assert record.registered_models == ["azureml:a:1"]
    error = record.error or ""
    assert "registering output 'b' as model 'b' failed" in error and "no MLmodel file" in error
    assert "azureml:a:1" in error  # what was registered before it, said where the failure is
    assert (ModelRegistry(ws).get("a", "1").path or "").endswith("/outputs/a")
    assert record.extra.get("failed_at") == "registration"


def test_a_later_failing_output_keeps_the_earlier_registration_in_the_record(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    job = command(command="echo x > ${{outputs.a}}/w.txt && echo y > ${{outputs.b}}/w.txt",
                  outputs={"a": Output(type="custom_model", name="a"),
                           "b": Output(type="mlflow_model", name="b")},
                  environment="does-not-matter:1", compute="local-process")
    jobs.JobOperations(ws).create_or_update(job, name="two1", stream=True, echo=lambda _chunk: None)
    _assert_kept(ws, ws.get_job("two1"))


def _binding(name: str, type_: AssetType, uri: str) -> Binding:
    return Binding(name=name, direction=Direction.OUTPUT, type=type_, mode=Mode.UPLOAD, uri=uri,
                   kind=PathKind.FOLDER, host_path="/h", container_path="/c", value="/c", host_value="/h",
                   registered_as=AssetRef("model", name))


def _uploaded(ws: Workspace, job: str) -> dict[str, str]:
    """Outputs a and b of ``job`` as uploaded whole to the workspace's datastore: no MLmodel in b."""
    for out in ("a", "b"):
        folder = ws.default_datastore_root / "azureml" / job / out
        folder.mkdir(parents=True)
        (folder / "w.txt").write_text("x\n")
    return {o: f"azureml://datastores/workspaceblobstore/paths/azureml/{job}/{o}" for o in ("a", "b")}


def _plan(job: str, outputs: tuple[Binding, ...]) -> RunPlan:
    return RunPlan(job_name=job, image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/nowhere/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=outputs, literals={}, timeout_s=None)


def test_register_outputs_says_what_it_registered_before_failing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    uris = _uploaded(ws, "j1")
    plan = _plan("j1", (_binding("a", AssetType.CUSTOM_MODEL, uris["a"]),
                        _binding("b", AssetType.MLFLOW_MODEL, uris["b"])))
    ws.create_job(JobRecord(name="j1", status=JobStatus.COMPLETED, outputs=uris))
    with pytest.raises(RegistrationFailed) as failed:
        register_outputs(ws, ws.get_job("j1"), plan)
    assert failed.value.registered.models == ["azureml:a:1"] and failed.value.registered.data == []
    assert "registering output 'b' as model 'b' failed" in failed.value.message


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(succeeded_job("r1", logs="x\n")) as address:
        yield address


def test_on_ray_a_later_failing_output_keeps_the_earlier_registration(tmp_path: Path,
                                                                      dashboard: str) -> None:
    ws = Workspace(tmp_path / "ws")
    uris = _uploaded(ws, "r1")
    plan = _plan("r1", (_binding("a", AssetType.CUSTOM_MODEL, uris["a"]),
                        _binding("b", AssetType.MLFLOW_MODEL, uris["b"])))
    control = "azureml://datastores/workspaceblobstore/paths/_ray/r1"
    ray = {"address": dashboard, "submission_id": "r1", "control": control, "compute": "ray"}
    ws.create_job(JobRecord(name="r1", status=JobStatus.QUEUED, backend="docker", outputs=uris,
                            job_dir=str(ws.job_dir("r1").root),
                            extra={"plan": json.loads(json.dumps(plan.to_dict())), "ray": ray,
                                   "status_times": {"Queued": utc_text(utcnow())}}))
    result = result_of(JobRecord(name="r1", status=JobStatus.COMPLETED, exit_code=0, started_at=utcnow(),
                                 ended_at=utcnow(), extra={"status_times": {}}))
    write_control(ws, control, "result.json", json.dumps(result).encode())
    _assert_kept(ws, follow_ray_job(ws, "r1"))
