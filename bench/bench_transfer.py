"""Download and upload: our strategies against rclone copy (and azure-storage-blob for uploads).

    python bench/bench_transfer.py [--quick] [--runs 3] [--write]

One invocation: a fresh private Azurite, the data sets uploaded once (1 GiB file, 2,000 x 64 KiB,
20 x 50 MiB; ``--quick``: 64 MiB, 200 x 64 KiB, 4 x 8 MiB), then for every data set the median of
``--runs`` runs (tools interleaved run by run; for downloads, which goes first rotates) of

* download: ``DownloadStrategy`` (no cache) vs ``rclone copy`` with tuned flags; plus the cached
  repeat of the large file (time until the input is ready on a cache hit);
* upload: ``UploadStrategy`` vs ``rclone copy`` and vs azure-storage-blob ``upload_blob`` with tuned
  ``max_concurrency`` (each upload into a fresh container, checked for size and dropped afterwards).

Ours runs in a child process (``bench/child_ops.py``) so its peak RSS is its own; its time is the
strategy call inside that process (a job's runner process has its imports done already); the whole
child's wall time (interpreter start and imports included) is reported next to it. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import logging
import shutil
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
    ChildResult,
    Cleanup,
    DataSet,
    Row,
    bench_environment,
    child_ops,
    load_average,
    machine_info,
    median,
    print_out,
    rclone_remote,
    render_table,
    run_child,
    write_section,
)

log = logging.getLogger("bench.transfer")

RCLONE_DOWNLOAD_FLAGS = ["--transfers", "16", "--checkers", "16", "--multi-thread-streams", "8",
                         "--multi-thread-cutoff", "32M", "--buffer-size", "16M"]
RCLONE_UPLOAD_FLAGS = ["--transfers", "16", "--checkers", "16", "--buffer-size", "16M",
                       "--azureblob-upload-concurrency", "16", "--azureblob-chunk-size", "8M"]
SDK_CONCURRENCY = 16


@dataclass
class Samples:
    """Per tool: seconds (the measured step), wall seconds and CPU seconds (whole process), peak RSS."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, tool: str, seconds: float, result: ChildResult) -> None:
        self.seconds.setdefault(tool, []).append(seconds)
        self.wall.setdefault(tool, []).append(result.seconds)
        self.rss.setdefault(tool, []).append(result.max_rss_mb)
        self.cpu.setdefault(tool, []).append(result.cpu_s)

    def med(self, tool: str) -> float:
        return median(self.seconds.get(tool, []))


def remote_path(data: DataSet) -> str:
    return f"{CONTAINER}/{data.name}/f00000.bin" if data.files == 1 else f"{CONTAINER}/{data.name}"


DOWNLOAD_TOOLS = ("ours", "ours-nomd5", "rclone")


def download_run(azurite: Azurite, data: DataSet, work: Path, cleanup: Cleanup, samples: Samples,
                 run: int = 0) -> None:
    """One run of each tool on ``data`` (outputs removed after each, untimed). Which tool goes first
    rotates with ``run``: the first reads after Azurite's restart are slower (as in bench_ro_mount)."""
    dest = work / "download"
    shutil.rmtree(dest, ignore_errors=True)
    first = run % len(DOWNLOAD_TOOLS)
    for tool in DOWNLOAD_TOOLS[first:] + DOWNLOAD_TOOLS[:first]:
        if tool == "rclone":
            theirs = run_child(["rclone", "copy", rclone_remote(remote_path(data)), str(dest / "data"),
                                *RCLONE_DOWNLOAD_FLAGS], cleanup, env=azurite.rclone_env())
            copied = sum(1 for p in (dest / "data").rglob("*") if p.is_file())
            if copied != data.files:
                raise RuntimeError(f"rclone copied {copied} files of {data.files}")
            samples.add("rclone", theirs.seconds, theirs)
        else:
            extra = ["--no-verify"] if tool == "ours-nomd5" else []
            argv = child_ops("download", "--path", remote_path(data), "--workdir", str(dest), *extra)
            if data.files == 1:
                argv.append("--file")
            ours = run_child(argv, cleanup, env=azurite.child_env())
            info = ours.json()
            if info["files"] != data.files:
                raise RuntimeError(f"{tool} downloaded {info['files']} files of {data.files}")
            samples.add(tool, float(info["seconds"]), ours)
        shutil.rmtree(dest, ignore_errors=True)


def cached_repeat(azurite: Azurite, data: DataSet, work: Path, cleanup: Cleanup, runs: int) -> Samples:
    """Fill the content cache with the large file once, then time ``runs`` repeated jobs (cache hits)."""
    cache = work / "cache"
    samples = Samples()
    for run in range(runs + 1):
        workdir = work / f"cached-{run}"
        argv = child_ops("download", "--path", remote_path(data), "--file", "--workdir", str(workdir),
                         "--cache", str(cache))
        result = run_child(argv, cleanup, env=azurite.child_env())
        if run > 0:  # run 0 filled the cache
            samples.add("ours", float(result.json()["seconds"]), result)
        shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return samples


def upload_run(azurite: Azurite, data: DataSet, local: Path, run: int, cleanup: Cleanup,
               samples: Samples) -> None:
    src = local / data.name
    for tool in ("ours", "rclone", "sdk"):
        container = f"up-{tool}-{data.name}-{run}"
        target = f"{container}/{data.name}"
        if tool == "rclone":
            result = run_child(["rclone", "copy", str(src), rclone_remote(target), *RCLONE_UPLOAD_FLAGS],
                               cleanup, env=azurite.rclone_env())
            seconds = result.seconds
        else:
            op = "upload" if tool == "ours" else "sdk-upload"
            result = run_child(child_ops(op, "--src", str(src), "--path", target, "--concurrency",
                                         str(SDK_CONCURRENCY)), cleanup, env=azurite.child_env())
            seconds = float(result.json()["seconds"])
        samples.add(tool, seconds, result)
        stored = run_child(child_ops("drop-container", "--container", container), cleanup,
                           env=azurite.child_env()).json()
        if stored["bytes"] != data.total or stored["files"] != data.files:
            raise RuntimeError(f"{tool} upload of {data.name}: {stored} stored, expected "
                               f"{data.files} files / {data.total} bytes")


