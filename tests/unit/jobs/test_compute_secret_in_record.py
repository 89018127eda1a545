"""A job's ``compute:`` is kept as written in its record (``job show -o json``, ``job list -o json``, the
UI's compute column), so a secret written there (a URL with a password or a SAS signature, a token) is
kept masked, as every message shows it (``without_secrets``): a pipeline's own ``compute``, its
``settings.default_compute`` and its steps' ``compute`` too. A compute's name is kept as written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.operations import JobOperations
from runner.jobs.submit import submit_job
from runner.pipelines.submit import submit_pipeline
from runner.spec.load import spec_from_data
from runner.spec.pipeline import pipeline_from_data
from runner.ui.jobs import job_row
from runner.workspace.db import Workspace

COMPUTE = "https://me:pw0491@head:8265/?sv=2021&sig=abc0492"
MASKED = "https://me:***@head:8265/?<query removed>"
TOKEN = "ghp_" + "T0493" * 8
HIDDEN = ("pw0491", "abc0492", "T0493")
JOB = {"command": "env", "environment": {"image": "unused:1"}}


def _stored(ws: Workspace) -> bytes:
    """Every byte of the database and its journals, and every cell read back through sqlite3."""
    files = b"".join(p.read_bytes() for p in ws.db_path.parent.glob(ws.db_path.name + "*"))
    with sqlite3.connect(ws.db_path) as conn:
        rows = [json.dumps(row, default=str) for row in conn.execute("SELECT * FROM jobs")]
    return files + "\n".join(rows).encode()


def _clean(data: Any) -> bool:
    text = data if isinstance(data, bytes) else json.dumps(data, default=str).encode()
    return not any(secret.encode() in text for secret in HIDDEN)


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


@pytest.mark.parametrize(("compute", "masked"), [(COMPUTE, MASKED), (f"azureml:{TOKEN}", "azureml:ghp_***")])
def test_a_jobs_record_keeps_its_compute_masked(tmp_path: Path, compute: str, masked: str) -> None:
    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({**JOB, "compute": compute}, base_dir=tmp_path)
    submit_job(ws, spec, name="j1", backend="process")
    record = ws.get_job("j1")
    assert record.spec["compute"] == masked
    assert _clean(record.model_dump(mode="json")) and _clean(_stored(ws))
    job = JobOperations(ws).get("j1")
    assert job.compute == masked and job_row(job)["compute_target"] == masked  # the SDK's, the UI's
    shown = _runner(tmp_path, "job", "show", "--name", "j1", "-o", "json")
    listed = _runner(tmp_path, "job", "list", "-o", "json")
    assert shown.returncode == listed.returncode == 0, shown.stderr + listed.stderr
    assert json.loads(shown.stdout)["spec"]["compute"] == masked
    assert _clean((shown.stdout + shown.stderr + listed.stdout + listed.stderr).encode())


@pytest.mark.parametrize("compute", ["cpu-cluster", "azureml:cpu-cluster", "local-process", "serverless"])
def test_a_compute_name_is_kept_as_written(tmp_path: Path, compute: str) -> None:
    ws = Workspace(tmp_path / "ws")
    spec = spec_from_data({**JOB, "compute": compute}, base_dir=tmp_path)
    submit_job(ws, spec, name="j1", backend="process")
    assert ws.get_job("j1").spec["compute"] == compute


def test_a_pipelines_record_keeps_its_computes_masked(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    pipeline = {"type": "pipeline", "compute": COMPUTE, "settings": {"default_compute": COMPUTE},
                "jobs": {"w": {**JOB, "compute": COMPUTE}, "v": {**JOB, "compute": "local-process"}}}
    submit_pipeline(ws, pipeline_from_data(pipeline, base_dir=tmp_path), name="p")
    record = ws.get_job("p")
    assert record.spec["compute"] == record.spec["settings"]["default_compute"] == MASKED
    assert record.spec["jobs"]["w"]["compute"] == MASKED
    assert record.spec["jobs"]["v"]["compute"] == "local-process"
    steps = record.extra["pipeline"]["steps"]
    assert steps["w"]["spec"]["compute"] == MASKED and steps["v"]["spec"]["compute"] == "local-process"
    assert _clean(record.model_dump(mode="json")) and _clean(_stored(ws))
