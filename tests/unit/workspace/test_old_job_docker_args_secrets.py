"""A secret an older runner's job set with ``-e NAME=VALUE`` in ``resources.docker_args`` stays in plain
text in its record: the spec's ``resources.docker_args`` and the stored plan's (``extra.plan.resources``).
The one masking of old records (``runner.workspace.old_job_secrets``) masks it as a new runner records it
(``NAME=***``, the plan's ``secret_env`` naming it ``docker_args --env=NAME``): a job still Queued keeps its
real value in its secrets file under that key, so its run's docker_args get it back; any other job is only
masked. A record whose spec has no ``environment_variables`` at all is masked too, a record a new runner
wrote is left as it is, and a step's reuse row whose fingerprint digested such a value is dropped."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

from runner.jobs.submit import submit_job
from runner.plan import env_secrets
from runner.plan.env_secrets import DOCKER_KEY, MASK, with_secret_env
from runner.plan.stored import plan_from_dict
from runner.spec.docker_env import env_pairs
from runner.spec.load import spec_from_data
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.job_secrets import kept_file, take
from runner.workspace.old_job_secrets import DONE_KEY, mask_old_jobs

DOCKER_TOKEN = "olddockertoken0481"
ENV_TOKEN = "oldenvtoken0482"
CONN = "AccountName=a;AccountKey=OLDDOCKERKEY0483=="
SECRETS = (b"olddockertoken0481", b"oldenvtoken0482", b"OLDDOCKERKEY0483")
REAL = {"HF_TOKEN": DOCKER_TOKEN, "STORE": CONN}  # what the old docker_args set
DOCKER_ONLY = {"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
               "resources": {"docker_args": f"-e HF_TOKEN={DOCKER_TOKEN} -e MODE=fast --env=STORE='{CONN}'"}}
BOTH = {**DOCKER_ONLY, "environment_variables": {"HF_TOKEN": ENV_TOKEN, "LEVEL": "2"}}


def _unmasked_args(args: list[str]) -> list[str]:
    """Each ``NAME=***`` token as the older runner kept it: the token as written (split, not quoted)."""
    real = {f"{prefix}{name}={MASK}": f"{prefix}{name}={value}" for name, value in REAL.items()
            for prefix in ("", "--env=")}
    return [real.get(token, token) for token in args]


def _unmasked(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a runner before docker_args' masking wrote it: the real values in the spec's and the
    plan's docker_args, no docker_args key in the plan's ``secret_env``."""
    spec, plan = record["spec"], record["extra"]["plan"]
    spec["resources"]["docker_args"] = _unmasked_args(spec["resources"]["docker_args"])
    plan["resources"]["docker_args"] = _unmasked_args(plan["resources"]["docker_args"])
    plan["secret_env"] = [key for key in plan["secret_env"] if not key.startswith(DOCKER_KEY)]
    if spec.get("environment_variables"):  # a secret environment_variables' as an older runner kept it too
        spec["environment_variables"] = {**spec["environment_variables"], "HF_TOKEN": ENV_TOKEN}
        for field in ("env", "host_env"):
            plan[field] = {**plan[field], "HF_TOKEN": ENV_TOKEN}
        plan["secret_env"] = []
    return record


def _stored(root: Path) -> bytes:
    files = b"".join(p.read_bytes() for p in root.glob("runner.db*"))
    with sqlite3.connect(root / "runner.db") as conn:
        rows = [json.dumps(list(row)) for table in ("jobs", "step_reuse")
                for row in conn.execute(f"SELECT * FROM {table}")]
    return files + "\n".join(rows).encode()


