"""Cold start (issue 21, target 3): `runner job validate` and a ro_mount from a fresh process.

    python bench/bench_cold.py [--runs 15] [--sections validate,ro_mount] [--code HEAD|worktree|DIR] [--write]

No fork server anywhere (``RUNNER_FORKSERVER=0``): every command pays its interpreter start and its
imports, which is what this measures. Each figure has a baseline run in the same invocation, the
commands interleaved round by round (which one goes first rotating):

* **validate**: ``runner job validate --file samples/jobs/<job>`` (a command job with a local
  ro_mount input, and the pipeline sample), run as ``python -m runner`` and as the installed ``runner``
  command (``bench/bench_trivial_job.installed_command``: the launcher with ``runner-py`` beside it),
  against the interpreter's floor (``python -S -c pass``, ``python -c pass``) and the CLI's own floor
  (``runner --version``: the interpreter plus ``runner.cli.main``). Wall time from spawn to exit, and
  the child's user + system CPU (``wait4``: on a busy 2-core machine the CPU compares the work better
  than the wall time does). The "x floor" column divides by ``python -c pass`` of the same round: a
  ratio that says more across machines than the absolute time. One untimed validate first creates the
  workspace (a cold validate in an existing workspace is what is timed).
* **ro_mount**: ``bench/child_ops.py mount`` (our ``RoMountStrategy`` on the Azure datastore,
  interpreter start and imports included) against ``rclone mount --vfs-cache-mode off``, both from
  process spawn to the first non-empty ``listdir`` of the mountpoint, on a private Azurite holding a
  folder of 20 small files (``bench/bench_ro_mount.wait_ready``). Ours also reports its in-process
  parts: ``startup`` (interpreter start to the strategy's imports done) and ``ready_s`` (materialize to
  listdir). Every mount is unmounted before the next round.

Our side runs from a ``git archive`` of ``--code`` (default HEAD; ``worktree`` for the working tree; a
folder: the tree in it as it is, e.g. HEAD plus one change while others edit the working tree),
compiled as an install compiles it. ``--write`` replaces the "Cold start (<code>)" section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ro_mount import RCLONE_MOUNT_FLAGS, wait_ready
from bench.bench_trivial_job import installed_command
from bench.common import (
    CODE,
    CONTAINER,
    Azurite,
    Child,
    Cleanup,
    force_unmount,
    load_average,
    machine_info,
    median,
    print_out,
    rclone_remote,
    rotated,
    run_child,
    use_code,
    write_random_file,
    write_section,
)

log = logging.getLogger("bench.cold")

JOBS = {"command job": "samples/jobs/model-input-ro-mount.yml",
        "pipeline job": "samples/jobs/pipeline-train-score-register.yml"}
MOUNT_FILES = 20


@dataclass
class Samples:
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    ratio: dict[str, list[float]] = field(default_factory=dict)  # to `python -c pass` of the same round

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall.setdefault(name, []).append(wall)
        self.cpu.setdefault(name, []).append(cpu)


def validate_commands(root: Path, work: Path) -> dict[str, list[str]]:
    py = sys.executable
    runner = installed_command(root, work / "bin")
    commands = {"python -S -c pass": [py, "-S", "-c", "pass"], "python -c pass": [py, "-c", "pass"],
                "python -m runner --version": [py, "-m", "runner", "--version"]}
    for label, job in JOBS.items():
        commands[f"python -m runner job validate ({label})"] = [py, "-m", "runner", "job", "validate",
                                                                "--file", job]
    if runner[0] != py:
        commands["runner job validate (command job)"] = [*runner, "job", "validate", "--file",
                                                         JOBS["command job"]]
    return commands


def bench_validate(runs: int, cleanup: Cleanup, work: Path) -> Samples:
    root = CODE.root
    env = {"PYTHONPATH": str(root), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(work / "ws"),
           "XDG_RUNTIME_DIR": str(work / "run")}
    (work / "run").mkdir(mode=0o700, exist_ok=True)
    commands = validate_commands(root, work)
    for argv in commands.values():  # untimed: the workspace is created, every file read once
        run_child(argv, cleanup, env=env)
    samples = Samples()
    for run in range(runs):
        this_round: dict[str, float] = {}
        for name in rotated(list(commands), run):
            result = run_child(commands[name], cleanup, env=env)
            samples.add(name, result.seconds, result.cpu_s)
            this_round[name] = result.seconds
        for name, seconds in this_round.items():
            samples.ratio.setdefault(name, []).append(seconds / this_round["python -c pass"])
        log.info("validate round %d: %s (load %s)", run + 1,
                 {k: round(v, 3) for k, v in this_round.items()}, load_average())
    return samples


def validate_table(samples: Samples) -> str:
    lines = ["| command (RUNNER_FORKSERVER=0) | wall s (median) | min | max | user+sys CPU s | x floor "
             "(`python -c pass`, same round) | target |", "|---|---:|---:|---:|---:|---:|---|"]
    for name, walls in samples.wall.items():
        target = "<= 0.5 s" if "validate" in name else "-"
        lines.append(f"| `{name}` | {median(walls):.3f} | {min(walls):.3f} | {max(walls):.3f} | "
                     f"{median(samples.cpu[name]):.3f} | {median(samples.ratio[name]):.1f}x | {target} |")
    return "\n".join(lines)


def seed_mount_data(azurite: Azurite, work: Path, cleanup: Cleanup) -> None:
    local = work / "data" / "cold"
    for index in range(MOUNT_FILES):
        write_random_file(local / f"f{index:05d}.bin", 64 * 1024)
    run_child(["rclone", "copy", str(work / "data"), rclone_remote(CONTAINER)], cleanup,
              env=azurite.rclone_env())


def mount_ours(azurite: Azurite, work: Path, cleanup: Cleanup, samples: Samples) -> None:
    workdir = work / "mount-ours"
    mountpoint = workdir / "mnt"
    cleanup.push(lambda: force_unmount(mountpoint))
    started = time.perf_counter()
    child = Child([sys.executable, str(CODE.root / "bench" / "child_ops.py"), "mount", "--path",
                   f"{CONTAINER}/cold", "--workdir", str(workdir)], cleanup, env=azurite.child_env(),
                  stdin=subprocess.PIPE)
    try:
        ready = wait_ready(mountpoint, child, started)
    finally:
        if child.proc.stdin is not None:
            child.proc.stdin.close()  # the child leaves its ``with`` block and unmounts
    result = child.finish(timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"our mount exited with {result.returncode}: {result.stderr[-2000:]}")
    info = result.json()
    samples.add("ours: spawn to listing", ready, result.cpu_s)
    samples.add("ours: interpreter + imports (in the child)", float(info["startup"]), float("nan"))
    samples.add("ours: materialize to listing (in the child)", float(info["ready_s"]), float("nan"))


def mount_rclone(azurite: Azurite, work: Path, cleanup: Cleanup, samples: Samples) -> None:
    mountpoint = work / "mount-rclone"
    mountpoint.mkdir(parents=True, exist_ok=True)
    cleanup.push(lambda: force_unmount(mountpoint))
    started = time.perf_counter()
    child = Child(["rclone", "mount", rclone_remote(f"{CONTAINER}/cold"), str(mountpoint),
                   *RCLONE_MOUNT_FLAGS], cleanup, env=azurite.rclone_env())
    try:
        ready = wait_ready(mountpoint, child, started)
    finally:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False, capture_output=True)
    result = child.finish(timeout=60)
    samples.add("rclone mount: spawn to listing", ready, result.cpu_s)


def bench_ro_mount(runs: int, cleanup: Cleanup, work: Path) -> Samples:
    azurite = Azurite(work / "azurite", cleanup)
    azurite.start()
    seed_mount_data(azurite, work, cleanup)
    tools = {"ours": mount_ours, "rclone": mount_rclone}
    samples = Samples()
    for mount in tools.values():  # untimed: the first mount of each pays for a cold Azurite and page cache
        mount(azurite, work, cleanup, Samples())
    for run in range(runs):
        for tool in rotated(list(tools), run):
            tools[tool](azurite, work, cleanup, samples)
        log.info("ro_mount round %d: %s (load %s)", run + 1,
                 {k: round(v[-1], 3) for k, v in samples.wall.items()}, load_average())
    azurite.stop()
    return samples


def ro_mount_table(samples: Samples) -> str:
    ours, theirs = median(samples.wall["ours: spawn to listing"]), median(samples.wall["rclone mount: spawn "
                                                                                        "to listing"])
    lines = ["| ready (from process spawn to a non-empty listdir) | wall s (median) | min | max | "
             "CPU s of the mount process (whole run) |", "|---|---:|---:|---:|---:|"]
    for name, walls in samples.wall.items():
        cpu = median(samples.cpu[name])
        lines.append(f"| {name} | {median(walls):.3f} | {min(walls):.3f} | {max(walls):.3f} | "
                     f"{'-' if cpu != cpu else f'{cpu:.3f}'} |")
    lines += ["", f"Ours against rclone mount: **{ours / theirs:.2f}x**; target: ours <= 0.5 s "
                  f"({'met' if ours <= 0.5 else 'NOT met'})."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sections", default="validate,ro_mount")
    parser.add_argument("--code", default="HEAD",
                        help="git revision to measure, 'worktree', or a folder: the tree in it as it is")
    parser.add_argument("--write", action="store_true", help="record the tables in bench/RESULTS.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    machine = machine_info()
    sections = args.sections.split(",")
    tables: list[str] = []
    with Cleanup() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="runner-bench-cold-"))
        cleanup.push(lambda: shutil.rmtree(work, ignore_errors=True))
        if Path(args.code).is_dir():  # a tree as it is (`git archive HEAD | tar -x -C /tmp/old`, edited)
            CODE.root, CODE.label = Path(args.code).resolve(), f"tree {args.code}"
            label = CODE.label
        else:
            label = use_code(args.code, work / "code", ("runner", "mounts", "bench", "bin", "samples"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(CODE.root / "runner"),
                        str(CODE.root / "mounts")], check=True, stdout=subprocess.DEVNULL)
        if "validate" in sections:
            tables += ["`runner job validate`, cold:", "", validate_table(bench_validate(args.runs, cleanup,
                                                                                           work)), ""]
        if "ro_mount" in sections:
            tables += ["ro_mount, cold:", "", ro_mount_table(bench_ro_mount(args.runs, cleanup, work)), ""]
    body = "\n".join([
        f"Command: `python bench/bench_cold.py --runs {args.runs} --sections {args.sections} --code "
        f"{args.code} --write`; our code: {label}; medians of {args.runs} interleaved rounds.",
        "",
        f"Machine: {machine['date']}; nproc {machine['nproc']}; Python {machine['python']}; "
        f"{machine['rclone']}; load average (1/5/15 min) at start {machine['load']}, at end "
        f"{load_average()}.",
        "",
        *tables,
    ])
    print_out(body)
    if args.write:
        write_section(f"Cold start ({label})", body)


if __name__ == "__main__":
    main()
