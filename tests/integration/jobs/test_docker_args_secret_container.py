"""A job whose ``resources.docker_args`` set secrets (``-e API_TOKEN=...``, ``--env=DB_PASSWORD=...``, a
connection string under a neutral name) runs as written in a real container (busybox, no network): the
container gets each variable with its value, docker_args' winning over the same name in
``environment_variables`` as docker merges them, while ``job create``'s output (one warning naming the
docker_args variables), ``job create --dry-run -o json``, ``job show -o json``, every file in the job's
folder and every byte and row of ``runner.db`` hold none of the values (``NAME=***`` where they were). The
job prints a digest of each value, never the value; the secrets file is gone once the job ran."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
from jobs_support import cli, job_log, show, write_job

DOCKER = {"API_TOKEN": "DOCKSECRET0462", "DB_PASSWORD": "DOCKPW0463",
          "STORAGE": "AccountName=a;AccountKey=DOCKKEY0464=="}
ENV_TOKEN = "ENVSIDESECRET0461"  # environment_variables' API_TOKEN: the container gets docker_args'
SECRETS = ("DOCKSECRET0462", "DOCKPW0463", "DOCKKEY0464", "ENVSIDESECRET0461")
PRINT = ("for v in API_TOKEN DB_PASSWORD STORAGE; do eval \"x=\\$$v\"; printf '%s=' \"$v\"; "
         "printf %s \"$x\" | sha256sum | cut -c1-64; done; echo \"MODE=$MODE\"; "
         "echo \"NET=$(ls /sys/class/net | tr '\\n' ' ')\"")
DOCKER_ARGS = ("-e MODE=fast -e API_TOKEN=DOCKSECRET0462 --env=DB_PASSWORD=DOCKPW0463 "
               "-e 'STORAGE=AccountName=a;AccountKey=DOCKKEY0464==' --pids-limit 256")


def _clean(raw: bytes) -> bool:
    return not any(secret.encode() in raw for secret in SECRETS)


def _database(ws: Path) -> bytes:
    files = b"".join(p.read_bytes() for p in ws.glob("runner.db*"))
    with sqlite3.connect(ws / "runner.db") as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [json.dumps(row, default=str) for table in tables
                for row in conn.execute(f'SELECT * FROM "{table}"')]  # noqa: S608 - the db's own table names
    return files + "\n".join(rows).encode()


def _job_files(folder: Path) -> bytes:
    """Every regular file in the job's folder (a link is not followed)."""
    found = b""
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                found += path.read_bytes()
    return found


@pytest.mark.docker
def test_a_docker_args_secret_reaches_the_container_and_no_record_holds_it(workspace_dir: Path,
                                                                           tmp_path: Path) -> None:
    ws, name = workspace_dir, "dargs-secret"
    job = write_job(tmp_path, "\n".join([
        f"command: {json.dumps(PRINT)}", "environment: {image: runner/busybox:latest}",
        "environment_variables:", f"  API_TOKEN: {ENV_TOKEN}", "  MODE: slow",
        "resources:", f"  docker_args: {json.dumps(DOCKER_ARGS)}"]) + "\n")
    dry = cli(ws, "job", "create", "--file", str(job), "--dry-run", "-o", "json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert _clean((dry.stdout + dry.stderr).encode()) and "API_TOKEN=***" in dry.stdout
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = dict(line.split("=", 1) for line in job_log(result.stdout).splitlines()
                if line.split("=", 1)[0] in (*DOCKER, "MODE", "NET"))
    assert seen == {**{k: hashlib.sha256(v.encode()).hexdigest() for k, v in DOCKER.items()},
                    "MODE": "fast", "NET": "lo "}  # as written; no network but loopback
    assert _clean((result.stdout + result.stderr).encode())
    said = [line for line in result.stderr.splitlines() if "docker_args set" in line]
    assert len(said) == 1 and "API_TOKEN, DB_PASSWORD, STORAGE" in said[0], result.stderr
    record = show(ws, name)
    assert record["status"] == "Completed"
    assert "API_TOKEN=***" in record["spec"]["resources"]["docker_args"]
    assert "--pids-limit" in record["extra"]["plan"]["resources"]["docker_args"]
    shown = cli(ws, "job", "show", "--name", name, "-o", "json", check=True).stdout
    assert _clean(shown.encode()) and _clean(json.dumps(record).encode())
    assert _clean(_job_files(ws / "jobs" / name))
    assert _clean(_database(ws))
    assert list((ws / "secrets").glob("job-*")) == []  # taken when the job started
