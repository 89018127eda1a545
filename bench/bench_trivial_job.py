"""Trivial job overhead: `runner job create --stream` against `docker run --rm`, same image and command.

    python bench/bench_trivial_job.py [--reps 10] [--image runner/busybox:latest] [--code HEAD] [--write]

Runs, interleaved, N times each in one invocation: runner with its fork server up (warm: the usual
case after the first command), runner with ``RUNNER_FORKSERVER=0`` (cold: interpreter start and every
import paid by the command), and ``docker run --rm``. Prints medians and the ratios (target <= 1.2x),
and where runner's time goes: interpreter start, imports (python -X importtime), the job's statuses
and steps from its record, and docker-py's create/start/wait/remove measured on their own. Our side
runs from a ``git archive`` of ``--code`` (default HEAD; ``worktree`` for the working tree) with a
private fork server, compiled and started as pip installs it: the ``runner`` launcher (bin/runner)
with a ``runner-py`` console script beside it. With --write the figures go to bench/RESULTS.md under
"Trivial job".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CODE, use_code  # noqa: E402

COMMAND = "echo hello from a trivial job"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def timed(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    return timed_pid(argv, env, cwd)[0]


def timed_pid(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
              ) -> tuple[float, int]:
    """Wall seconds of one run of ``argv`` (which must succeed) and the pid it ran as."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    if proc.wait() != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
    return time.perf_counter() - start, proc.pid


def import_time_s(env: dict[str, str]) -> float:
    """Median of three ``python -X importtime -c "import runner.cli.main"`` totals."""
    return statistics.median(_one_import_time_s(env) for _ in range(3))


def _one_import_time_s(env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import runner.cli.main"],
                         capture_output=True, text=True, check=True, env=env).stderr
    last = [line for line in out.splitlines() if line.rstrip().endswith("runner.cli.main")][-1]
    return int(last.split("|")[1]) / 1e6


# what `job create --stream` imports after the CLI has started (spec, plan, lifecycle, docker-py)
CREATE_PATH_MODULES = ("runner.cli.main", "runner.spec.load", "runner.jobs.operations", "runner.jobs.submit",
                       "runner.jobs.run", "runner.workspace.resolve", "runner.backends.docker", "docker")


def create_path_import_time_s(env: dict[str, str]) -> float:
    """Median of three: every import of the job-create path (top-level modules imported after
    ``site``, cumulative), i.e. what a no-input job pays in imports beyond the interpreter start."""
    return statistics.median(_one_create_path_import_s(env) for _ in range(3))


def _one_create_path_import_s(env: dict[str, str]) -> float:
    code = "import " + ", ".join(CREATE_PATH_MODULES)
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, check=True, env=env).stderr.splitlines()
    site = max(i for i, line in enumerate(out) if line.rstrip().endswith("| site"))
    top_level = [line for line in out[site + 1:] if line.startswith("import time:")
                 and not line.split("|")[2][1:].startswith(" ")]
    return sum(int(line.split("|")[1]) for line in top_level) / 1e6


def job_record(runner: list[str], name: str, env: dict[str, str]) -> dict[str, Any]:
    raw = subprocess.run([*runner, "job", "show", "--name", name, "-o", "json"], capture_output=True,
                         text=True, check=True, env=env).stdout
    return dict(json.loads(raw))


def phases(record: dict[str, Any]) -> dict[str, float]:
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


def run(reps: int, image: str, code: str) -> dict[str, object]:
    load_start = "/".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-trivial-"))
    try:
        label = use_code(code, work / "code", ("runner", "mounts", "bin"))
    except subprocess.CalledProcessError:  # a revision older than the launcher (bin/runner)
        label = use_code(code, work / "code", ("runner", "mounts"))
    root = CODE.root
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "runner"), str(root / "mounts")],
                   check=True, stdout=subprocess.DEVNULL)  # as an install compiles them
    runtime = work / "run"  # a private fork server, stopped at the end
    runtime.mkdir(mode=0o700)
    (work / "job.yml").write_text(f"command: {COMMAND}\nenvironment:\n  image: {image}\n")
    warm_env = {k: v for k, v in os.environ.items() if k != "RUNNER_FORKSERVER"}
    warm_env.update(PYTHONPATH=str(root), XDG_RUNTIME_DIR=str(runtime))
    cold_env = {**warm_env, "RUNNER_FORKSERVER": "0"}
    runner = [*installed_command(root, work / "bin"), "--workspace", str(work / "ws")]
    create = [*runner, "job", "create", "--file", str(work / "job.yml"), "--stream", "--name"]
    docker_run = [shutil.which("docker") or "docker", "run", "--rm", "--network", "none", image, "sh", "-c",
                  COMMAND]
    try:
        timed([*create, "warmup-cold"], cold_env, root)
        timed([*create, "warmup-warm"], warm_env, root)  # starts the server for the next ones
        wait_for_server(runtime)
        timed([*create, "warmup-served"], warm_env, root)
        timed(docker_run)
        warm, cold, theirs, phase_runs, steps, served = [], [], [], [], [], 0
        for i in range(reps):
            seconds, pid = timed_pid([*create, f"warm{i}"], warm_env, root)
            warm.append(seconds)
            cold.append(timed([*create, f"cold{i}"], cold_env, root))
            theirs.append(timed(docker_run))
            record = job_record(runner, f"warm{i}", cold_env)
            served += record["runner_pid"] != pid  # run by a child of the server, not by the client
            phase_runs.append(phases(record))
            steps.append(docker_py_steps(image))
        load = f"{load_start} at start, " + "/".join(f"{x:.1f}" for x in os.getloadavg()) + " at end"
        python_start = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(5))
        client_start = statistics.median(timed([sys.executable, "-S", "-c", "pass"]) for _ in range(5))
        imports = {"import_runner_cli_s": import_time_s(cold_env),
                   "import_create_path_s": create_path_import_time_s(cold_env)}
    finally:
        stop_servers(runtime)
        shutil.rmtree(work, ignore_errors=True)
    warm_m, cold_m, theirs_m = statistics.median(warm), statistics.median(cold), statistics.median(theirs)
    return {"reps": reps, "image": image, "code": label, "runner_s": warm_m, "runner_cold_s": cold_m,
            "docker_run_s": theirs_m, "ratio": warm_m / theirs_m, "ratio_cold": cold_m / theirs_m,
            "served": served, "python_start_s": python_start, "client_start_s": client_start, "load": load,
            **imports,
            "phases_s": median_dicts(phase_runs), "docker_py_s": median_dicts(steps)}


