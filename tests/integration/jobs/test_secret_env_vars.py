"""Secrets a user wrote in ``environment_variables`` (a connection string's account key, a SAS URL, a
``*_TOKEN``) reach a real job, a host process and a container alike, while nothing recorded or printed
holds them: ``job create``'s output (one warning naming the variables), ``job show -o json``,
``job list -o json``, ``job create --dry-run -o json``, every byte of ``runner.db`` (and its journals)
and every row read back with sqlite3, and the UI's ``/api/jobs/<name>`` view. The jobs print a digest of
each value, never the value, so their logs hold no secret either; the secrets file is gone once the job
ran."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from jobs_support import cli, job_log, show, write_job

CONN = ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SUPERSECRETkey0451==;"
        "EndpointSuffix=core.windows.net")
SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=SECRETSIG0452"
TOKEN = "hf_SECRETTOKEN0453"
SECRETS = ("SUPERSECRETkey0451", "SECRETSIG0452", "SECRETTOKEN0453")
VALUES = {"CONN": CONN, "SAS": SAS, "HF_TOKEN": TOKEN}

# the digests of the variables as the job sees them, one line each: the values themselves are never printed
PRINT = ("for v in CONN SAS HF_TOKEN; do eval \"x=\\$$v\"; printf '%s=' \"$v\"; "
         "printf %s \"$x\" | sha256sum | cut -c1-64; done; echo \"MODE=$MODE\"")


def _job(tmp_path: Path, *environment: str) -> Path:
    lines = [f"command: {json.dumps(PRINT)}", "environment_variables:", f"  CONN: {json.dumps(CONN)}",
             f"  SAS: {json.dumps(SAS)}", f"  HF_TOKEN: {TOKEN}", "  MODE: fast", *environment]
    return write_job(tmp_path, "\n".join(lines) + "\n")


def _clean(text: str | bytes) -> bool:
    raw = text if isinstance(text, bytes) else text.encode()
    return not any(secret.encode() in raw for secret in SECRETS)


def _database(ws: Path) -> bytes:
    files = b"".join(p.read_bytes() for p in ws.glob("runner.db*"))
    with sqlite3.connect(ws / "runner.db") as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [json.dumps(row, default=str) for table in tables
                for row in conn.execute(f'SELECT * FROM "{table}"')]  # noqa: S608 - the db's own table names
    return files + "\n".join(rows).encode()


def _seen(stdout: str) -> dict[str, str]:
    wanted = (*VALUES, "MODE")
    pairs = [line.split("=", 1) for line in job_log(stdout).splitlines() if line.split("=", 1)[0] in wanted]
    return {key: value for key, value in pairs}


def _api_view(ws: Path, name: str) -> str:
    """What the UI's ``/api/jobs/<name>`` and ``/jobs/<name>`` show of the job (its view, as JSON)."""
    from runner.jobs.operations import JobOperations
    from runner.ui.jobs import job_view
    from runner.workspace.db import Workspace

    return json.dumps(job_view(JobOperations(Workspace(ws)), name), default=str)


def _check(ws: Path, tmp_path: Path, job: Path, name: str, *extra: str) -> None:
    dry = cli(ws, "job", "create", "--file", str(job), "--dry-run", "-o", "json", *extra)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert _clean(dry.stdout + dry.stderr) and '"CONN": "***"' in dry.stdout
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name, *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = _seen(result.stdout)
    assert seen == {**{k: hashlib.sha256(v.encode()).hexdigest() for k, v in VALUES.items()}, "MODE": "fast"}
    assert _clean(result.stdout + result.stderr)
    said = [line for line in result.stderr.splitlines() if "look like secrets" in line]
    assert len(said) == 1 and "CONN, SAS, HF_TOKEN" in said[0], result.stderr
    record = show(ws, name)
    assert record["status"] == "Completed"
    assert record["spec"]["environment_variables"] == {"CONN": "***", "SAS": "***", "HF_TOKEN": "***",
                                                       "MODE": "fast"}
    assert record["extra"]["plan"]["env"]["CONN"] == "***"
    listed = cli(ws, "job", "list", "-o", "json", check=True).stdout
    shown = cli(ws, "job", "show", "--name", name, "-o", "json", check=True).stdout
    for text in (json.dumps(record), listed, shown, _api_view(ws, name)):
        assert _clean(text)
    assert _clean(_database(ws))
    assert _clean((ws / "jobs" / name / "user_logs" / "std_log.txt").read_bytes())
    assert list((ws / "secrets").glob("job-*")) == []  # taken when the job started


def test_a_process_job_gets_its_secrets_and_no_record_holds_them(workspace_dir: Path, tmp_path: Path) -> None:
    job = _job(tmp_path, "compute: local-process", "environment:", "  image: runner/python:3.11")
    _check(workspace_dir, tmp_path, job, "senv-proc", "--backend", "process")


@pytest.mark.docker
def test_a_docker_job_gets_its_secrets_and_no_record_holds_them(workspace_dir: Path, tmp_path: Path) -> None:
    job = _job(tmp_path, "environment:", "  image: runner/busybox:latest")
    _check(workspace_dir, tmp_path, job, "senv-docker")


def test_a_pipeline_step_gets_its_secrets_and_no_record_holds_them(workspace_dir: Path,
                                                                   tmp_path: Path) -> None:
    ws = workspace_dir
    job = _job(tmp_path, "environment: {image: unused:1}")
    step = [f"    {line}" for line in job.read_text().splitlines()]
    head = ["type: pipeline", "settings:", "  default_compute: local-process", "jobs:", "  env:",
            "    type: command"]
    pipeline = write_job(tmp_path, "\n".join([*head, *step]) + "\n", "pipeline.yml")
    result = cli(ws, "job", "create", "--file", str(pipeline), "--stream", "--name", "senv-pipe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _clean(result.stdout + result.stderr)
    lines = [line.removeprefix("[env] ") for line in result.stdout.splitlines() if line.startswith("[env] ")]
    digests = {k: v for k, v in (line.split("=", 1) for line in lines if "=" in line) if k in VALUES}
    assert digests == {k: hashlib.sha256(v.encode()).hexdigest() for k, v in VALUES.items()}
    for name in ("senv-pipe", "senv-pipe-env"):
        assert _clean(json.dumps(show(ws, name)))
    assert show(ws, "senv-pipe")["spec"]["jobs"]["env"]["environment_variables"]["CONN"] == "***"
    assert _clean(_database(ws)) and _clean(cli(ws, "job", "list", "-o", "json", check=True).stdout)
    assert list((ws / "secrets").glob("job-*")) == []
