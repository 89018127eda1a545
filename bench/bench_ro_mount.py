"""ro_mount: our ``RoMountStrategy`` (FUSE) against ``rclone mount --vfs-cache-mode off`` (tuned).

    python bench/bench_ro_mount.py [--quick] [--runs 3] [--write]

One invocation: a fresh private Azurite with the data sets uploaded once (see ``bench/common.py``), one
untimed read of the large file, then ``--runs`` runs per tool (tools interleaved, which one goes first
alternating), each on a fresh mount of the container:

* mount ready: from spawning the mount process to the first successful, non-empty ``listdir`` of the
  mountpoint, both tools (ours also reports the in-process time from ``materialize()`` to that listdir:
  a job's runner has imported adlfs already, so this is what a job waits for; rclone has no in-process
  equivalent, so that row has no baseline and no ratio);
* first byte: ``open`` + ``read(1)`` of the large file right after the mount is ready;
* sequential read of the large file: ``dd bs=1M`` to /dev/null in a child (nothing dropped first);
* small files: a child reads each of the 2,000 x 64 KiB files whole, one after the other (files/s);
  the 20 x 50 MiB files the same way (MB/s, no target);
* peak RSS of the mount process (ours: the Python process holding the FUSE loop; rclone's own).

After the timed reads of every run, every file is read again through the mount (untimed) and compared
with the source's SHA-256.

Mounts are always unmounted (``fusermount3 -u``, lazily as a last resort) on every exit path.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CODE,
    CONTAINER,
    Azurite,
    Child,
    ChildResult,
    Cleanup,
    DataSet,
    Digests,
    Row,
    add_tls_option,
    added_load,
    bench_environment,
    busy_load,
    check_tree,
    child_ops,
    force_unmount,
    is_mountpoint,
    load_average,
    machine_info,
    median,
    print_out,
    rclone_remote,
    render_table,
    rotated,
    run_child,
    variant_flags,
    variant_title,
    write_section,
)

log = logging.getLogger("bench.ro_mount")

RCLONE_MOUNT_FLAGS = ["--read-only", "--vfs-cache-mode", "off", "--buffer-size", "64M",
                      "--vfs-read-chunk-size", "16M", "--max-read-ahead", "1M", "--dir-cache-time", "1h",
                      "--allow-other", "--no-modtime", "--no-checksum"]
READY_TIMEOUT_S = 60.0


@dataclass
class MountSamples:
    figures: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, tool: str, name: str, value: float) -> None:
        self.figures.setdefault(tool, {}).setdefault(name, []).append(value)

    def med(self, tool: str, name: str) -> float:
        return median(self.figures.get(tool, {}).get(name, []))

    def peak(self, tool: str, name: str) -> float:
        return max(self.figures.get(tool, {}).get(name, [float("nan")]))


def wait_ready(mountpoint: Path, child: Child, started: float, timeout: float = READY_TIMEOUT_S) -> float:
    """Seconds from ``started`` until ``mountpoint`` is a mount whose listing is not empty."""
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(f"mount process exited early ({child.proc.returncode})")
        if is_mountpoint(mountpoint):
            try:
                if os.listdir(mountpoint):
                    return time.perf_counter() - started
            except OSError:
                pass
        time.sleep(0.001)
    raise TimeoutError(f"{mountpoint} not ready after {timeout}s")


def first_byte(path: Path) -> float:
    started = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        if len(os.read(fd, 1)) != 1:
            raise RuntimeError(f"{path}: no first byte")
    finally:
        os.close(fd)
    return time.perf_counter() - started


def read_through(mountpoint: Path, sets: list[DataSet], cleanup: Cleanup, tool: str,
                 samples: MountSamples, digests: Digests) -> None:
    """First byte, sequential read of the large file, then the small and medium files; then (untimed)
    every file read again through the mount and checked against the source's SHA-256."""
    large, small, medium = sets
    big = mountpoint / large.name / "f00000.bin"
    samples.add(tool, "first_byte_s", first_byte(big))
    dd = run_child(["dd", f"if={big}", "of=/dev/null", "bs=1M"], cleanup)
    samples.add(tool, "seq_mb_s", large.total / dd.seconds / 1e6)
    for data, name in ((small, "small_files_s"), (medium, "medium_mb_s")):
        result = run_child(child_ops("read-files", "--dir", str(mountpoint / data.name)), cleanup).json()
        if result["files"] != data.files or result["bytes"] != data.total:
            raise RuntimeError(f"{tool}: read {result} through the mount, expected {data.files} files")
        per_s = data.files / result["seconds"] if name == "small_files_s" else \
            data.total / result["seconds"] / 1e6
        samples.add(tool, name, per_s)
    for data in sets:
        check_tree(mountpoint / data.name, digests.of(data), f"{tool}: {data.name} read through the mount")


