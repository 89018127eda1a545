"""A workspace an older runner used (before secret ``environment_variables`` were masked) keeps their real
values in its job records: a job's spec and plan, a pipeline's spec and its steps' plans, in ``runner.db``.
The first time this runner opens the workspace's jobs (``JobOperations``: every job command, the UI,
``ml_client.jobs``) it masks them in place, once: the records read as a new runner writes them
(``***``, the plan's ``secret_env``), no byte of the values stays in the database or its WAL, a job still
Queued gets its values kept in the owner-only secrets folder for its run (a Ray job's are in its package),
and the reuse rows of the steps whose fingerprint digested a secret are dropped. No link is followed."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.operations import JobOperations
from runner.jobs.submit import submit_job
from runner.pipelines.record import PipelinePlan, step_spec
from runner.pipelines.submit import submit_pipeline
from runner.plan import env_secrets
from runner.plan.env_secrets import MASK, with_secret_env
from runner.plan.stored import plan_from_dict
from runner.spec.load import spec_from_data
from runner.spec.pipeline import pipeline_from_data
from runner.workspace import old_job_secrets
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.job_secrets import kept_file, take
from runner.workspace.old_job_secrets import DONE_KEY, mask_old_jobs

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=OLDSECRET0451==;EndpointSuffix=core.example"
TOKEN = "oldplaintoken0452"
SECRETS = (b"OLDSECRET0451", b"oldplaintoken0452")
VARIABLES = {"CONN": CONN, "HF_TOKEN": TOKEN, "MODE": "fast"}
JOB = {"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
       "environment_variables": VARIABLES}
PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "env", "environment": {"image": "unused:1"}, "environment_variables": VARIABLES},
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}


def _unmasked(data: Any) -> Any:
    """``data`` (a record) as a runner before the masking wrote it: every ``***`` of an
    ``environment_variables`` mapping and of a plan's ``env``/``host_env`` its real value, no
    ``secret_env``."""
    if isinstance(data, list):
        return [_unmasked(item) for item in data]
    if not isinstance(data, dict):
        return data
    found = {}
    for key, value in data.items():
        if key in ("environment_variables", "env", "host_env") and isinstance(value, dict):
            found[key] = {n: VARIABLES[n] if v == MASK and n in VARIABLES else v for n, v in value.items()}
        elif key != "secret_env":
            found[key] = _unmasked(value)
    return found


def _stored(root: Path) -> bytes:
    files = b"".join(p.read_bytes() for p in root.glob("runner.db*"))
    with sqlite3.connect(root / "runner.db") as conn:
        rows = [json.dumps(list(row), default=str) for table in ("jobs", "step_reuse", "meta")
                for row in conn.execute(f"SELECT * FROM {table}")]
    return files + "\n".join(rows).encode()


@pytest.fixture
def old(tmp_path: Path) -> Iterator[Path]:
    """A workspace as an older runner left it: a Completed job, a Queued job, a Queued Ray job, a Queued
    pipeline and a completed step with a reuse row, each record with the real values (written twice, as
    a record is updated, by a writer that stays open: the WAL holds the old frames), no kept file."""
    root = tmp_path / "ws"
    ws = Workspace(root)
    for name in ("done", "queued", "onray", "step"):
        submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name=name, backend="process")
    submit_job(ws, spec_from_data({**JOB, "environment_variables": {"MODE": "fast"}}, base_dir=tmp_path),
               name="plain", backend="process")
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    ws.update_job("done", status=JobStatus.COMPLETED)
    ws.update_job("step", status=JobStatus.COMPLETED)
    ws.update_job("plain", status=JobStatus.COMPLETED)
    ws.update_job("onray", merge_extra={"ray": {"compute": "r", "submission_id": "onray"}})
    ws._forget_connection()
    for path in ws.secrets_dir.glob("job-*.json"):
        path.unlink()
    writer = sqlite3.connect(root / "runner.db", isolation_level=None)
    writer.execute("DELETE FROM meta WHERE key = ?", (DONE_KEY,))
    for _ in range(2):
        for name, record in writer.execute("SELECT name, record FROM jobs").fetchall():
            writer.execute("UPDATE jobs SET record = ? WHERE name = ?",
                           (json.dumps(_unmasked(json.loads(record))), name))
    writer.executemany("INSERT INTO step_reuse VALUES (?, ?, '2026-01-01T00:00:00+00:00')",
                       [("step:secret", "step"), ("step:plain", "plain")])
    assert all(secret in _stored(root) for secret in SECRETS)  # the test starts where the defect is
    yield root
    writer.close()


def _opened(root: Path) -> Workspace:
    ws = Workspace(root)
    mask_old_jobs(ws, env_secrets)
    return ws


def test_old_records_are_masked_in_place_once(old: Path) -> None:
    ws = _opened(old)
    assert not any(secret in _stored(old) for secret in SECRETS)
    for name in ("done", "queued", "onray", "step"):
        record = ws.get_job(name)
        assert record.spec["environment_variables"] == {"CONN": MASK, "HF_TOKEN": MASK, "MODE": "fast"}
        plan = plan_from_dict(record.extra["plan"])
        assert plan.secret_env == ("CONN", "HF_TOKEN")
        assert plan.env["CONN"] == plan.host_env["HF_TOKEN"] == MASK and plan.env["MODE"] == "fast"
    pipeline = ws.get_job("p")
    assert pipeline.spec["jobs"]["w"]["environment_variables"]["HF_TOKEN"] == MASK
    assert pipeline.extra["pipeline"]["steps"]["w"]["spec"]["environment_variables"]["CONN"] == MASK
    # only the jobs that will still run keep their values, owner-only, for their run
    assert sorted(p.name for p in ws.secrets_dir.glob("job-*")) == ["job-p.json", "job-queued.json"]
    assert stat.S_IMODE(kept_file(ws, "queued").stat().st_mode) == 0o600
    run_plan = with_secret_env(plan_from_dict(ws.get_job("queued").extra["plan"]), take(ws, "queued"))
    assert run_plan.env["CONN"] == CONN and run_plan.host_env["HF_TOKEN"] == TOKEN
    assert step_spec(PipelinePlan.of_record(ws, pipeline).steps["w"]).environment_variables == VARIABLES
    with ws.reading() as conn:
        assert [r[0] for r in conn.execute("SELECT fingerprint FROM step_reuse")] == ["step:plain"]
        assert conn.execute("SELECT value FROM meta WHERE key = ?", (DONE_KEY,)).fetchone()[0] == 1


def test_opening_the_jobs_masks_them_once(old: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite3.connect(old / "runner.db") as conn:
        conn.execute("DELETE FROM jobs WHERE name = 'onray'")  # no Ray follower for recovery to look for
    ops = JobOperations(Workspace(old))
    assert ops.get("done").spec["environment_variables"]["HF_TOKEN"] == MASK
    assert not any(secret in _stored(old) for secret in SECRETS)

    def looked(*_: object) -> None:
        raise AssertionError("the records were read again")

    monkeypatch.setattr(old_job_secrets, "_mask_records", looked)
    JobOperations(Workspace(old)).get("done")


def test_a_link_at_a_kept_files_place_is_replaced_not_followed(old: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    os.symlink(outside, old / "secrets" / "job-queued.json")
    ws = _opened(old)
    assert outside.read_text() == "{}"
    path = kept_file(ws, "queued")
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"CONN": CONN, "HF_TOKEN": TOKEN}


def test_a_secrets_folder_that_is_a_link_leaves_them_for_later(old: Path, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """The values of a job still to run cannot be kept without following the link: nothing is changed
    (the job would run with ***), one warning says why and what to do, and the next open tries again."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (old / "secrets").rename(tmp_path / "moved")
    os.symlink(outside, old / "secrets")
    with caplog.at_level(logging.WARNING):
        ws = _opened(old)
    assert list(outside.iterdir()) == []
    assert ws.get_job("queued").spec["environment_variables"]["CONN"] == CONN  # its run still gets it
    warned = [r.getMessage() for r in caplog.records if "link" in r.getMessage()]
    assert len(warned) == 1 and str(old / "secrets") in warned[0]
    os.unlink(old / "secrets")
    (tmp_path / "moved").rename(old / "secrets")
    _opened(old)._forget_connection()
    assert not any(secret in _stored(old) for secret in SECRETS)
