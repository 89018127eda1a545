"""Web UI speed: every list and detail page rendered server-side against a workspace with 10,000 model
versions and 10,000 jobs (target <= 100 ms each), and `runner ui` ready (target < 1 s).

    python bench/bench_ui.py [--reps 15] [--models 1000] [--versions 10] [--jobs 10000] [--write]

The workspace is built through the workspace layer in a temporary folder: one model folder registered
for real (its files are what every version lists), the other versions inserted as rows in one
transaction (``ModelStore.insert_version``), one job run for real as a host process, and its record
cloned into the other jobs (``Workspace.create_job``: each job reads a model version, so the lineage index
has 10,000 rows; one model is read by a tenth of them). Pages are timed in this process, as ASGI calls
into the app (no network, no browser): from the request to the last byte of the body, median of
``--reps`` after two warm-ups.

Baselines, measured in the same run: for a list, the operation that existed before the UI (the whole
``models.list()`` / ``jobs.list()``, then the first 50); for "the jobs that read a model", a scan of
every job record. For `runner ui` ready (spawn to the first 200 of /jobs, no fork server): the same
interpreter running `runner --version`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `runner` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, load_average, machine_info, print_out, render_table  # noqa: E402

TEAMS = ("vision", "nlp", "speech", "tabular", "ranking")
STATUSES = ("Completed",) * 8 + ("Failed", "Canceled")
TARGET_MS = 100.0
TOKEN = "bench-ui-access-token-0123456789"  # the UI needs one on loopback too (runner.ui.security)


# ---- the workspace ------------------------------------------------------------------------------
def build_workspace(root: Path, models: int, versions: int, jobs: int) -> dict[str, str]:
    from runner import load_job
    from runner.client import MLClient
    from runner.spec.model import Model
    from runner.workspace.db import JobStatus, utcnow
    from runner.workspace.models import ModelStore

    client = MLClient(workspace_dir=root / "ws")
    ws = client.workspace
    files = root / "model-files"
    (files / "sub").mkdir(parents=True)
    (files / "model.pkl").write_bytes(os.urandom(4096))
    (files / "sub" / "config.json").write_text("{}")
    seed = client.models.create(Model(name="model-0000", path=str(files), tags={"team": TEAMS[0]}))
    started = time.perf_counter()
    store, now = ModelStore(ws), utcnow()
    with ws.transaction() as conn:
        for m in range(models):
            name = f"model-{m:04d}"
            store.ensure_container(conn, name)
            for v in range(1, versions + 1):
                if (m, v) == (0, 1):
                    continue  # the one registered for real
                store.insert_version(conn, Model(
                    name=name, version=str(v), path=seed.path, datastore_uri=seed.datastore_uri,
                    tags={"team": TEAMS[m % len(TEAMS)], "stage": "prod" if v == versions else "dev"},
                    description=f"version {v} of {name}",
                    created_at=now - timedelta(minutes=m * versions + v),
                    archived=m % 50 == 49, job_name=f"job-{(m * versions + v) % jobs:05d}"), source=None)
    models_s = time.perf_counter() - started
    spec = root / "job.yml"
    spec.write_text("command: ls ${{inputs.model}} && echo done > ${{outputs.out}}/done.txt\n"
                    "inputs:\n  model: {type: custom_model, path: azureml:model-0000:1, mode: download}\n"
                    "outputs:\n  out: {type: uri_folder, mode: upload}\n"
                    "compute: local-process\nenvironment:\n  image: host:1\n")
    template = client.jobs.create_or_update(load_job(spec), name="job-template", stream=True,
                                            echo=lambda _chunk: None, quiet=True)
    started = time.perf_counter()
    for j in range(jobs):
        model = 0 if j % 10 == 0 else (j * 7) % models
        plan = dict(template.extra["plan"])
        plan["inputs"] = [{**plan["inputs"][0], "cache_key": f"model:model-{model:04d}:{j % versions + 1}"}]
        ws.create_job(template.model_copy(update={
            "name": f"job-{j:05d}", "status": JobStatus(STATUSES[j % len(STATUSES)]),
            "experiment_name": f"exp-{j % 20}", "backend": "process" if j % 3 else "docker",
            "created_at": now - timedelta(seconds=jobs - j), "runner_pid": None,
            "extra": {**template.extra, "plan": plan}}))
    jobs_s = time.perf_counter() - started
    return {"ws": str(ws.root), "models_s": f"{models_s:.1f}", "jobs_s": f"{jobs_s:.1f}",
            "job": f"job-{jobs // 2:05d}", "model": "model-0000", "other_model": f"model-{models // 2:04d}"}


# ---- in-process ASGI calls ----------------------------------------------------------------------
async def call(app: Any, path: str) -> tuple[int, int]:
    """GET ``path`` through the ASGI app; (status, body bytes)."""
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
             "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {TOKEN}".encode())]}
    status, size = 0, 0
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    return status, size


async def time_page(app: Any, path: str, reps: int) -> tuple[float, int]:
    """Median milliseconds of ``reps`` requests (after two warm-ups) and the body size."""
    for _ in range(2):
        status, size = await call(app, path)
        assert status == 200, f"{path}: HTTP {status}"
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        await call(app, path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def time_call(action: Callable[[], Any], reps: int) -> float:
    action()
    times = []
    for _ in range(max(3, reps // 3)):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def baselines(client: Any, names: dict[str, str], reps: int) -> dict[str, float]:
    """The operations that existed before the UI, doing the same work."""
    jobs = client.jobs
    model = names["model"]

    def readers() -> list[str]:
        return [j.name for j in jobs.list() if any(i.get("cache_key", "").startswith(f"model:{model}:")
                                                    for i in j.extra.get("plan", {}).get("inputs", []))][:50]

    return {"models": time_call(lambda: list(client.models.list())[:50], reps),
            "jobs": time_call(lambda: jobs.list()[:50], reps),
            "readers": time_call(readers, reps)}


def measure_pages(root: Path, names: dict[str, str], reps: int) -> list[Row]:
    from runner.client import MLClient
    from runner.ui.app import create_app

    client = MLClient(workspace_dir=names["ws"])
    app = create_app(client, token=TOKEN)
    base = baselines(client, names, reps)
    job, model, other = names["job"], names["model"], names["other_model"]
    pages: list[tuple[str, str, str | None]] = [  # (what, path, baseline)
        ("jobs list", "/jobs", "jobs"),
        ("jobs list, last page", "/jobs?offset=9950", "jobs"),
        ("jobs list, status=Failed", "/jobs?status=Failed", "jobs"),
        ("jobs list, compute=docker", "/jobs?compute=docker", "jobs"),
        ("jobs list, experiment + name", "/jobs?experiment=exp-7&name=job-0", "jobs"),
        ("job page", f"/jobs/{job}", None),
        ("job overview fragment", f"/jobs/{job}/overview", None),
        ("models list", "/models", "models"),
        ("models list, last page", "/models?offset=950", "models"),
        ("models list, tag team=nlp", "/models?tag=team%3Dnlp", "models"),
        ("models list, name filter", "/models?name=model-09", "models"),
        ("models list, with archived", "/models?archived=include", "models"),
        ("model page (read by 1,000 jobs)", f"/models/{model}", "readers"),
        ("model version page", f"/models/{other}/versions/3", None),
        ("register model form", "/register/model", None),
        ("datastores", "/datastores", None),
        ("environments", "/environments", None),
        ("API: jobs", "/api/jobs", "jobs"),
        ("API: job", f"/api/jobs/{job}", None),
        ("API: models", "/api/models", "models"),
        ("API: model", f"/api/models/{model}", "readers"),
    ]
    explain = {"jobs": "baseline: `jobs.list()` (every record), then 50",
               "models": "baseline: `models.list()` (every version), then 50",
               "readers": "baseline: the jobs that read it, by scanning every job record"}

    async def run_all() -> list[Row]:
        rows = []
        for what, path, key in pages:
            ms, size = await time_page(app, path, reps)
            note = f"`{path}`, {size / 1024:.0f} KiB" + (f"; {explain[key]}" if key else "")
            rows.append(Row(what, ms, base[key] if key else float("nan"), "ms", f"<= {TARGET_MS:.0f} ms",
                            higher_is_better=False, note=note))
        return rows

    return asyncio.run(run_all())


# ---- runner ui ready ----------------------------------------------------------------------------
def ready_time(ws: str) -> float:
    """Seconds from spawning `runner ui --port 0` to the first 200 of /jobs."""
    env = {**os.environ, "RUNNER_FORKSERVER": "0"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "runner", "--workspace", ws, "ui", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        base, _, query = proc.stdout.readline().strip().partition("?")  # the address carries the token
        request = urllib.request.Request(base + "jobs",
                                         headers={"Authorization": f"Bearer {query.removeprefix('token=')}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            response.read()
        return time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(10)


def floor_time() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runner", "--version"], check=True, capture_output=True,
                   env={**os.environ, "RUNNER_FORKSERVER": "0"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--write", action="store_true", help="append a section to bench/RESULTS.md")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="runner-bench-ui-"))
    try:
        machine = machine_info()
        started = time.perf_counter()
        names = build_workspace(root, args.models, args.versions, args.jobs)
        print_out(f"workspace: {args.models * args.versions} model versions in {names['models_s']} s, "
                  f"{args.jobs} jobs in {names['jobs_s']} s ({root})")
        rows = measure_pages(root, names, args.reps)
        ready = [ready_time(names["ws"]) for _ in range(5)]
        floor = [floor_time() for _ in range(5)]
        rows.append(Row("`runner ui` ready (spawn to first 200 of /jobs)", statistics.median(ready),
                        statistics.median(floor), "s", "<= 1 s", higher_is_better=False,
                        note="baseline: `runner --version` (interpreter + CLI); runs: "
                             + ", ".join(f"{t:.2f}" for t in ready)))
        table = render_table(rows)
        print_out(table)
        if args.write:
            write_results(args, machine, table, time.perf_counter() - started)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def write_results(args: argparse.Namespace, machine: dict[str, str], table: str, seconds: float) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "runner"], capture_output=True, text=True,
                           cwd=Path(__file__).parent).stdout.strip()
    body = [
        f"## Web UI pages (commit {commit}{' + uncommitted changes' if dirty else ''})", "",
        f"Command: `python bench/bench_ui.py --reps {args.reps} --models {args.models} --versions "
        f"{args.versions} --jobs {args.jobs} --write` ({seconds / 60:.1f} min).",
        f"Workspace: {args.models * args.versions:,} model versions ({args.models:,} models), "
        f"{args.jobs:,} jobs. Server-side time per page: in-process ASGI call, request to last body byte, "
        f"median of {args.reps} after two warm-ups.", "",
        f"Machine: {machine['date']}; nproc {machine['nproc']}; memory (GiB) {machine['memory']}; kernel "
        f"{machine['kernel']}; Python {machine['python']}; load average at start {machine['load']}, at end "
        f"{load_average()}.", "", table, ""]
    results = Path(__file__).resolve().parent / "RESULTS.md"
    with results.open("a") as handle:
        handle.write("\n" + "\n".join(body))


if __name__ == "__main__":
    main()