def _old(tmp_path: Path) -> Path:
    """A workspace as an older runner left it: Queued and Completed jobs whose docker_args set secrets
    (one with a secret environment_variables of the same name too), a step's reuse row, no kept file."""
    root = tmp_path / "ws"
    ws = Workspace(root)
    for name, data in (("queued", DOCKER_ONLY), ("done", DOCKER_ONLY), ("both", BOTH), ("bothdone", BOTH)):
        submit_job(ws, spec_from_data(data, base_dir=tmp_path), name=name, backend="process")
    for name in ("done", "bothdone"):
        ws.update_job(name, status=JobStatus.COMPLETED)
    ws._forget_connection()
    for path in ws.secrets_dir.glob("job-*.json"):
        path.unlink()
    with sqlite3.connect(root / "runner.db") as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (DONE_KEY,))
        for name, record in conn.execute("SELECT name, record FROM jobs").fetchall():
            conn.execute("UPDATE jobs SET record = ? WHERE name = ?",
                         (json.dumps(_unmasked(json.loads(record))), name))
        conn.execute("INSERT INTO step_reuse VALUES ('step:docker', 'done', '2026-01-01T00:00:00+00:00')")
    assert all(secret in _stored(root) for secret in SECRETS)  # the test starts where the defect is
    return root


def test_a_queued_jobs_docker_args_secrets_are_masked_and_kept_for_its_run(tmp_path: Path) -> None:
    root = _old(tmp_path)
    ws = Workspace(root)
    changed = mask_old_jobs(ws, env_secrets)
    assert sorted(changed) == ["both", "bothdone", "done", "queued"]
    ws._forget_connection()
    assert not any(secret in _stored(root) for secret in SECRETS)
    for name in ("queued", "done"):
        record = ws.get_job(name)
        assert record.spec["resources"]["docker_args"] == ["-e", "HF_TOKEN=***", "-e", "MODE=fast",
                                                           "--env=STORE=***"]
        plan = plan_from_dict(record.extra["plan"])
        assert plan.secret_env == ("docker_args --env=HF_TOKEN", "docker_args --env=STORE")
        assert plan.resources.docker_args == ("-e", "HF_TOKEN=***", "-e", "MODE=fast", "--env=STORE=***")
    # only the Queued job keeps its values, owner-only, under docker_args' own keys
    assert sorted(p.name for p in ws.secrets_dir.glob("job-*")) == ["job-both.json", "job-queued.json"]
    assert stat.S_IMODE(kept_file(ws, "queued").stat().st_mode) == 0o600
    run = with_secret_env(plan_from_dict(ws.get_job("queued").extra["plan"]), take(ws, "queued"))
    assert env_pairs(run.resources.docker_args) == [("HF_TOKEN", DOCKER_TOKEN), ("MODE", "fast"),
                                                    ("STORE", CONN)]
    with ws.reading() as conn:
        assert conn.execute("SELECT COUNT(*) FROM step_reuse").fetchone()[0] == 0  # it digested them


def test_the_same_name_in_environment_variables_keeps_its_own_value(tmp_path: Path) -> None:
    root = _old(tmp_path)
    ws = Workspace(root)
    mask_old_jobs(ws, env_secrets)
    record = ws.get_job("both")
    assert record.spec["environment_variables"] == {"HF_TOKEN": MASK, "LEVEL": "2"}
    plan = plan_from_dict(record.extra["plan"])
    assert plan.secret_env == (  # as built
        "HF_TOKEN", "docker_args --env=HF_TOKEN", "docker_args --env=STORE")
    assert plan.env["HF_TOKEN"] == MASK
    assert json.loads(kept_file(ws, "both").read_text()) == {
        "HF_TOKEN": ENV_TOKEN, "docker_args --env=HF_TOKEN": DOCKER_TOKEN, "docker_args --env=STORE": CONN}
    run = with_secret_env(plan, take(ws, "both"))
    assert run.env["HF_TOKEN"] == ENV_TOKEN
    assert ("HF_TOKEN", DOCKER_TOKEN) in env_pairs(run.resources.docker_args)


def test_a_new_runners_record_is_left_as_it_is(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = Workspace(root)
    submit_job(ws, spec_from_data(BOTH, base_dir=tmp_path), name="new", backend="process")
    kept = kept_file(ws, "new").read_text()
    before = ws.get_job("new")
    ws._forget_connection()
    with sqlite3.connect(root / "runner.db") as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (DONE_KEY,))
    assert mask_old_jobs(Workspace(root), env_secrets) == []
    assert Workspace(root).get_job("new") == before and kept_file(ws, "new").read_text() == kept