def throughput_rows(kind: str, data: DataSet, samples: Samples, baseline: str, target: str) -> list[Row]:
    ours, theirs = samples.med("ours"), samples.med(baseline)
    wall = median(samples.wall["ours"])
    note = (f"baseline: {baseline}; ours incl. process start+imports: "
            f"{data.total / wall / 1e6:.0f} MB/s")
    note += (f"; CPU s (whole process): ours {median(samples.cpu['ours']):.2f}, {baseline} "
             f"{median(samples.cpu[baseline]):.2f}")
    if "ours-nomd5" in samples.seconds:
        note += f"; ours without the MD5 check: {data.total / samples.med('ours-nomd5') / 1e6:.0f} MB/s"
    rows = [Row(f"{kind} {data.label()} MB/s", data.total / ours / 1e6, data.total / theirs / 1e6, "MB/s",
                target, note=note)]
    if data.files > 1:
        rows.append(Row(f"{kind} {data.label()} files/s", data.files / ours, data.files / theirs,
                        "files/s", target, note=f"baseline: {baseline}"))
    rss_note = f"baseline: {baseline} peak RSS"
    rows.append(Row(f"{kind} {data.label()} peak RSS", max(samples.rss["ours"]),
                    max(samples.rss[baseline]), "MB", "<= 300 MB", higher_is_better=False, note=rss_note))
    return rows


def bench_downloads(azurite: Azurite, work: Path, sets: list[DataSet], runs: int,
                    cleanup: Cleanup) -> list[Row]:
    rows: list[Row] = []
    for data in sets:
        azurite.restart()
        samples = Samples()
        for run in range(runs):
            download_run(azurite, data, work, cleanup, samples, run)
            log.info("download %s run %d: %s (load %s)", data.name, run + 1,
                     {k: round(v[-1], 2) for k, v in samples.seconds.items()}, load_average())
        rows += throughput_rows("download", data, samples, "rclone", ">= 1.0x")
    large = sets[0]
    cached = cached_repeat(azurite, large, work, cleanup, runs)
    rows.append(Row(f"download {large.label()} cached repeat: input ready", cached.med("ours"),
                    float("nan"), "s", "<= 1 s", higher_is_better=False,
                    note=f"incl. process start: {median(cached.wall['ours']):.2f} s"))
    return rows


def bench_uploads(azurite: Azurite, work: Path, sets: list[DataSet], runs: int,
                  cleanup: Cleanup) -> list[Row]:
    rows: list[Row] = []
    for data in sets:
        azurite.restart()
        samples = Samples()
        for run in range(runs):
            upload_run(azurite, data, work / "data", run, cleanup, samples)
            log.info("upload %s run %d: %s (load %s)", data.name, run + 1,
                     {k: round(v[-1], 2) for k, v in samples.seconds.items()}, load_average())
        better = min(("rclone", "sdk"), key=samples.med)
        rows += throughput_rows("upload", data, samples, better, ">= 1.0x")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data sets (about a minute)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    parser.add_argument("--only", choices=["download", "upload"], help="run one section")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    machine = machine_info()
    started = time.perf_counter()
    with Cleanup() as cleanup, bench_environment(args.quick, cleanup, args.code) as (azurite, work, sets):
        rows: list[Row] = []
        if args.only in (None, "download"):
            rows += bench_downloads(azurite, work, sets, args.runs, cleanup)
        if args.only in (None, "upload"):
            rows += bench_uploads(azurite, work, sets, args.runs, cleanup)
    table = render_table(rows)
    print_out(table)
    if args.write:
        record(args, machine, table, time.perf_counter() - started)


def record(args: argparse.Namespace, machine: dict[str, str], table: str, elapsed: float,
           command: str | None = None) -> None:
    only = getattr(args, "only", None)
    command = command or ("python bench/bench_transfer.py" + (" --quick" if args.quick else "") + \
        (f" --runs {args.runs}" if args.runs != 3 else "") + (f" --only {only}" if only else ""))
    parts = {"download": "download", "upload": "upload"}.get(only or "", "download, upload")
    title = f"Transfer: {parts} ({CODE.label})" + (" — quick" if args.quick else "")
    body = "\n".join([
        f"Command: `{command} --write` ({elapsed / 60:.1f} min). Medians of {args.runs} runs. "
        f"Our code: {CODE.label}.",
        "",
        f"Machine: {machine['date']}; nproc {machine['nproc']}; memory (GiB) "
        f"{machine['memory']}; kernel {machine['kernel']}; Python {machine['python']}; "
        f"Azurite {machine['azurite']}; {machine['rclone']}; load average at start {machine['load']}, "
        f"at end {load_average()}.",
        "",
        f"rclone download flags: `{' '.join(RCLONE_DOWNLOAD_FLAGS)}`; upload flags: "
        f"`{' '.join(RCLONE_UPLOAD_FLAGS)}`; azure-storage-blob: {SDK_CONCURRENCY} threads "
        "(files in parallel, max_concurrency = 16 / threads per file), 8 MiB blocks.",
        "",
        table,
    ])
    write_section(title, body)


if __name__ == "__main__":
    main()