def installed_command(root: Path, into: Path) -> list[str]:
    """The ``runner`` command as pip installs it: the launcher (``bin/runner``) with the ``runner-py``
    console script beside it, naming this interpreter; ``python -m runner`` for code without one."""
    launcher = root / "bin" / "runner"
    if not launcher.exists():
        return [sys.executable, "-m", "runner"]
    into.mkdir()
    shutil.copy2(launcher, into / "runner")
    entry = into / "runner-py"
    entry.write_text(f"#!{sys.executable}\nimport sys\nfrom runner.launch import main\nsys.exit(main())\n")
    entry.chmod(0o755)
    return [str(into / "runner")]


def wait_for_server(runtime: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not list(runtime.glob("runner-*/fs-*.sock")):
        if time.monotonic() > deadline:
            raise RuntimeError("the fork server did not start")
        time.sleep(0.05)


def stop_servers(runtime: Path) -> None:
    """Kill the fork servers listening under ``runtime``."""
    from runner.forkserver import server_pids

    for pid in server_pids(str(runtime)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def report(result: dict[str, Any]) -> str:
    phases_s, steps = result["phases_s"], result["docker_py_s"]
    container = sum(v for k, v in phases_s.items() if "step container" in k)
    floor = result["python_start_s"] + result["import_create_path_s"]
    lines = [
        "## Trivial job",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.machine()}, "
        f"Python {platform.python_version()}; `python bench/bench_trivial_job.py --reps {result['reps']}`; "
        f"our code: {result['code']}; image `{result['image']}`, command `{COMMAND}`; medians of "
        f"{result['reps']} interleaved runs; load average (1/5/15 min) {result['load']} on "
        f"{os.cpu_count()} cores.",
        "",
        "| | seconds | ratio to `docker run --rm` |",
        "|---|---:|---:|",
        f"| `runner job create --stream`, fork server up (warm; {result['served']}/{result['reps']} runs "
        f"served by it) | {result['runner_s']:.3f} | **{result['ratio']:.2f}x** (target <= 1.2x) |",
        f"| `runner job create --stream`, `RUNNER_FORKSERVER=0` (cold: start + imports in the command) "
        f"| {result['runner_cold_s']:.3f} | {result['ratio_cold']:.2f}x |",
        f"| `docker run --rm` | {result['docker_run_s']:.3f} | 1.00x |",
        "",
        "Where the warm run's time goes (from its job record), and what a cold run adds:",
        "",
        "| part | seconds |",
        "|---|---:|",
        *[f"| {k} | {v:.3f} |" for k, v in phases_s.items()],
        *[f"| docker-py {k} (alone) | {v:.3f} |" for k, v in steps.items()],
        f"| warm: the client's interpreter start (`python -S -c pass`, as bin/runner starts it) "
        f"| {result['client_start_s']:.3f} |",
        f"| cold only: interpreter start (`python -c pass`) | {result['python_start_s']:.3f} |",
        f"| cold only: `import runner.cli.main` (python -X importtime) "
        f"| {result['import_runner_cli_s']:.3f} |",
        f"| cold only: every import of the create path (CLI, spec, plan, lifecycle, docker-py) "
        f"| {result['import_create_path_s']:.3f} |",
        "",
        f"A cold command pays {floor:.2f} s for the interpreter and its imports before any job work; the "
        "fork server pays them once and forks a child per command, so a warm command pays the client's "
        "start (an interpreter without site-packages, built-in modules only) and the job's own work. "
        "The container steps "
        f"(create+start, run, remove) take {container:.2f} s of it, as they take `docker run`.",
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
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    section = report(run(args.reps, args.image, args.code))
    print(section)
    if args.write:
        write_results(section)


if __name__ == "__main__":
    main()
