"""Secrets written in ``environment_variables`` never reach a job's record (its spec, its plan), nor
``runner.db`` (its bytes, read back with sqlite3 too): the record shows ``***`` and the real values wait
in the workspace's owner-only secrets folder for the run. A Ray job's package carries them to the node,
whose run finds them as a local run does; a job that ends without running (canceled while Queued, its
runner lost) leaves none behind. A pipeline's record (its spec, its steps' plans, a reused step's record)
masks them too, and its orchestrator gets the real values back for the steps it submits."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from runner.jobs.node import _queue
from runner.jobs.ray_submit import _payload
from runner.jobs.recovery import mark_lost
from runner.jobs.submit import submit_job
from runner.pipelines.record import PipelinePlan, reused_record, step_spec
from runner.pipelines.submit import submit_pipeline
from runner.plan.env_secrets import MASK
from runner.plan.stored import plan_from_dict
from runner.spec.load import spec_from_data
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.computes import RayCompute
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.job_secrets import kept_file, take

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SUPERSECRET==;EndpointSuffix=core.windows.net"
SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=SECRETSIG"
SECRETS = ("SUPERSECRET", "SECRETSIG")
VARIABLES = {"CONN": CONN, "SAS": SAS, "MODE": "fast"}
JOB = {"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
       "environment_variables": VARIABLES}


def _stored(ws: Workspace) -> bytes:
    """Every byte of the database and its journals, and every cell read back through sqlite3."""
    files = b"".join(p.read_bytes() for p in ws.db_path.parent.glob(ws.db_path.name + "*"))
    with sqlite3.connect(ws.db_path) as conn:
        rows = [json.dumps(row, default=str) for row in conn.execute("SELECT * FROM jobs")]
    return files + "\n".join(rows).encode()


def _clean(data: Any) -> bool:
    text = data if isinstance(data, bytes | str) else json.dumps(data, default=str)
    raw = text if isinstance(text, bytes) else text.encode()
    return not any(secret.encode() in raw for secret in SECRETS)


def test_a_jobs_record_and_the_database_hold_no_secret(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name="j1", backend="process")
    record = ws.get_job("j1")
    assert record.spec["environment_variables"] == {"CONN": MASK, "SAS": MASK, "MODE": "fast"}
    plan = plan_from_dict(record.extra["plan"])
    assert plan.env["CONN"] == plan.host_env["SAS"] == MASK and plan.secret_env == ("CONN", "SAS")
    assert _clean(record.model_dump(mode="json")) and _clean(_stored(ws))
    assert any("CONN, SAS" in w for w in record.extra["warnings"])
    assert not any(p.is_relative_to(ws.job_dir("j1").root) for p in [kept_file(ws, "j1")])
    assert json.loads(kept_file(ws, "j1").read_text()) == {"CONN": CONN, "SAS": SAS}


def test_a_job_without_secrets_keeps_no_file(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    submit_job(ws, spec_from_data({**JOB, "environment_variables": {"MODE": "fast"}}, base_dir=tmp_path),
               name="j1", backend="process")
    assert list(ws.secrets_dir.glob("job-*")) == []


def test_a_job_ended_without_running_leaves_no_secret_behind(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name="j1", backend="process")
    assert kept_file(ws, "j1").exists()
    mark_lost(ws, record, status=JobStatus.CANCELED, reason="canceled while Queued")
    assert not kept_file(ws, "j1").exists()


def test_a_ray_job_carries_them_in_its_package_to_the_nodes_run(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name="j1", backend="process")
    plan = plan_from_dict(record.extra["plan"])
    compute = RayCompute(name="r", address="http://127.0.0.1:1")
    payload = _payload(ws, record, plan, compute, {"CONN": CONN, "SAS": SAS})
    assert payload["secret_env"] == {"CONN": CONN, "SAS": SAS}
    assert _clean(payload["plan"])
    node = Workspace(tmp_path / "node")
    package = tmp_path / "pkg"
    package.mkdir()
    name = _queue(node, json.loads(json.dumps(payload)), package)
    assert _clean(node.get_job(name).model_dump(mode="json")) and _clean(_stored(node))
    assert take(node, name) == {"CONN": CONN, "SAS": SAS}


PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "env", "environment": {"image": "unused:1"}, "environment_variables": VARIABLES},
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}


def test_a_pipelines_record_masks_them_and_its_orchestrator_gets_them_back(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    record = ws.get_job("p")
    assert record.spec["jobs"]["w"]["environment_variables"]["CONN"] == MASK
    assert record.extra["pipeline"]["steps"]["w"]["spec"]["environment_variables"]["SAS"] == MASK
    assert _clean(record.model_dump(mode="json")) and _clean(_stored(ws))
    assert any("jobs.w" in w and "CONN" in w for w in record.extra["warnings"])
    plan = PipelinePlan.of_record(ws, record)  # what the orchestrator runs from: the real values
    assert step_spec(plan.steps["w"]).environment_variables == VARIABLES
    assert not kept_file(ws, "p").exists()  # taken
    assert _clean(plan.to_extra())
    ws.create_job(JobRecord(name="earlier", status=JobStatus.COMPLETED))
    reused = reused_record(ws, plan.steps["w"], step_spec(plan.steps["w"]), "earlier", None)
    assert reused.spec["environment_variables"]["CONN"] == MASK and _clean(reused.model_dump(mode="json"))
