"""Trivial job overhead: `runner job create --stream` against `docker run --rm`, same image and command.

    python bench/bench_trivial_job.py [--reps 10] [--image runner/busybox:latest] [--write]

Runs both N times (interleaved) in one invocation, prints medians and the ratio (target <= 1.2x), and
where runner's time goes: interpreter start, `import runner.cli` (python -X importtime), submission
(plan + record + code snapshot), Preparing, Running (container create/start/wait), Finalizing (outputs,
artifacts), process exit; plus docker-py's create/start/wait/remove measured on their own. With
--write the figures go to bench/RESULTS.md under "Trivial job".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

COMMAND = "echo hello from a trivial job"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def import_time_s() -> float:
    """Median of three ``python -X importtime -c "import runner.cli"`` totals."""
    return statistics.median(_one_import_time_s() for _ in range(3))


def _one_import_time_s() -> float:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import runner.cli"],
                         capture_output=True, text=True, check=True).stderr
    last = [line for line in out.splitlines() if line.rstrip().endswith("runner.cli")][-1]
    return int(last.split("|")[1]) / 1e6


# what `job create --stream` imports after the CLI has started (spec, plan, lifecycle, docker-py)
CREATE_PATH_MODULES = ("runner.cli", "runner.spec_load", "runner.jobs", "runner.plan", "runner.job_run",
                       "runner.resolve", "runner.backends.docker", "docker")


def create_path_import_time_s() -> float:
    """Median of three: every import of the job-create path (top-level modules imported after
    ``site``, cumulative), i.e. what a no-input job pays in imports beyond the interpreter start."""
    return statistics.median(_one_create_path_import_s() for _ in range(3))


def _one_create_path_import_s() -> float:
    code = "import " + ", ".join(CREATE_PATH_MODULES)
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, check=True).stderr.splitlines()
    site = max(i for i, line in enumerate(out) if line.rstrip().endswith("| site"))
    top_level = [line for line in out[site + 1:] if line.startswith("import time:")
                 and not line.split("|")[2][1:].startswith(" ")]
    return sum(int(line.split("|")[1]) for line in top_level) / 1e6


def phases(runner: list[str], name: str) -> dict[str, float]:
    raw = subprocess.run([*runner, "job", "show", "--name", name, "-o", "json"], capture_output=True,
                         text=True, check=True).stdout
    record = json.loads(raw)
    times = {k: datetime.fromisoformat(v) for k, v in record["extra"]["status_times"].items()}
    created = datetime.fromisoformat(record["created_at"])
    order = [("Queued", created), *[(k, times[k]) for k in
                                    ("Preparing", "Running", "Finalizing", "Completed") if k in times]]
    statuses = {f"status {order[i][0]} (until the next status)":
                (order[i + 1][1] - order[i][1]).total_seconds() for i in range(len(order) - 1)}
    steps = {f"  step {k}": float(v) for k, v in record["extra"].get("timings_s", {}).items()}
    return {**statuses, **steps}


def docker_py_steps(image: str) -> dict[str, float]:
    import docker

    client = docker.from_env()
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    container = client.containers.create(image, ["sh", "-c", COMMAND], network_mode="none", init=True)
    t1 = time.perf_counter()
    container.start()
    t2 = time.perf_counter()
    container.wait()
    t3 = time.perf_counter()
    container.remove(force=True)
    t4 = time.perf_counter()
    steps.update(create=t1 - t0, start=t2 - t1, wait=t3 - t2, remove=t4 - t3)
    return steps


def median_dicts(dicts: list[dict[str, float]]) -> dict[str, float]:
    keys = dicts[0].keys()
    return {k: statistics.median(d[k] for d in dicts if k in d) for k in keys}


def run(reps: int, image: str) -> dict[str, object]:
    load_start = "/".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-trivial-"))
    (work / "job.yml").write_text(f"command: {COMMAND}\nenvironment:\n  image: {image}\n")
    runner = [sys.executable, "-m", "runner", "--workspace", str(work / "ws")]
    docker_cli = shutil.which("docker") or "docker"
    timed([*runner, "job", "create", "--file", str(work / "job.yml"), "--stream", "--name", "warmup"])
    timed([docker_cli, "run", "--rm", "--network", "none", image, "sh", "-c", COMMAND])
    ours, theirs, phase_runs, steps = [], [], [], []
    for i in range(reps):
        name = f"trivial{i}"
        ours.append(timed([*runner, "job", "create", "--file", str(work / "job.yml"), "--stream",
                           "--name", name]))
        theirs.append(timed([docker_cli, "run", "--rm", "--network", "none", image, "sh", "-c", COMMAND]))
        phase_runs.append(phases(runner, name))
        steps.append(docker_py_steps(image))
    load = f"{load_start} at start, " + "/".join(f"{x:.1f}" for x in os.getloadavg()) + " at end"
    python_start = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(5))
    shutil.rmtree(work, ignore_errors=True)
    ours_m, theirs_m = statistics.median(ours), statistics.median(theirs)
    return {"reps": reps, "image": image, "runner_s": ours_m, "docker_run_s": theirs_m,
            "ratio": ours_m / theirs_m, "python_start_s": python_start, "load": load,
            "import_runner_cli_s": import_time_s(), "import_create_path_s": create_path_import_time_s(),
            "phases_s": median_dicts(phase_runs), "docker_py_s": median_dicts(steps)}


def report(result: dict[str, object]) -> str:
    phases_s = result["phases_s"]
    steps = result["docker_py_s"]
    assert isinstance(phases_s, dict) and isinstance(steps, dict)
    accounted = sum(v for k, v in phases_s.items() if k.startswith("status"))
    rest = float(result["runner_s"]) - float(result["python_start_s"]) - float(  # type: ignore[arg-type]
        result["import_runner_cli_s"]) - accounted  # type: ignore[arg-type]
    floor = float(result["python_start_s"]) + float(result["import_create_path_s"])  # type: ignore[arg-type]
    container = sum(float(v) for k, v in phases_s.items() if "step container" in k)
    lines = [
        "## Trivial job",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.machine()}, "
        f"Python {platform.python_version()}; `python bench/bench_trivial_job.py --reps {result['reps']}`; "
        f"image `{result['image']}`, command `{COMMAND}`; medians; load average (1/5/15 min) "
        f"{result['load']} on {os.cpu_count()} cores (shared with other work).",
        "",
        "| | seconds |",
        "|---|---:|",
        f"| `runner job create --stream` | {result['runner_s']:.3f} |",
        f"| `docker run --rm` | {result['docker_run_s']:.3f} |",
        f"| **ratio** (target <= 1.2x) | **{result['ratio']:.2f}x** |",
        "",
        "Where runner's time goes:",
        "",
        "| part | seconds |",
        "|---|---:|",
        f"| interpreter start (`python -c pass`) | {result['python_start_s']:.3f} |",
        f"| `import runner.cli` (python -X importtime) | {result['import_runner_cli_s']:.3f} |",
        f"| (every import of the create path: CLI, spec, plan, lifecycle, docker-py; python -X importtime; "
        f"included in the rows below) | ({result['import_create_path_s']:.3f}) |",
        *[f"| {k} | {v:.3f} |" for k, v in phases_s.items()],
        f"| the rest: imports after `runner.cli` (spec, pydantic, lifecycle), spec load, plan, submission, "
        f"process exit | {rest:.3f} |",
        *[f"| docker-py {k} (alone) | {v:.3f} |" for k, v in steps.items()],
        "",
        f"Interpreter start plus every import of the create path take {floor:.2f} s, "
        f"{floor / float(result['docker_run_s']):.1f}x a whole `docker run --rm` "  # type: ignore[arg-type]
        f"({float(result['docker_run_s']):.2f} s), before any job work; the container itself "  # type: ignore[arg-type]
        f"(create+start, run, remove) costs runner {container:.2f} s, as it costs `docker run`. What is "
        "left above `docker run` is the Python floor: the interpreter, pydantic (spec and record "
        "models), docker-py with requests/urllib3, and the workspace's SQLite writes of each status.",
        "",
    ]
    return "\n".join(lines)


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(r"^## Trivial job\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--image", default="runner/busybox:latest")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    section = report(run(args.reps, args.image))
    print(section)
    if args.write:
        write_results(section)


if __name__ == "__main__":
    main()
