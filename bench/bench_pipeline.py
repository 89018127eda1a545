"""Per-step overhead of a pipeline: N chained steps as one `type: pipeline` job against the same N steps
run as separate `runner job create --stream` commands, chained by hand through
`azureml://jobs/<job>/outputs/out` (what users do without pipelines).

    python bench/bench_pipeline.py [--steps 4] [--reps 5] [--image runner/busybox:latest] [--code HEAD]
                                   [--write]

Each step is a trivial container job (busybox `sh -c`): it downloads the previous step's output, adds a
line and uploads its own. The pipeline runs with `settings.force_rerun: true` (no reuse) and `--stream`
(the orchestrator in the command's process; each step in its own worker process, as a background
pipeline runs them). Both sides run, interleaved, from a ``git archive`` of ``--code`` through the
installed launcher with a private fork server (warm), as bench_trivial_job.py does. Also timed: the
same pipeline unchanged (every step reused). Where the pipeline's time goes comes from the records:
the gap between a step's end and the next step's start (the orchestrator's poll, the step's planning
and its worker's start), and each step's own time. With --write the figures go to bench/RESULTS.md
under "Pipeline per-step overhead".
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_trivial_job import installed_command, stop_servers, timed, wait_for_server  # noqa: E402
from bench.common import CODE, use_code  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "Pipeline per-step overhead"
STEP_COMMAND = "cat {src}/v.txt > {out}/v.txt 2>/dev/null; echo {name} >> {out}/v.txt"


def step_job(name: str, image: str, *, reads: bool) -> str:
    src = "${{inputs.src}}" if reads else "/dev/null"
    command = STEP_COMMAND.format(src=src, out="${{outputs.out}}", name=name)
    lines = [f"command: {json.dumps(command)}", f"environment: {{image: {image}}}",
             "outputs:", "  out: {mode: upload}"]
    if reads:
        lines += ["inputs:", "  src: {type: uri_folder, path: ./placeholder, mode: download}"]
    return "\n".join(lines) + "\n"


def pipeline_yaml(steps: int, image: str) -> str:
    lines = ["type: pipeline", "settings:", "  force_rerun: true", "jobs:"]
    for k in range(steps):
        command = STEP_COMMAND.format(src="${{inputs.src}}" if k else "/dev/null", out="${{outputs.out}}",
                                      name=f"s{k}")
        lines += [f"  s{k}:", "    type: command", f"    command: {json.dumps(command)}",
                  f"    environment: {{image: {image}}}", "    outputs:", "      out: {mode: upload}"]
        if k:
            lines += ["    inputs:", f"      src: {{path: '${{{{parent.jobs.s{k - 1}.outputs.out}}}}', "
                                     "mode: download}"]
    return "\n".join(lines) + "\n"


def show(runner: list[str], name: str, env: dict[str, str]) -> dict[str, Any]:
    raw = subprocess.run([*runner, "job", "show", "--name", name, "-o", "json"], capture_output=True,
                         text=True, check=True, env=env).stdout
    return dict(json.loads(raw))


def pipeline_parts(runner: list[str], name: str, env: dict[str, str]) -> dict[str, float]:
    """From the records: the orchestrator's start, each step's own time, the gaps between steps."""
    record = show(runner, name, env)
    children = [show(runner, s["job"], env) for s in record["extra"]["steps"].values()]
    stamp = datetime.fromisoformat
    own = [(stamp(c["ended_at"]) - stamp(c["created_at"])).total_seconds() for c in children]
    gaps = [(stamp(b["created_at"]) - stamp(a["ended_at"])).total_seconds()
            for a, b in zip(children, children[1:], strict=False)]
    first = (stamp(children[0]["created_at"]) - stamp(record["created_at"])).total_seconds()
    tail = (stamp(record["ended_at"]) - stamp(children[-1]["ended_at"])).total_seconds()
    return {"submission to the first step's job": first, "a step's job, created to ended (median)":
            statistics.median(own), "between steps: one's end to the next one's job (median)":
            statistics.median(gaps) if gaps else 0.0, "last step's end to the pipeline's end": tail}


def run(steps: int, reps: int, image: str, code: str) -> dict[str, Any]:
    load_start = "/".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    label = use_code(code, work / "code", ("runner", "mounts", "bin"))
    root = CODE.root
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "runner"), str(root / "mounts")],
                   check=True, stdout=subprocess.DEVNULL)
    runtime = work / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k != "RUNNER_FORKSERVER"}
    env.update(PYTHONPATH=str(root), XDG_RUNTIME_DIR=str(runtime))
    runner = [*installed_command(root, work / "bin"), "--workspace", str(work / "ws")]
    (work / "pipeline.yml").write_text(pipeline_yaml(steps, image))
    (work / "reused.yml").write_text(pipeline_yaml(steps, image).replace("force_rerun: true",
                                                                         "force_rerun: false"))
    (work / "first.yml").write_text(step_job("s0", image, reads=False))
    (work / "next.yml").write_text(step_job("sN", image, reads=True))
    (work / "placeholder").mkdir()

    def separate(prefix: str) -> float:
        total = timed([*runner, "job", "create", "--file", str(work / "first.yml"), "--stream", "--name",
                       f"{prefix}-0"], env, root)
        for k in range(1, steps):
            total += timed([*runner, "job", "create", "--file", str(work / "next.yml"), "--stream", "--name",
                            f"{prefix}-{k}", "--set",
                            f"inputs.src.path=azureml://jobs/{prefix}-{k - 1}/outputs/out"], env, root)
        return total

    def pipeline(name: str, file: str = "pipeline.yml") -> float:
        return timed([*runner, "job", "create", "--file", str(work / file), "--stream", "--name", name],
                     env, root)

    try:
        separate("warmup-sep")
        wait_for_server(runtime)
        pipeline("warmup-pipe")
        pipeline("warmup-reused", "reused.yml")
        ours, theirs, reused, parts = [], [], [], []
        for i in range(reps):
            ours.append(pipeline(f"pipe{i}"))
            theirs.append(separate(f"sep{i}"))
            reused.append(pipeline(f"reused{i}", "reused.yml"))
            parts.append(pipeline_parts(runner, f"pipe{i}", env))
        load = f"{load_start} at start, " + "/".join(f"{x:.1f}" for x in os.getloadavg()) + " at end"
    finally:
        stop_servers(runtime)
        shutil.rmtree(work, ignore_errors=True)
    pipe_m, sep_m = statistics.median(ours), statistics.median(theirs)
    return {"steps": steps, "reps": reps, "image": image, "code": label, "pipeline_s": pipe_m,
            "separate_s": sep_m, "reused_s": statistics.median(reused),
            "per_step_s": (pipe_m - sep_m) / steps,
            "runs": {"pipeline": ours, "separate": theirs}, "load": load,
            "parts": {k: statistics.median(p[k] for p in parts) for k in parts[0]}}


def report(result: dict[str, Any]) -> str:
    n = result["steps"]
    pairs = zip(result["runs"]["pipeline"], result["runs"]["separate"], strict=True)
    runs = ", ".join(f"{p:.2f}/{s:.2f}" for p, s in pairs)
    lines = [
        f"## {SECTION}",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; `python bench/bench_pipeline.py --steps {n} --reps {result['reps']}`; "
        f"our code: {result['code']}; image `{result['image']}`; medians of {result['reps']} interleaved "
        f"runs; load average (1/5/15 min) {result['load']}. The machine is shared with other engineers' "
        "test runs right now: the absolute figures move with the load; the comparison is within one "
        "invocation.",
        "",
        f"| {n} chained trivial steps (download in, upload out) | seconds | per step |",
        "|---|---:|---:|",
        f"| one pipeline, `job create --stream` (force_rerun) | {result['pipeline_s']:.2f} "
        f"| {result['pipeline_s'] / n:.2f} |",
        f"| {n} separate `job create --stream`, chained by hand | {result['separate_s']:.2f} "
        f"| {result['separate_s'] / n:.2f} |",
        f"| **pipeline overhead per step** | | **{result['per_step_s']:+.2f}** |",
        f"| the same pipeline unchanged (every step reused) | {result['reused_s']:.2f} "
        f"| {result['reused_s'] / n:.2f} |",
        "",
        "Where a pipeline run's time goes (medians, from the records):",
        "",
        "| part | seconds |",
        "|---|---:|",
        *[f"| {k} | {v:.3f} |" for k, v in result["parts"].items()],
        "",
        f"Per run (pipeline / separate, seconds): {runs}.",
        "",
    ]
    return "\n".join(lines)


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(rf"^## {SECTION}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--image", default="runner/busybox:latest")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    section = report(run(args.steps, args.reps, args.image, args.code))
    print(section)
    if args.write:
        write_results(section)


if __name__ == "__main__":
    main()
