"""The follower records from the node's ``result.json`` only what runner on the node sends
(``runner.jobs.node.result_of``): its known fields, each of its type, and of ``extra`` only the known keys
(status times, timings, a late cancel, held-back outputs, warnings, outputs not made durable). A result
that holds anything else (a forged one: the job's record, its plan, its Ray details, registrations, an
unsafe-options flag) has it dropped, with one warning naming what was dropped; a status that is not one
a job ends with is no Completed: the job is recorded Failed, saying why.

The follower runs for real against a stand-in Ray dashboard on 127.0.0.1 (the job SUCCEEDED), the
node's ``result.json`` written to the control folder on the workspace's own local datastore, everything
in the test's tmp folder."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ray_dashboard_standin import serving, succeeded_job

from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.ray_package import write_control
from runner.jobs.run import LATE_CANCEL_NOTE
from runner.plan.types import RunPlan
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow

CONTROL = "azureml://datastores/workspaceblobstore/paths/_ray/j1"
STAGED = "/ws/jobs/j1/outputs/o"  # below tmp_path: the job's own staging folder, as the node sends it
NOT_DURABLE = {"o": {"failed": 1, "total": 2, "staged": STAGED}}
OUT = "azureml://datastores/workspaceblobstore/paths/out/o"


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(succeeded_job("j1", logs="hello\n")) as address:
        yield address


def _plan() -> dict[str, Any]:
    plan = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/nowhere/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None)
    return json.loads(json.dumps(plan.to_dict()))


def _follow(tmp_path: Path, address: str, result: dict[str, Any]) -> JobRecord:
    ws = Workspace(tmp_path / "ws")
    ray = {"address": address, "submission_id": "j1", "control": CONTROL, "compute": "ray"}
    result = json.loads(json.dumps(result).replace(STAGED, str(tmp_path) + STAGED))
    ws.create_job(JobRecord(name="j1", status=JobStatus.QUEUED, backend="docker", outputs={"o": OUT},
                            job_dir=str(ws.job_dir("j1").root),
                            extra={"plan": _plan(), "ray": ray,
                                   "status_times": {"Queued": utc_text(utcnow())}}))
    write_control(ws, CONTROL, "result.json", json.dumps(result).encode())
    return follow_ray_job(ws, "j1")


def _known_extra() -> dict[str, Any]:
    return {"timings_s": {"run": 1.5}, "late_cancel": LATE_CANCEL_NOTE, "outputs_not_durable": NOT_DURABLE,
            "held_back_outputs": {"o": STAGED}, "warnings": ["w1"],
            "status_times": {"Running": utc_text(utcnow()), "Completed": utc_text(utcnow())}}


def _dropped_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "result" in r.getMessage() and "dropped" in r.getMessage()]


def test_unknown_keys_of_a_forged_result_are_dropped_with_one_warning(
        tmp_path: Path, dashboard: str, caplog: pytest.LogCaptureFixture) -> None:
    forged_extra = {**_known_extra(), "plan": {"forged": True}, "ray": {"address": "http://evil:1"},
                    "unsafe_docker_args": ["--privileged"], "registered_models": ["evil:1"],
                    "timings_s": {"run": "slow"}, "pipeline": {"steps": {}}}
    result = {"status": "Completed", "exit_code": 0, "node": "n1", "extra": forged_extra,
              "registered_models": ["evil:1"], "outputs": {"o": "azureml://datastores/x/paths/y"},
              "archived": True, "runner_pid": 1, "started_at": "not a time", "image": 3}
    with caplog.at_level(logging.WARNING):
        record = _follow(tmp_path, dashboard, result)
    assert record.status is JobStatus.COMPLETED, record.error
    assert record.extra["plan"] == _plan()  # as submitted, never the node's
    assert record.extra["ray"]["address"] == dashboard and record.extra["ray"]["node"] == "n1"
    for key in ("unsafe_docker_args", "registered_models", "pipeline", "timings_s"):
        assert key not in record.extra, key
    assert record.registered_models == [] and not record.archived and record.runner_pid != 1
    assert record.outputs == {"o": OUT, "artifacts": record.outputs["artifacts"]} and record.image is None
    assert record.extra["late_cancel"] == LATE_CANCEL_NOTE
    staged = str(tmp_path) + STAGED
    assert record.extra["outputs_not_durable"] == {"o": {**NOT_DURABLE["o"], "staged": staged}}
    assert record.extra["held_back_outputs"] == {"o": staged}
    assert "w1" in record.extra["warnings"]
    [warning] = _dropped_warnings(caplog)
    for key in ("extra.plan", "extra.ray", "extra.unsafe_docker_args", "extra.timings_s", "registered_models",
                "outputs", "archived", "runner_pid", "started_at", "image"):
        assert key in warning, (key, warning)


def test_a_result_as_the_node_sends_it_keeps_everything_without_a_warning(
        tmp_path: Path, dashboard: str, caplog: pytest.LogCaptureFixture) -> None:
    result = {"status": "Completed", "exit_code": 0, "error": None, "started_at": utc_text(utcnow()),
              "ended_at": utc_text(utcnow()), "image": "runner/busybox:latest", "image_id": "sha256:1",
              "container_id": "c1", "outputs_partial": False, "node": "n1", "extra": _known_extra()}
    with caplog.at_level(logging.WARNING):
        record = _follow(tmp_path, dashboard, result)
    assert record.status is JobStatus.COMPLETED and record.exit_code == 0
    assert record.image == "runner/busybox:latest" and record.container_id == "c1"
    assert record.extra["timings_s"] == {"run": 1.5} and record.extra["warnings"] == ["w1"]
    assert _dropped_warnings(caplog) == []


@pytest.mark.parametrize("status", ["Hacked", "Running", "Queued", 3, None, ["Completed"]])
def test_a_status_no_job_ends_with_is_recorded_failed(tmp_path: Path, dashboard: str, status: Any,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    result = {"status": status, "exit_code": 0, "node": "n1", "extra": _known_extra()}
    with caplog.at_level(logging.WARNING):
        record = _follow(tmp_path, dashboard, result)
    assert record.status is JobStatus.FAILED
    assert record.error is not None and "no status a job ends with" in record.error, record.error
    assert record.registered_models == []
    [warning] = _dropped_warnings(caplog)
    assert "status" in warning, warning


def test_a_result_that_is_no_mapping_ends_the_job_failed(tmp_path: Path, dashboard: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        record = _follow(tmp_path, dashboard, ["Completed"])  # type: ignore[arg-type]
    assert record.status is JobStatus.FAILED
    assert record.error is not None and "no status a job ends with" in record.error, record.error
