"""One malformed record in a workspace an older runner wrote never breaks the job commands: the one masking
of old records (``runner.workspace.old_job_secrets.mask_old_jobs``, run when the jobs are opened) masks it
as far as it can be, never leaving a secret it finds in plain text, says so once (one warning naming the
job and what was wrong, never a value), and masks every other record as before. A plan's ``secret_env``
that is not a list of names (``5``, a string, a list with a number) is replaced by the names of the
plan's secrets, so ``job list`` and ``job show`` read the record again; a record the masking cannot read
at all is masked wherever a secret is found in it."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.operations import JobOperations
from runner.jobs.submit import submit_job
from runner.plan import env_secrets
from runner.plan.env_secrets import MASK, with_secret_env
from runner.plan.stored import plan_from_dict
from runner.spec.load import spec_from_data
from runner.workspace import old_job_secrets
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.job_secrets import take
from runner.workspace.old_job_secrets import DONE_KEY, mask_old_jobs

TOKEN = "oldplaintoken0491"
CONN = "AccountName=a;AccountKey=OLDMALFORMED0492=="
SECRETS = (b"oldplaintoken0491", b"OLDMALFORMED0492")
VARIABLES = {"HF_TOKEN": TOKEN, "STORE": CONN, "MODE": "fast"}
JOB = {"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
       "environment_variables": VARIABLES}


def _unmasked(record: dict[str, Any], secret_env: Any) -> dict[str, Any]:
    """The record as a runner before the masking wrote it (the real values in its spec and plan), its
    plan's ``secret_env`` then set to ``secret_env`` (a malformed one)."""
    record["spec"]["environment_variables"] = dict(VARIABLES)
    plan = record["extra"]["plan"]
    for field in ("env", "host_env"):
        plan[field] = {**plan[field], **VARIABLES}
    plan["secret_env"] = secret_env
    return record


def _old(tmp_path: Path, secret_env: Any) -> Path:
    """An older runner's workspace: a Queued job 'bad' whose plan's secret_env is ``secret_env``, a
    Completed job 'good' as such a runner wrote it, no kept file, no marker."""
    root = tmp_path / "ws"
    ws = Workspace(root)
    for name in ("bad", "good"):
        submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name=name, backend="process")
    ws.update_job("good", status=JobStatus.COMPLETED)
    ws._forget_connection()
    for path in ws.secrets_dir.glob("job-*.json"):
        path.unlink()
    with sqlite3.connect(root / "runner.db") as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (DONE_KEY,))
        for name, text in conn.execute("SELECT name, record FROM jobs").fetchall():
            record = _unmasked(json.loads(text), secret_env if name == "bad" else [])
            conn.execute("UPDATE jobs SET record = ? WHERE name = ?", (json.dumps(record), name))
    return root


def _stored(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.glob("runner.db*"))


def _runner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=tmp_path)


def _masked_as_new(ws: Workspace, name: str) -> None:
    record = ws.get_job(name)
    assert record.spec["environment_variables"] == {"HF_TOKEN": MASK, "STORE": MASK, "MODE": "fast"}
    plan = plan_from_dict(record.extra["plan"])
    assert plan.secret_env == ("HF_TOKEN", "STORE")
    assert plan.env["HF_TOKEN"] == plan.host_env["STORE"] == MASK and plan.env["MODE"] == "fast"


def test_the_job_commands_work_on_a_record_with_a_malformed_secret_env(tmp_path: Path) -> None:
    root = _old(tmp_path, 5)
    listed = _runner(tmp_path, "job", "list")
    assert listed.returncode == 0 and "internal error" not in listed.stderr, listed.stderr
    assert "bad" in listed.stdout and "good" in listed.stdout
    shown = _runner(tmp_path, "job", "show", "--name", "bad", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "bad"
    printed = listed.stdout + listed.stderr + shown.stdout + shown.stderr
    assert not [s for s in SECRETS if s.decode() in printed]
    assert not any(secret in _stored(root) for secret in SECRETS)


@pytest.mark.parametrize("secret_env", [5, "HF_TOKEN", ["HF_TOKEN", 1], {"HF_TOKEN": 1}, [None]])
def test_a_malformed_secret_env_is_replaced_by_the_plans_secrets(tmp_path: Path, secret_env: Any,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    root = _old(tmp_path, secret_env)
    ws = Workspace(root)
    with caplog.at_level(logging.WARNING):
        assert sorted(mask_old_jobs(ws, env_secrets)) == ["bad", "good"]
    assert not any(secret in _stored(root) for secret in SECRETS)
    for name in ("bad", "good"):
        _masked_as_new(ws, name)
    # the queued job keeps its values for its run, as any other would
    run_plan = with_secret_env(plan_from_dict(ws.get_job("bad").extra["plan"]), take(ws, "bad"))
    assert run_plan.env["HF_TOKEN"] == TOKEN and run_plan.host_env["STORE"] == CONN
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "bad" in warned[0] and "secret_env" in warned[0], warned
    assert "good" not in warned[0] and TOKEN not in warned[0]
    with ws.reading() as conn:
        assert conn.execute("SELECT 1 FROM meta WHERE key = ?", (DONE_KEY,)).fetchone() is not None


def test_a_record_the_masking_cannot_read_is_masked_wherever_a_secret_is_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A record in a shape no runner wrote (here: one the plan's masking fails on) does not stop the
    others' masking, nor the job commands; its secrets are masked wherever they are, its values are not
    kept (nothing says which of them its run would take), and one warning says so."""
    root = _old(tmp_path, [])
    real = old_job_secrets._masked_plan

    def failing(rule: Any, plan: Any, variables: dict[str, Any]) -> Any:
        if isinstance(plan, dict) and plan.get("job_name") == "bad":
            raise TypeError("unexpected shape")
        return real(rule, plan, variables)

    monkeypatch.setattr(old_job_secrets, "_masked_plan", failing)
    with caplog.at_level(logging.WARNING):
        ops = JobOperations(Workspace(root))
    assert ops.get("bad").name == "bad" and [job.name for job in ops.list()]
    assert not any(secret in _stored(root) for secret in SECRETS)
    ws = Workspace(root)
    _masked_as_new(ws, "good")
    plan = ws.get_job("bad").extra["plan"]
    assert plan["env"]["HF_TOKEN"] == plan["host_env"]["STORE"] == MASK and plan["env"]["MODE"] == "fast"
    assert ws.get_job("bad").spec["environment_variables"]["STORE"] == MASK
    assert take(ws, "bad") == {}
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "bad" in warned[0] and "TypeError" in warned[0], warned
    assert TOKEN not in warned[0]
