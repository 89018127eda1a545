"""A Ray job's warnings reach its record on the submitting side: the node's result (``result_of``) carries
what the run recorded (``extra.warnings``: what its outputs could not keep), and the follower merges them
after the plan's warnings submit recorded: the plan's first, then the run's, each once; a result without
any (a node running an older runner) leaves the plan's as they were.

The follower runs for real against a stand-in Ray dashboard on 127.0.0.1 (``/api/jobs/<id>`` and its
logs: the job SUCCEEDED), the node's ``result.json`` written to the control folder on the workspace's own
local datastore, everything in the test's tmp folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ray_dashboard_standin import serving, succeeded_job

from runner.jobs.node import result_of
from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.ray_package import write_control
from runner.plan.types import RunPlan
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow

PLAN = "job.yml:7: resources.instance_count=2 runs as 1 instance locally"
LEFT = "outputs.u: 1 entry not uploaded: fifo (a FIFO)"
RENAMED = "outputs.u: 1 file uploaded under another name: back\\slash as back/slash"
CONTROL = "azureml://datastores/workspaceblobstore/paths/_ray/j1"


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(succeeded_job("j1", logs="hello\n")) as address:
        yield address


def _plan() -> RunPlan:
    return RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/nowhere/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None,
                   warnings=(PLAN,))


def _node_result(warnings: list[str] | None) -> dict[str, Any]:
    """What runner on the node sends back, made by ``result_of`` from the node's record."""
    extra: dict[str, Any] = {"plan": {"secret": "stays on the node"}, "timings_s": {"run": 1.0},
                             "status_times": {"Queued": utc_text(utcnow()), "Completed": utc_text(utcnow())}}
    if warnings is not None:
        extra["warnings"] = warnings
    return result_of(JobRecord(name="j1", status=JobStatus.COMPLETED, exit_code=0, started_at=utcnow(),
                               ended_at=utcnow(), extra=extra))


def test_the_nodes_result_carries_the_runs_warnings_and_never_its_plan() -> None:
    result = _node_result([LEFT, RENAMED])
    assert result["extra"]["warnings"] == [LEFT, RENAMED]
    assert "plan" not in result["extra"] and json.loads(json.dumps(result)) == result
    assert "warnings" not in _node_result(None)["extra"]


def _follow(tmp_path: Path, address: str, result: dict[str, Any]) -> JobRecord:
    ws = Workspace(tmp_path / "ws")
    ray = {"address": address, "submission_id": "j1", "control": CONTROL, "compute": "ray"}
    ws.create_job(JobRecord(name="j1", status=JobStatus.QUEUED, backend="docker",
                            job_dir=str(ws.job_dir("j1").root),
                            extra={"plan": json.loads(json.dumps(_plan().to_dict())), "warnings": [PLAN],
                                   "ray": ray, "status_times": {"Queued": utc_text(utcnow())}}))
    write_control(ws, CONTROL, "result.json", json.dumps(result).encode())
    return follow_ray_job(ws, "j1")


@pytest.mark.parametrize(("node", "recorded"), [
    ([LEFT, RENAMED], [PLAN, LEFT, RENAMED]),
    ([PLAN, LEFT, LEFT], [PLAN, LEFT]),  # each once, the plan's first
    (None, [PLAN]),  # an older node: the plan's stay
    ([], [PLAN]),
])
def test_the_follower_records_the_plans_warnings_then_the_runs(tmp_path: Path, dashboard: str,
                                                              node: list[str] | None,
                                                              recorded: list[str]) -> None:
    record = _follow(tmp_path, dashboard, _node_result(node))
    assert record.status is JobStatus.COMPLETED, record.error
    assert record.extra["warnings"] == recorded
    assert record.extra["timings_s"] == {"run": 1.0}  # the rest of the node's extra as before
    assert record.extra["ray"]["ray_status"] == "SUCCEEDED"


def test_a_malformed_warnings_field_from_the_node_keeps_the_plans_and_its_text(tmp_path: Path,
                                                                                dashboard: str) -> None:
    result = _node_result(None)
    result["extra"]["warnings"] = [LEFT, 3, None, {"x": 1}]
    assert _follow(tmp_path, dashboard, result).extra["warnings"] == [PLAN, LEFT]
    result["extra"]["warnings"] = "not a list"
    assert _follow(tmp_path / "again", dashboard, result).extra["warnings"] == [PLAN]