def run_ours(azurite: Azurite, work: Path, sets: list[DataSet], cleanup: Cleanup,
             samples: MountSamples, digests: Digests) -> None:
    workdir = work / "mount-ours"
    mountpoint = workdir / "mnt"
    cleanup.push(lambda: force_unmount(mountpoint))
    started = time.perf_counter()
    child = Child(child_ops("mount", "--path", CONTAINER, "--workdir", str(workdir)), cleanup,
                  env=azurite.child_env(), stdin=subprocess.PIPE)
    try:
        samples.add("ours", "ready_s", wait_ready(mountpoint, child, started))
        read_through(mountpoint, sets, cleanup, "ours", samples, digests)
    finally:
        unmount(child, mountpoint)
    result = child.finish(timeout=60)
    check_exit("ours", result, mountpoint)
    info = result.json()
    samples.add("ours", "ready_inproc_s", float(info["ready_s"]))
    samples.add("ours", "rss_mb", result.max_rss_mb)
    samples.add("ours", "cpu_s", result.cpu_s)
    # the mount's own work: the whole process less its interpreter start and imports (NaN from a
    # child_ops too old to report them)
    samples.add("ours", "cpu_mount_s", result.cpu_s - float(info.get("startup_cpu", float("nan"))))


def run_rclone(azurite: Azurite, work: Path, sets: list[DataSet], cleanup: Cleanup,
               samples: MountSamples, digests: Digests) -> None:
    mountpoint = work / "mount-rclone"
    mountpoint.mkdir(parents=True, exist_ok=True)
    cleanup.push(lambda: force_unmount(mountpoint))
    started = time.perf_counter()
    child = Child(["rclone", "mount", rclone_remote(CONTAINER), str(mountpoint), *RCLONE_MOUNT_FLAGS],
                  cleanup, env=azurite.rclone_env())
    try:
        samples.add("rclone", "ready_s", wait_ready(mountpoint, child, started))
        read_through(mountpoint, sets, cleanup, "rclone", samples, digests)
    finally:
        unmount(child, mountpoint)
    result = child.finish(timeout=60)
    check_exit("rclone", result, mountpoint)
    samples.add("rclone", "rss_mb", result.max_rss_mb)
    samples.add("rclone", "cpu_s", result.cpu_s)
    samples.add("rclone", "cpu_mount_s", result.cpu_s)


def unmount(child: Child, mountpoint: Path) -> None:
    """End a mount: ours (a child with a stdin pipe) leaves its ``with`` block and unmounts when its stdin
    closes; rclone's mount is taken away with ``fusermount3 -u``, and the process then exits."""
    if child.proc.stdin is not None:
        child.proc.stdin.close()
    else:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False, capture_output=True)


def check_exit(tool: str, result: ChildResult, mountpoint: Path) -> None:
    if is_mountpoint(mountpoint):
        raise RuntimeError(f"{tool}: {mountpoint} still mounted after the mount process ended")
    if result.returncode != 0:
        raise RuntimeError(f"{tool} mount exited with {result.returncode}: {result.stderr[-2000:]}")


def bench_mounts(azurite: Azurite, work: Path, sets: list[DataSet], runs: int, cleanup: Cleanup) -> list[Row]:
    azurite.restart()
    warm_up(azurite, sets[0])
    samples = MountSamples()
    digests = Digests(work / "data")
    tools = {"ours": run_ours, "rclone": run_rclone}
    for run in range(runs):
        # who goes first alternates: a run's first reads meet a colder Azurite (RESULTS.md, spans)
        for tool in rotated(list(tools), run):
            tools[tool](azurite, work, sets, cleanup, samples, digests)
        latest = {tool: {k: round(v[-1], 3) for k, v in figs.items()}
                  for tool, figs in samples.figures.items()}
        log.info("ro_mount run %d: %s (load %s)", run + 1, latest, load_average())
    return mount_rows(samples, sets)


