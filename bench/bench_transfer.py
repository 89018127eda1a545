"""Download and upload: our strategies against rclone copy (and azure-storage-blob for uploads).

    python bench/bench_transfer.py [--quick] [--runs 3] [--write]

One invocation: a fresh private Azurite, the data sets uploaded once (1 GiB file, 2,000 x 64 KiB,
20 x 50 MiB; ``--quick``: 64 MiB, 200 x 64 KiB, 4 x 8 MiB), then for every data set the median of
``--runs`` runs (tools interleaved run by run, which one goes first rotating; for downloads after one
untimed round, Azurite's first reads after its restart being slow) of

* download: ``DownloadStrategy`` (no cache; with and without its MD5 check) vs ``rclone copy`` with
  tuned flags; plus the cached repeat of the large file (time until the input is ready on a cache hit);
* upload: ``UploadStrategy`` vs ``rclone copy``, vs azure-storage-blob ``upload_blob`` with tuned
  ``max_concurrency`` and the same MD5 checks as ours (``sdk-md5``), and vs the SDK without MD5 (``sdk``,
  shown, never a target: it does less work). Each upload goes into a fresh container.

After every run of every tool, what it moved is read back and compared with the source's SHA-256
(untimed): the downloaded files, the uploaded blobs.

Like is compared with like, in two named rows per figure:

* **in-process**: the transfer inside each tool's process: our strategy call (a job's runner has its
  imports done already), rclone's own elapsed time from its JSON stats, the SDK's upload calls;
* **whole process**: spawn to exit for every tool (ours: interpreter start and imports included).

Every tool runs in a child process (``bench/child_ops.py`` for ours and the SDK) so its peak RSS and CPU
are its own. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import json
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
    RCLONE_STATS_FLAGS,
    Azurite,
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
    load_average,
    machine_info,
    median,
    print_out,
    rclone_elapsed,
    rclone_remote,
    render_table,
    rotated,
    run_child,
    sha256_file,
    variant_flags,
    variant_title,
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
    """Per tool: in-process seconds (the measured step: our strategy call, rclone's own elapsed time from
    its stats, the SDK's upload calls), whole-process seconds (spawn to exit), CPU seconds and peak RSS."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    # CPU of the transfer itself: ours and the SDK's from getrusage around the measured step (their
    # interpreter start and imports apart); rclone's whole process (its start is a few hundredths)
    cpu_in: dict[str, list[float]] = field(default_factory=dict)

    def add(self, tool: str, seconds: float, result: ChildResult, cpu_in: float | None = None) -> None:
        self.seconds.setdefault(tool, []).append(seconds)
        self.wall.setdefault(tool, []).append(result.seconds)
        self.rss.setdefault(tool, []).append(result.max_rss_mb)
        self.cpu.setdefault(tool, []).append(result.cpu_s)
        self.cpu_in.setdefault(tool, []).append(result.cpu_s if cpu_in is None else cpu_in)

    def med(self, tool: str) -> float:
        return median(self.seconds.get(tool, []))

    def med_wall(self, tool: str) -> float:
        return median(self.wall.get(tool, []))


def remote_path(data: DataSet) -> str:
    return f"{CONTAINER}/{data.name}/f00000.bin" if data.files == 1 else f"{CONTAINER}/{data.name}"


DOWNLOAD_TOOLS = ("ours", "ours-nomd5", "rclone")


def download_run(azurite: Azurite, data: DataSet, work: Path, cleanup: Cleanup, samples: Samples,
                 digests: Digests, run: int = 0) -> None:
    """One run of each tool on ``data``; what each downloaded is checked byte for byte against the
    source (untimed) and removed. Which tool goes first rotates with ``run`` (each tool's cache and
    Azurite's state after the tool before it)."""
    dest = work / "download"
    for tool in rotated(DOWNLOAD_TOOLS, run):
        seconds, result = download_once(tool, azurite, data, dest, cleanup, digests, f"run {run + 1}")
        samples.add(tool, seconds, result, None if tool == "rclone" else step_cpu(result))


def download_once(tool: str, azurite: Azurite, data: DataSet, dest: Path, cleanup: Cleanup,
                  digests: Digests, label: str) -> tuple[float, ChildResult]:
    """One download of ``data`` by ``tool`` into ``dest``: its in-process seconds and the child's
    result; the bytes are checked against the source (untimed) and removed."""
    shutil.rmtree(dest, ignore_errors=True)
    if tool == "rclone":
        argv = ["rclone", "copy", rclone_remote(remote_path(data)), str(dest / "data"),
                *RCLONE_DOWNLOAD_FLAGS, *RCLONE_STATS_FLAGS]
        result = run_child(argv, cleanup, env=azurite.rclone_env())
        seconds = rclone_elapsed(result.stderr)
    else:
        extra = ["--no-verify"] if tool == "ours-nomd5" else []
        argv = child_ops("download", "--path", remote_path(data), "--workdir", str(dest), *extra)
        if data.files == 1:
            argv.append("--file")
        result = run_child(argv, cleanup, env=azurite.child_env())
        seconds = float(result.json()["seconds"])
    check_tree(dest / "data", digests.of(data), f"{tool} download of {data.name}, {label}")
    shutil.rmtree(dest, ignore_errors=True)
    return seconds, result


def cached_repeat(azurite: Azurite, data: DataSet, work: Path, cleanup: Cleanup, runs: int,
                  digests: Digests) -> Samples:
    """Fill the content cache with the large file once, then time ``runs`` repeated jobs (cache hits)."""
    cache = work / "cache"
    samples = Samples()
    for run in range(runs + 1):
        workdir = work / f"cached-{run}"
        argv = child_ops("download", "--path", remote_path(data), "--file", "--workdir", str(workdir),
                         "--cache", str(cache))
        result = run_child(argv, cleanup, env=azurite.child_env())
        # through the cache the job is given the cache entry itself, not a copy under its workdir
        # (``path`` is what child_ops of 913006f..6d4e0f1 said, for an A/B with --code against them)
        said = result.json()
        served = Path(said.get("host_path") or said.get("path") or workdir / "data")
        if served.is_file():  # a single-file input is the entry's file
            if [sha256_file(served)] != list(digests.of(data).values()):
                raise RuntimeError(f"cached download, run {run}: the bytes differ from the source")
        else:
            check_tree(served, digests.of(data), f"cached download, run {run}")
        if run > 0:  # run 0 filled the cache
            samples.add("ours", float(result.json()["seconds"]), result)
        shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return samples


def step_cpu(result: ChildResult) -> float:
    """The CPU of a child_ops step (user + system, imports apart); NaN from a child_ops too old to say."""
    return float(result.json().get("cpu", float("nan")))


GiB = 1 << 30


def cpu_row(kind: str, data: DataSet, samples: Samples, baseline: str, target: str) -> Row:
    """CPU seconds per GiB moved: the transfer itself (see ``Samples.cpu_in``), ours against ``baseline``."""
    startup = median(samples.cpu["ours"]) - median(samples.cpu_in["ours"])
    theirs = "its whole process" if baseline == "rclone" else "its upload calls"
    return Row(f"{kind} {data.label()} CPU s per GiB, transfer, vs {baseline}",
               median(samples.cpu_in["ours"]) * GiB / data.total,
               median(samples.cpu_in[baseline]) * GiB / data.total, "s", target, higher_is_better=False,
               note=f"user+sys; ours: the strategy call (interpreter start and imports apart: "
                    f"{startup:.2f} s); {baseline}: {theirs}")


# what "in-process" times for each baseline (ours: the strategy call, after the imports)
IN_PROCESS = {"rclone": "its own elapsed time (JSON stats)", "sdk": "its upload calls",
              "sdk-md5": "its upload calls"}
UPLOAD_TOOLS = ("ours", "rclone", "sdk", "sdk-md5")
# what each upload checks, for the table (ours: every block's MD5 checked by the service, the whole
# file's MD5 computed, stored and compared with what the service then reports, and the size)
UPLOAD_VERIFICATION = {
    "rclone": "rclone: MD5 of each file computed, stored and compared after the copy",
    "sdk": "azure-storage-blob: no MD5",
    "sdk-md5": "azure-storage-blob with validate_content (MD5 of every request checked by the service), "
               "the whole file's MD5 stored and compared, the size checked: what ours does",
}


def upload_run(azurite: Azurite, data: DataSet, local: Path, run: int, cleanup: Cleanup,
               samples: Samples, manifest: Path) -> None:
    """One upload per tool into a fresh container (the order rotates with ``run``); the container's
    blobs are then read back and checked against the source's SHA-256 (untimed) and dropped."""
    src = local / data.name
    for tool in rotated(UPLOAD_TOOLS, run):
        if azurite.in_memory:  # dropped blobs stay in its memory until its garbage collection: start empty
            azurite.restart()
        container = f"up-{tool}-{data.name}-{run}"
        target = f"{container}/{data.name}"
        if tool == "rclone":
            result = run_child(["rclone", "copy", str(src), rclone_remote(target), *RCLONE_UPLOAD_FLAGS,
                                *RCLONE_STATS_FLAGS], cleanup, env=azurite.rclone_env())
            seconds = rclone_elapsed(result.stderr)
        else:
            op = {"ours": ["upload"], "sdk": ["sdk-upload"], "sdk-md5": ["sdk-upload", "--md5"]}[tool]
            result = run_child(child_ops(*op, "--src", str(src), "--path", target, "--concurrency",
                                         str(SDK_CONCURRENCY)), cleanup, env=azurite.child_env())
            seconds = float(result.json()["seconds"])
        samples.add(tool, seconds, result, None if tool == "rclone" else step_cpu(result))
        stored = run_child(child_ops("drop-container", "--container", container, "--expect", str(manifest)),
                           cleanup, env=azurite.child_env()).json()
        if stored["bytes"] != data.total or stored["files"] != data.files:
            raise RuntimeError(f"{tool} upload of {data.name}: {stored} stored, expected "
                               f"{data.files} files / {data.total} bytes")


def throughput_rows(kind: str, data: DataSet, samples: Samples, baseline: str, target: str,
                    baseline_note: str = "") -> list[Row]:
    """Ours against ``baseline``, twice and named: in-process (the transfer inside each tool's process)
    and whole process (spawn to exit: interpreter start and imports for ours, the binary's start for
    rclone); plus files/s and peak RSS."""
    total = data.total
    cpu = (f"CPU s (whole process): ours {median(samples.cpu['ours']):.2f}, {baseline} "
           f"{median(samples.cpu[baseline]):.2f}")
    rows = [
        Row(f"{kind} {data.label()} MB/s, in-process, vs {baseline}", total / samples.med("ours") / 1e6,
            total / samples.med(baseline) / 1e6, "MB/s", target,
            note="; ".join(filter(None, [f"ours: the strategy call; {baseline}: {IN_PROCESS[baseline]}",
                                         baseline_note, cpu]))),
        Row(f"{kind} {data.label()} MB/s, whole process, vs {baseline}",
            total / samples.med_wall("ours") / 1e6, total / samples.med_wall(baseline) / 1e6, "MB/s", target,
            note="spawn to exit: ours incl. interpreter start and imports"),
    ]
    if data.files > 1:
        rows.append(Row(f"{kind} {data.label()} files/s, in-process, vs {baseline}",
                        data.files / samples.med("ours"), data.files / samples.med(baseline), "files/s",
                        target, note=baseline_note))
    return rows


def rss_row(kind: str, data: DataSet, samples: Samples, baseline: str) -> Row:
    return Row(f"{kind} {data.label()} peak RSS", max(samples.rss["ours"]), max(samples.rss[baseline]), "MB",
               "<= 300 MB", higher_is_better=False, note=f"baseline: {baseline} peak RSS")


def bench_downloads(azurite: Azurite, work: Path, sets: list[DataSet], runs: int,
                    cleanup: Cleanup) -> list[Row]:
    rows: list[Row] = []
    digests = Digests(work / "data")
    for data in sets:
        azurite.restart()
        # one untimed round first: the first reads after a restart are slow, and only the tool that goes
        # first in run 1 would pay for them (ours, each set: 1.52-1.58 s against 1.05-1.34 s later)
        download_run(azurite, data, work, cleanup, Samples(), digests, 0)
        samples = Samples()
        for run in range(runs):
            download_run(azurite, data, work, cleanup, samples, digests, run)
            log.info("download %s run %d: %s (load %s)", data.name, run + 1,
                     {k: round(v[-1], 2) for k, v in samples.seconds.items()}, load_average())
        rows += throughput_rows("download", data, samples, "rclone", ">= 1.0x",
                                "both check sizes, and MD5 of the files fetched in one request")
        rows.append(Row(f"download {data.label()} MB/s, in-process, ours without MD5 vs rclone",
                        data.total / samples.med("ours-nomd5") / 1e6,
                        data.total / samples.med("rclone") / 1e6, "MB/s", "-",
                        note="ours checks sizes only here; rclone as above"))
        rows.append(cpu_row("download", data, samples, "rclone", "<= 1.0x"))
        rows.append(rss_row("download", data, samples, "rclone"))
    large = sets[0]
    cached = cached_repeat(azurite, large, work, cleanup, runs, digests)
    rows.append(Row(f"download {large.label()} cached repeat: input ready", cached.med("ours"),
                    float("nan"), "s", "<= 1 s", higher_is_better=False,
                    note=f"in-process; whole process: {median(cached.wall['ours']):.2f} s"))
    return rows


def bench_uploads(azurite: Azurite, work: Path, sets: list[DataSet], runs: int,
                  cleanup: Cleanup) -> list[Row]:
    rows: list[Row] = []
    digests = Digests(work / "data")
    for data in sets:
        azurite.restart()
        manifest = work / f"manifest-{data.name}.json"
        manifest.write_text(json.dumps({f"{data.name}/{rel}": sha for rel, sha in digests.of(data).items()}))
        samples = Samples()
        for run in range(runs):
            upload_run(azurite, data, work / "data", run, cleanup, samples, manifest)
            log.info("upload %s run %d: %s (load %s)", data.name, run + 1,
                     {k: round(v[-1], 2) for k, v in samples.seconds.items()}, load_average())
        for baseline in ("rclone", "sdk-md5", "sdk"):
            target = "-" if baseline == "sdk" else ">= 1.0x"  # the SDK alone does less work
            rows += throughput_rows("upload", data, samples, baseline, target, UPLOAD_VERIFICATION[baseline])
        for baseline in ("rclone", "sdk-md5", "sdk"):
            rows.append(cpu_row("upload", data, samples, baseline, "-" if baseline == "sdk" else "<= 1.0x"))
        rows.append(rss_row("upload", data, samples, "rclone"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data sets (about a minute)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    parser.add_argument("--only", choices=["download", "upload"], help="run one section")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--load", type=int, default=0, help="busy loops running beside the measurements")
    parser.add_argument("--in-memory", action="store_true",
                        help="Azurite keeps blobs in memory: its disk writes (and their stalls) out of the "
                             "figures")
    add_tls_option(parser)
    args = parser.parse_args()
    if args.in_memory and args.only != "upload":
        parser.error("--in-memory goes with --only upload (Azurite restarts before each download set: an "
                     "Azurite in memory would lose the data)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    machine = machine_info()
    started = time.perf_counter()
    with Cleanup() as cleanup, \
            bench_environment(args.quick, cleanup, args.code, in_memory=args.in_memory,
                              tls=args.tls) as environment, \
            busy_load(args.load, cleanup):
        azurite, work, sets = environment
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
        (f" --runs {args.runs}" if args.runs != 3 else "") + (f" --only {only}" if only else "") + \
        (" --in-memory" if getattr(args, "in_memory", False) else "") + variant_flags(args))
    parts = {"download": "download", "upload": "upload"}.get(only or "", "download, upload")
    title = f"Transfer: {parts} ({CODE.label})" + (" — quick" if args.quick else "") + \
        variant_title(args, " — Azurite in memory" if getattr(args, "in_memory", False) else "")
    body = "\n".join([
        f"Command: `{command} --write` ({elapsed / 60:.1f} min). Medians of {args.runs} runs. "
        f"Our code: {CODE.label}.",
        "",
        f"Machine: {machine['date']}; nproc {machine['nproc']}; memory (GiB) "
        f"{machine['memory']}; kernel {machine['kernel']}; Python {machine['python']}; "
        f"Azurite {machine['azurite']}; {machine['rclone']}; load average at start {machine['load']}, "
        f"at end {load_average()}." + added_load(args),
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
