"""Listing through a read-only mount: walk a flat folder and ``lstat`` every file (``ls -lR``, ``find``,
a data loader building its index), ours against ``rclone mount``, both over a **local** folder.

    python bench/bench_listing.py [--files 1000,10000,100000] [--runs 3] [--write]

What this isolates is the FUSE layer's cost per entry: with a local backend neither tool waits for a
store, so the time is the kernel round trips and each tool's callbacks. Three mounts per run, the order
rotating run by run, each a fresh mount in its own process:

* ``ours``: ``RoMountStrategy(fuse_local=True)`` (``bench/child_ops.py mount-local``), listings with
  every entry's attributes (READDIRPLUS, ``mounts/fuse/plus.py``);
* ``ours-names-only``: the same code with READDIRPLUS turned off (listings carry names only, as before
  it), so the A/B is in the same invocation;
* ``rclone``: ``rclone mount DIR`` with bench_ro_mount's flags.

Each run: spawn, wait for the mount, then a child (``child_ops list-tree``) walks it and ``lstat``s every
file; the figure is that child's in-process seconds, checked to have seen every file. CPU and peak RSS:
the mount process over its whole life (mount, listing, unmount). Data: N x 4 KiB files written once under
``--data`` (``bench/scale_data.py``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ro_mount import RCLONE_MOUNT_FLAGS, check_exit, unmount, wait_ready
from bench.common import (
    CODE,
    Child,
    Cleanup,
    child_ops,
    force_unmount,
    load_average,
    machine_info,
    median,
    print_out,
    rotated,
    run_child,
    use_code,
    write_section,
)
from bench.scale_data import ScaleSet, ensure_local

log = logging.getLogger("bench.listing")
TOOLS = ("ours", "ours-names-only", "rclone")


def one_run(tool: str, folder: Path, files: int, work: Path, cleanup: Cleanup) -> dict[str, float]:
    workdir = work / f"mount-{tool}"
    shutil.rmtree(workdir, ignore_errors=True)
    mountpoint = workdir / "mnt"
    cleanup.push(lambda mnt=mountpoint: force_unmount(mnt))  # type: ignore[misc]
    started = time.perf_counter()
    if tool == "rclone":
        mountpoint.mkdir(parents=True)
        child = Child(["rclone", "mount", str(folder), str(mountpoint), *RCLONE_MOUNT_FLAGS], cleanup)
    else:
        extra = ["--names-only"] if tool == "ours-names-only" else []
        child = Child(child_ops("mount-local", "--dir", str(folder), "--workdir", str(workdir), *extra),
                      cleanup, stdin=subprocess.PIPE)
    try:
        ready = wait_ready(mountpoint, child, started, timeout=600)
        listed = run_child(child_ops("list-tree", "--dir", str(mountpoint)), cleanup).json()
    finally:
        unmount(child, mountpoint)
    result = child.finish(timeout=120)
    check_exit(tool, result, mountpoint)
    if listed["files"] != files:
        raise RuntimeError(f"{tool}: listed {listed['files']} files through the mount, expected {files}")
    return {"ready_s": ready, "list_s": float(listed["seconds"]), "cpu_s": result.cpu_s,
            "rss_mb": result.max_rss_mb}


def table(figures: dict[int, dict[str, list[dict[str, float]]]], loads: dict[int, list[str]]) -> str:
    lines = ["| files | tool | walk + lstat s | per file | vs rclone | mount process CPU s | peak RSS MB | "
             "runs | load (1/5/15 min) |", "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for files, by_tool in figures.items():
        baseline = median([f["list_s"] for f in by_tool["rclone"]])
        for tool in TOOLS:
            runs = by_tool[tool]
            seconds = median([f["list_s"] for f in runs])
            lines.append(f"| {files:,} | {tool} | {seconds:.2f} | {seconds / files * 1000:.3f} ms | "
                         f"{seconds / baseline:.2f}x | {median([f['cpu_s'] for f in runs]):.2f} | "
                         f"{max(f['rss_mb'] for f in runs):.0f} | {len(runs)} | {'; '.join(loads[files])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default="/tmp/scale-data")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    command = "python bench/bench_listing.py " + " ".join(sys.argv[1:])
    machine = machine_info()
    figures: dict[int, dict[str, list[dict[str, float]]]] = {}
    loads: dict[int, list[str]] = {}
    with Cleanup() as cleanup, tempfile.TemporaryDirectory(prefix="runner-bench-listing-") as tmp:
        work = Path(tmp)
        use_code(args.code, work / "code")
        for files in [int(n) for n in args.files.split(",") if n.strip()]:
            data = ScaleSet("files", files)
            ensure_local(Path(args.data), data)
            folder = Path(args.data) / data.name
            figures[files] = {tool: [] for tool in TOOLS}
            for run in range(args.runs):
                loads.setdefault(files, []).append(load_average())
                for tool in rotated(TOOLS, run):
                    figure = one_run(tool, folder, files, work, cleanup)
                    figures[files][tool].append(figure)
                    log.info("%d files, %s, run %d: %s", files, tool, run + 1,
                             {k: round(v, 3) for k, v in figure.items()})
    body = (f"Command: `{command}`. Our code: {CODE.label}. Medians of the runs; load = /proc/loadavg "
            f"when each run started.\n\nMachine: {machine['date']}; nproc {machine['nproc']}; CPU "
            f"{machine['cpu']}; Python {machine['python']}; {machine['rclone']}.\n\n"
            f"{table(figures, loads)}")
    print_out(body)
    if args.write:
        write_section(f"Listing through a mount (commit {CODE.label.split()[-1]})", body)


if __name__ == "__main__":
    main()