def warm_up(azurite: Azurite, large: DataSet) -> None:
    """One untimed read of the large file (by rclone, neither mount) after Azurite's restart, so that
    the first measured run does not also pay for Azurite's first reads."""
    subprocess.run(["rclone", "cat", rclone_remote(f"{CONTAINER}/{large.name}/f00000.bin")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True,
                   env={**os.environ, **azurite.rclone_env()})


def mount_rows(samples: MountSamples, sets: list[DataSet]) -> list[Row]:
    large, small, medium = sets
    med = samples.med
    inproc = med("ours", "ready_inproc_s") * 1000
    return [
        Row(f"ro_mount sequential read {large.label()} MB/s", med("ours", "seq_mb_s"),
            med("rclone", "seq_mb_s"), "MB/s", ">= 1.2x", note="dd bs=1M"),
        Row(f"ro_mount small files {small.label()} files/s", med("ours", "small_files_s"),
            med("rclone", "small_files_s"), "files/s", ">= 1.0x", note="one reader, whole files"),
        Row(f"ro_mount {medium.label()} MB/s", med("ours", "medium_mb_s"), med("rclone", "medium_mb_s"),
            "MB/s", ">= 1.0x", note="no target in the issue; one reader"),
        Row("ro_mount first byte", med("ours", "first_byte_s") * 1000, med("rclone", "first_byte_s") * 1000,
            "ms", "<= 50 ms", higher_is_better=False, note="open + read(1) of the large file"),
        Row("ro_mount ready (from process spawn)", med("ours", "ready_s") * 1000,
            med("rclone", "ready_s") * 1000, "ms", "<= 500 ms", higher_is_better=False,
            note="both: spawn to a non-empty listdir; ours incl. interpreter start + imports (adlfs, "
                 "mfusepy)"),
        Row("ro_mount ready (in-process), no baseline", inproc, float("nan"), "ms", "<= 500 ms",
            higher_is_better=False, note="ours only: materialize() to listdir in a warm process (what a job "
                                         "waits for); rclone has no in-process equivalent, so no ratio"),
        Row("ro_mount peak RSS", samples.peak("ours", "rss_mb"), samples.peak("rclone", "rss_mb"), "MB",
            "<= 300 MB", higher_is_better=False, note="the mount process"),
        Row("ro_mount CPU of the mount process, interpreter start and imports apart",
            med("ours", "cpu_mount_s"), med("rclone", "cpu_mount_s"), "s", "<= 0.8x", higher_is_better=False,
            note="user+sys over one whole run (mount, all reads, unmount); ours less the CPU used before "
                 f"materialize() ({med('ours', 'cpu_s') - med('ours', 'cpu_mount_s'):.2f} s); rclone: "
                 "its whole process"),
        Row("ro_mount CPU of the mount process, whole process", med("ours", "cpu_s"), med("rclone", "cpu_s"),
            "s", "-", higher_is_better=False, note="user+sys over one whole run, spawn to exit"),
    ]


def record(args: argparse.Namespace, machine: dict[str, str], table: str, elapsed: float,
           command: str | None = None) -> None:
    command = command or ("python bench/bench_ro_mount.py" + (" --quick" if args.quick else "") + \
        (f" --runs {args.runs}" if args.runs != 3 else "") + variant_flags(args))
    title = f"ro_mount ({CODE.label})" + (" — quick" if args.quick else "") + variant_title(args)
    body = "\n".join([
        f"Command: `{command} --write` ({elapsed / 60:.1f} min). Medians of {args.runs} runs. "
        f"Our code: {CODE.label}.",
        "",
        f"Machine: {machine['date']}; nproc {machine['nproc']}; memory (GiB) "
        f"{machine['memory']}; kernel {machine['kernel']}; Python {machine['python']}; "
        f"Azurite {machine['azurite']}; {machine['rclone']}; load average at start {machine['load']}, "
        f"at end {load_average()}." + added_load(args),
        "",
        f"rclone mount flags: `{' '.join(RCLONE_MOUNT_FLAGS)}`.",
        "",
        table,
    ])
    write_section(title, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data sets (about a minute)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--load", type=int, default=0, help="busy loops running beside the measurements")
    add_tls_option(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    machine = machine_info()
    started = time.perf_counter()
    with Cleanup() as cleanup, \
            bench_environment(args.quick, cleanup, args.code, tls=args.tls) as (azurite, work, sets), \
            busy_load(args.load, cleanup):
        rows = bench_mounts(azurite, work, sets, args.runs, cleanup)
    table = render_table(rows)
    print_out(table)
    if args.write:
        record(args, machine, table, time.perf_counter() - started)


if __name__ == "__main__":
    main()
