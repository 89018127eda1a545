"""Jobs on a Ray compute against the same jobs run here, on a real 2-node loopback cluster.

    python bench/bench_ray.py [--reps 5] [--jobs 8] [--sleep 2] [--write]

Starts its own cluster (scripts/ray_cluster.sh: head 127.0.0.2, worker 127.0.0.3, in a private network
namespace, Azurite forwarded in), a fresh workspace with an Azure datastore on the shared Azurite (a
container of its own, removed at the end) and the compute ``ray`` writing there. Measures, in this one
invocation:

* submit-to-Running: from the start of ``runner job create`` to the job's command running (the node's
  Running time in the record; locally the same status), the Ray job against the local one;
* whole-job wall time of ``runner job create --stream`` of a trivial job, Ray against local;
* throughput: N jobs of ``sleep S`` (1 CPU each) submitted at once, spread by Ray over both nodes
  (2 CPUs each) against the same N pinned to one node; the wall time from the first submission to the
  last job's end.

Everything started here is stopped at the end (the cluster by PID). With --write the figures go to
bench/RESULTS.md under "Ray compute".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ACCOUNT, KEY, Row, load_average, machine_info, render_table, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_SH = ROOT / "scripts" / "ray_cluster.sh"
AZURITE = ("127.0.0.1", int(os.environ.get("RUNNER_AZURITE_PORT", "10000")))
IMAGE = "runner/busybox:latest"


def runner(ws: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUNNER_WORKSPACE": str(ws)}
    result = subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True,
                            env=env, timeout=600, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"runner {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result


def record(ws: Path, name: str) -> dict[str, Any]:
    return dict(json.loads(runner(ws, "job", "show", "--name", name, "-o", "json").stdout))


def wait_terminal(ws: Path, names: list[str], timeout: float = 600) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    pending, done = list(names), {}
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs still running: {pending}")
        rows = json.loads(runner(ws, "job", "list", "-o", "json").stdout)
        for row in rows:
            if row["name"] in pending and row["status"] in ("Completed", "Failed", "Canceled"):
                done[row["name"]] = row
                pending.remove(row["name"])
        time.sleep(0.3)
    return [done[n] for n in names]


def job_file(folder: Path, name: str, command: str, *, compute: str | None, pin: str | None = None) -> Path:
    lines = [f"command: {command}", f"environment: {IMAGE}"]
    if compute:
        lines.append(f"compute: azureml:{compute}")
    if pin:
        lines += ["resources:", "  properties:", f"    ray: {{resources: {pin}}}"]
    path = folder / f"{name}.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def start_cluster(state: Path) -> tuple[str, float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "BRIDGE_PORT": str(port), "FORWARD_IN": f"{AZURITE[0]}:{AZURITE[1]}",
           "START_TIMEOUT_S": "300"}
    began = time.monotonic()
    subprocess.run([str(CLUSTER_SH), "start", str(state)], check=True, env=env, capture_output=True,
                   timeout=400)
    return f"http://127.0.0.2:{port}", time.monotonic() - began


def setup_workspace(ws: Path, folder: Path, address: str, container: str) -> None:
    endpoint = f"http://{AZURITE[0]}:{AZURITE[1]}/{ACCOUNT}"
    datastore = folder / "az.yml"
    datastore.write_text(f"name: az\ntype: azure_blob\naccount_name: {ACCOUNT}\ncontainer_name: {container}\n"
                         f"account_url: {endpoint}\ncredentials:\n  account_key: {KEY}\n")
    runner(ws, "datastore", "create", "--file", str(datastore))
    runner(ws, "compute", "create", "--name", "ray", "--type", "ray", "--address", address,
           "--datastore", "az")


def latency(ws: Path, folder: Path, reps: int) -> dict[str, list[float]]:
    """Interleaved: the same trivial job on Ray and here; submit-to-Running and --stream wall times."""
    figures: dict[str, list[float]] = {"ray_running": [], "local_running": [], "ray_wall": [],
                                       "local_wall": []}
    for rep in range(reps + 1):  # the first round warms both (images, the runner package upload)
        for where in ("ray", "local"):
            name = f"lat-{where}-{rep}-{uuid.uuid4().hex[:6]}"
            job = job_file(folder, name, "echo hello", compute="ray" if where == "ray" else None)
            began = time.time()
            runner(ws, "job", "create", "--file", str(job), "--name", name, "--stream")
            wall = time.time() - began
            times = record(ws, name)["extra"]["status_times"]
            if rep:
                figures[f"{where}_running"].append(seconds(times["Running"]) - began)
                figures[f"{where}_wall"].append(wall)
    return figures


def throughput(ws: Path, folder: Path, jobs: int, sleep: float, pin: str | None) -> float:
    """Wall seconds from the first submission to the last job's end, ``jobs`` jobs submitted at once."""
    names = [f"tp-{'one' if pin else 'two'}-{i}-{uuid.uuid4().hex[:6]}" for i in range(jobs)]
    began = time.time()
    for name in names:
        runner(ws, "job", "create", "--file", str(job_file(folder, name, f"sleep {sleep:g}", compute="ray",
                                                              pin=pin)), "--name", name)
    rows = wait_terminal(ws, names)
    assert all(r["status"] == "Completed" for r in rows), [r["status"] for r in rows]
    return max(seconds(record(ws, n)["ended_at"]) for n in names) - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--sleep", type=float, default=2.0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    from azure.storage.blob import BlobServiceClient  # the bench's own setup, not what is measured

    service = BlobServiceClient.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint=http://{AZURITE[0]}:{AZURITE[1]}/{ACCOUNT};")
    load_at_start = load_average()
    container = f"benchray{uuid.uuid4().hex[:12]}"
    service.create_container(container)
    state = Path(tempfile.mkdtemp(prefix="rayb-", dir="/tmp"))
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        address, startup = start_cluster(state)
        ws = work / "ws"
        setup_workspace(ws, work, address, container)
        lat = latency(ws, work, args.reps)
        two = throughput(ws, work, args.jobs, args.sleep, None)
        one = throughput(ws, work, args.jobs, args.sleep, "{'node:127.0.0.3': 0.01}")
    finally:
        subprocess.run([str(CLUSTER_SH), "stop", str(state)], capture_output=True, timeout=120, check=False)
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        service.delete_container(container)
    med = {k: statistics.median(v) for k, v in lat.items()}
    ideal = args.jobs * args.sleep
    rows = [
        Row("submit to Running (trivial job)", med["ray_running"], med["local_running"], "s", "-",
            higher_is_better=False, note=f"Ray vs here, median of {args.reps}"),
        Row("whole job, `job create --stream`", med["ray_wall"], med["local_wall"], "s", "-",
            higher_is_better=False, note=f"Ray vs here, median of {args.reps}"),
        Row(f"{args.jobs} jobs of sleep {args.sleep:g} s, 2 nodes", two, one, "s", "<= 0.75x",
            higher_is_better=False, note=f"vs the same {args.jobs} pinned to 1 node (2 CPUs each; "
                                         f"{ideal:g} s of sleep in all)"),
    ]
    info = machine_info()
    table = render_table(rows)
    header = (f"{info['date']}, commit {git_head()}, {info['nproc']} cores, {info['memory']} GiB, "
              f"load {load_at_start} at the start / {info['load']} at the end; the machine is shared with "
              f"other engineers' test runs, so figures move with their load. Cluster start (head + worker "
              f"ready): {startup:.1f} s. Command: `python bench/bench_ray.py --reps {args.reps} --jobs "
              f"{args.jobs} --sleep {args.sleep:g}`.")
    print(header + "\n\n" + table)
    print("samples:", json.dumps({k: [round(x, 2) for x in v] for k, v in lat.items()}))
    if args.write:
        write_section("Ray compute", header + "\n\n" + table)
    return 0


def git_head() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=False)
    return out.stdout.strip() or "?"


if __name__ == "__main__":
    sys.exit(main())
