"""Scale (issue 21, target 2): 1k / 10k / 100k small files, a tree 20 levels deep, 1 / 4 / 10 GiB models.

    python bench/bench_scale.py [--files 1000,10000,100000] [--gib 1,4,10] [--depth 20]
                                [--sections download,ro_mount,upload,cache] [--runs 1] [--write]

For every data set (``bench/scale_data.py``: 4 KiB files in one flat folder, a chain of nested folders,
one large file), and every section, ours against rclone in the same invocation, the tools interleaved
(which one goes first rotating run by run), each in a child process (its own peak RSS and CPU):

* **download**: ``DownloadStrategy`` (no cache) vs ``rclone copy`` (bench_transfer's flags); the result
  is checked by SHA-256 against the source (untimed);
* **ro_mount**: ``RoMountStrategy`` vs ``rclone mount --vfs-cache-mode off`` (bench_ro_mount's flags) on
  the set's folder: *ready* (spawn to the first non-empty ``listdir``, which for a flat folder is its
  whole listing), *list* (a child walks the mount and ``lstat``s every file), *read* (a child reads every
  file whole, hashing it with SHA-256: the check against the source is part of the read; a large file is
  read by ``dd bs=1M`` and checked afterwards, untimed); peak RSS and CPU of the mount process;
* **upload**: ``UploadStrategy`` vs ``rclone copy`` into a fresh container; checked untimed (every blob's
  size and stored Content-MD5 against the local file's MD5; a large file read back whole and compared
  by SHA-256), then the container is dropped;
* **cache**: the download strategy's content cache (``mounts/cache.py``) on the largest files set: one
  fill, then ``--runs`` repeated downloads of the same key (hits): time until the input is ready.

Per file (small files) and per GiB (large files) figures are the in-process seconds divided by the set's
size: flat rows mean linear costs. Every figure carries ``/proc/loadavg`` at the time it was taken
(another engineer's benchmarks share this 2-core machine).

Data: written once under ``--data`` (default /tmp/scale-data), uploaded once into a private Azurite
(``--port``, ``--azurite-dir``; its ``--location`` keeps the blobs across runs) with ``rclone copy
--transfers 64``; ``--clean`` removes both at the end. Azurite is restarted before each set's sections
(it slows down after heavy use). A ``gib-N`` set's local copy leaves the page cache after seeding
(``scale_data.drop_cached``: the runs read Azurite's copy, which must stay cached). ``--memory-limit 3G``
runs the clients in one memory cgroup (``bench/memory_limit.py``: this VM's memory past ~9 GiB).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ro_mount import RCLONE_MOUNT_FLAGS, check_exit, unmount, wait_ready
from bench.bench_transfer import RCLONE_DOWNLOAD_FLAGS, RCLONE_UPLOAD_FLAGS
from bench.common import (
    CODE,
    CONTAINER,
    RCLONE_STATS_FLAGS,
    Azurite,
    Child,
    ChildResult,
    Cleanup,
    add_tls_option,
    check_tree,
    child_ops,
    force_unmount,
    machine_info,
    print_out,
    rclone_elapsed,
    rclone_remote,
    rotated,
    run_child,
    use_code,
    variant_flags,
    variant_title,
    write_section,
)
from bench.memory_limit import client_memory_limit, parse_size
from bench.scale_data import GiB, ScaleSet, drop_cached, ensure_local, parse_sets, warm_cached

log = logging.getLogger("bench.scale")
TOOLS = ("ours", "rclone")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Figure:
    """One measurement of one tool on one set."""

    seconds: float  # in-process (ours: the strategy call; rclone: its own elapsed time) or the step
    wall: float  # spawn to exit of the measured process
    cpu: float  # user + system of that process
    rss: float  # its peak RSS, MB
    load: str
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Results:
    """section -> set name -> tool -> figures (one per run)."""

    figures: dict[str, dict[str, dict[str, list[Figure]]]] = field(default_factory=dict)

    def add(self, section: str, data: ScaleSet, tool: str, figure: Figure) -> None:
        self.figures.setdefault(section, {}).setdefault(data.name, {}).setdefault(tool, []).append(figure)
        log.info("%s %s %s: %.2fs (wall %.2fs, CPU %.2fs, RSS %.0f MB, %s) load %s", section, data.name,
                 tool, figure.seconds, figure.wall, figure.cpu, figure.rss,
                 {k: round(v, 3) for k, v in figure.extra.items()}, figure.load)


# -- seeding ----------------------------------------------------------------------------------------------
def rclone_size(azurite: Azurite, path: str, cleanup: Cleanup) -> tuple[int, int]:
    argv = ["rclone", "size", "--json", rclone_remote(path)]
    result = Child(argv, cleanup, env=azurite.rclone_env()).finish()
    if result.returncode != 0:
        return 0, 0
    info = json.loads(result.stdout)
    return int(info["count"]), int(info["bytes"])


def seed(azurite: Azurite, local: Path, data: ScaleSet, cleanup: Cleanup) -> None:
    """Upload ``data`` once (rclone, 64 transfers) unless Azurite holds every file already."""
    if rclone_size(azurite, f"{CONTAINER}/{data.name}", cleanup) == (data.files, data.total):
        return
    started = time.perf_counter()
    # one large file: few large blocks (8 MiB blocks stalled Azurite at ~6 GiB of a 10 GiB blob)
    chunks = ["--azureblob-upload-concurrency", "4", "--azureblob-chunk-size", "64M"] if data.kind == "gib" \
        else ["--azureblob-upload-concurrency", "16", "--azureblob-chunk-size", "8M"]
    run_child(["rclone", "copy", str(local / data.name), rclone_remote(f"{CONTAINER}/{data.name}"),
               "--transfers", "64", "--checkers", "32", *chunks], cleanup, env=azurite.rclone_env(),
              timeout=7200)
    log.info("seeded %s in %.0fs", data.name, time.perf_counter() - started)


def remote(data: ScaleSet) -> str:
    return f"{CONTAINER}/{data.name}/model.bin" if data.kind == "gib" else f"{CONTAINER}/{data.name}"


# -- download -------------------------------------------------------------------------------------------
def bench_download(azurite: Azurite, data: ScaleSet, digests: dict[str, str], work: Path, run: int,
                   cleanup: Cleanup, results: Results) -> None:
    dest = work / "download"
    for tool in rotated(TOOLS, run):
        shutil.rmtree(dest, ignore_errors=True)
        load = loadavg()
        if tool == "rclone":
            result = run_child(["rclone", "copy", rclone_remote(remote(data)), str(dest / "data"),
                                *RCLONE_DOWNLOAD_FLAGS, *RCLONE_STATS_FLAGS], cleanup,
                               env=azurite.rclone_env())
            seconds = rclone_elapsed(result.stderr)
        else:
            argv = child_ops("download", "--path", remote(data), "--workdir", str(dest))
            result = run_child(argv + (["--file"] if data.kind == "gib" else []), cleanup,
                               env=azurite.child_env())
            seconds = float(result.json()["seconds"])
        results.add("download", data, tool, figure(seconds, result, load))
        check_tree(dest / "data", digests, f"{tool} download of {data.name}, run {run + 1}")
    shutil.rmtree(dest, ignore_errors=True)


def figure(seconds: float, result: ChildResult, load: str, **extra: float) -> Figure:
    return Figure(seconds, result.seconds, result.cpu_s, result.max_rss_mb, load, dict(extra))


# -- ro_mount -------------------------------------------------------------------------------------------
def read_through(mountpoint: Path, data: ScaleSet, digests: dict[str, str], cleanup: Cleanup,
                 tool: str) -> dict[str, float]:
    """list (walk + lstat every file), then read every file; the bytes are checked against the source."""
    listed = run_child(child_ops("list-tree", "--dir", str(mountpoint)), cleanup).json()
    if listed["files"] != data.files:
        raise RuntimeError(f"{tool}: listed {listed['files']} files through the mount, expected {data.files}")
    if data.kind == "gib":
        big = mountpoint / "model.bin"
        dd = run_child(["dd", f"if={big}", "of=/dev/null", "bs=1M"], cleanup)
        check_tree(mountpoint, digests, f"{tool}: {data.name} read through the mount")
        return {"list_s": listed["seconds"], "read_s": dd.seconds}
    out = mountpoint.parent / f"digests-{tool}.json"
    read = run_child(child_ops("read-files", "--dir", str(mountpoint), "--digests", str(out)), cleanup).json()
    found = json.loads(out.read_text())
    out.unlink()
    if found != digests:
        wrong = sorted(k for k in set(found) | set(digests) if found.get(k) != digests.get(k))
        raise RuntimeError(f"{tool}: {len(wrong)} files read through the mount differ, e.g. {wrong[:3]}")
    return {"list_s": listed["seconds"], "read_s": read["seconds"]}


def bench_mount(azurite: Azurite, data: ScaleSet, digests: dict[str, str], work: Path, run: int,
                cleanup: Cleanup, results: Results) -> None:
    for tool in rotated(TOOLS, run):
        load = loadavg()
        workdir = work / f"mount-{tool}"
        shutil.rmtree(workdir, ignore_errors=True)
        mountpoint = workdir / "mnt"
        cleanup.push(lambda mnt=mountpoint: force_unmount(mnt))  # type: ignore[misc]
        started = time.perf_counter()
        if tool == "ours":
            child = Child(child_ops("mount", "--path", f"{CONTAINER}/{data.name}", "--workdir", str(workdir)),
                          cleanup, env=azurite.child_env(), stdin=subprocess.PIPE)
        else:
            mountpoint.mkdir(parents=True)
            child = Child(["rclone", "mount", rclone_remote(f"{CONTAINER}/{data.name}"), str(mountpoint),
                           *RCLONE_MOUNT_FLAGS], cleanup, env=azurite.rclone_env())
        try:
            ready = wait_ready(mountpoint, child, started, timeout=600)
            steps = read_through(mountpoint, data, digests, cleanup, tool)
        finally:
            unmount(child, mountpoint)
        result = child.finish(timeout=120)
        check_exit(tool, result, mountpoint)
        total = ready + steps["list_s"] + steps["read_s"]
        results.add("ro_mount", data, tool, figure(total, result, load, ready_s=ready, **steps))


# -- upload ---------------------------------------------------------------------------------------------
def local_md5s(root: Path) -> dict[str, str]:
    found = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = hashlib.file_digest(handle, "md5").hexdigest()
    return found


def bench_upload(azurite: Azurite, data: ScaleSet, local: Path, work: Path, run: int, cleanup: Cleanup,
                 results: Results) -> None:
    expect = work / f"expect-{data.name}.json"
    if not expect.exists():
        if data.kind == "gib":
            sha = json.loads((local / f"{data.name}.sha256.json").read_text())
            expect.write_text(json.dumps({"sha256": {f"{data.name}/{k}": v for k, v in sha.items()}}))
        else:
            md5 = local_md5s(local / data.name)
            expect.write_text(json.dumps({"md5": {f"{data.name}/{k}": v for k, v in md5.items()}}))
    for tool in rotated(TOOLS, run):
        container = f"up-{tool}-{run}-{data.name}"
        target = f"{container}/{data.name}"
        load = loadavg()
        if tool == "rclone":
            result = run_child(["rclone", "copy", str(local / data.name), rclone_remote(target),
                                *RCLONE_UPLOAD_FLAGS, *RCLONE_STATS_FLAGS], cleanup, env=azurite.rclone_env())
            seconds = rclone_elapsed(result.stderr)
        else:
            result = run_child(child_ops("upload", "--src", str(local / data.name), "--path", target),
                               cleanup, env=azurite.child_env())
            seconds = float(result.json()["seconds"])
        results.add("upload", data, tool, figure(seconds, result, load))
        stored = run_child(child_ops("check-container", "--container", container, "--expect", str(expect)),
                           cleanup, env=azurite.child_env(), timeout=7200).json()
        if stored["files"] != data.files or stored["bytes"] != data.total:
            raise RuntimeError(f"{tool} upload of {data.name}: {stored}, expected {data.files} files")


# -- cache ----------------------------------------------------------------------------------------------
def bench_cache(azurite: Azurite, data: ScaleSet, digests: dict[str, str], work: Path, runs: int,
                cleanup: Cleanup, results: Results) -> None:
    """One fill of the content cache, then ``runs`` hits (a repeated job's input ready)."""
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    for run in range(runs + 1):
        load = loadavg()
        argv = child_ops("download", "--path", remote(data), "--workdir", str(work / "cached"), "--cache",
                         str(cache), *(["--file"] if data.kind == "gib" else []))
        result = run_child(argv, cleanup, env=azurite.child_env())
        info = result.json()
        if int(info["files"]) != data.files:
            raise RuntimeError(f"cache {'fill' if run == 0 else 'hit'} of {data.name}: {info}")
        if run == 0:
            check_tree(Path(info["host_path"]), digests, f"cache fill of {data.name}")
        kind = "fill" if run == 0 else "hit"
        results.add("cache", data, kind, figure(float(info["seconds"]), result, load))
    shutil.rmtree(cache, ignore_errors=True)


# -- tables ---------------------------------------------------------------------------------------------
def unit_of(data: ScaleSet) -> tuple[str, float]:
    """(per-unit label, units in the set): ms per file for small files, s per GiB for large ones."""
    return ("s/GiB", data.total / GiB) if data.kind == "gib" else ("ms/file", data.files / 1000)


def _med(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def table(section: str, sets: list[ScaleSet], results: Results) -> str:
    rows = results.figures.get(section, {})
    lines = ["| set | ours s | rclone s | ours per unit | rclone per unit | ours/rclone time | ours CPU s | "
             "rclone CPU s | ours RSS MB | rclone RSS MB | runs | load (1/5/15 min) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for data in sets:
        tools = rows.get(data.name)
        if not tools or not all(t in tools for t in TOOLS):
            continue
        unit, count = unit_of(data)
        ours, theirs = tools["ours"], tools["rclone"]
        o, r = _med([f.seconds for f in ours]), _med([f.seconds for f in theirs])
        lines.append(
            f"| {data.label()} | {o:.2f} | {r:.2f} | {o / count:.3g} {unit} | {r / count:.3g} {unit} | "
            f"{o / r:.2f}x | {_med([f.cpu for f in ours]):.2f} | {_med([f.cpu for f in theirs]):.2f} | "
            f"{max(f.rss for f in ours):.0f} | {max(f.rss for f in theirs):.0f} | {len(ours)} | "
            f"{'; '.join(f.load for f in ours + theirs)} |")
    return "\n".join(lines)


def mount_steps(sets: list[ScaleSet], results: Results) -> str:
    rows = results.figures.get("ro_mount", {})
    lines = ["| set | tool | ready s | list (walk + lstat) s | read all s | per unit (read) |",
             "|---|---|---:|---:|---:|---:|"]
    for data in sets:
        unit, count = unit_of(data)
        for tool, figs in rows.get(data.name, {}).items():
            med = {k: _med([f.extra[k] for f in figs]) for k in ("ready_s", "list_s", "read_s")}
            lines.append(f"| {data.label()} | {tool} | {med['ready_s']:.2f} | {med['list_s']:.2f} | "
                         f"{med['read_s']:.2f} | {med['read_s'] / count:.3g} {unit} |")
    return "\n".join(lines)


def cache_table(sets: list[ScaleSet], results: Results) -> str:
    rows = results.figures.get("cache", {})
    lines = ["| set | fill s | hit: input ready s (in-process) | hit whole process s | hit CPU s | "
             "hit RSS MB | hits | target | load |", "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for data in sets:
        figs = rows.get(data.name, {})
        if "hit" not in figs:
            continue
        hit = _med([f.seconds for f in figs["hit"]])
        lines.append(f"| {data.label()} | {figs['fill'][0].seconds:.2f} | {hit:.3f} | "
                     f"{_med([f.wall for f in figs['hit']]):.2f} | "
                     f"{_med([f.cpu for f in figs['hit']]):.2f} | "
                     f"{max(f.rss for f in figs['hit']):.0f} | {len(figs['hit'])} | <= 1 s: "
                     f"{'yes' if hit <= 1 else 'NO'} | {'; '.join(f.load for f in figs['hit'])} |")
    return "\n".join(lines)


def report(args: argparse.Namespace, machine: dict[str, str], sets: list[ScaleSet], results: Results,
           started: float) -> str:
    parts = [
        f"Command: `{args.command}` ({(time.perf_counter() - started) / 60:.0f} min so far). Our code: "
        f"{CODE.label}. Medians of the runs shown per row; load = /proc/loadavg when each run started.",
        "",
        f"Machine: {machine['date']}; nproc {machine['nproc']}; CPU {machine['cpu']}; memory (GiB) "
        f"{machine['memory']}; Python {machine['python']}; Azurite {machine['azurite']}; "
        f"{machine['rclone']}.",
        "",
        "s = in-process seconds (ours: the strategy call after imports; rclone: its own elapsed time from "
        "its JSON stats; ro_mount: ready + list + read, both from spawn). Per unit: ms per file "
        "(4 KiB files) or s per GiB. CPU and RSS: the whole child process (ours incl. interpreter start).",
    ]
    if getattr(args, "memory_note", ""):
        parts += ["", f"Clients (ours, rclone, and the processes reading their mounts) in one memory cgroup "
                      f"of {args.memory_note}; Azurite outside it (bench/memory_limit.py)."]
    for section, title in (("download", "download"), ("ro_mount", "ro_mount (ready + list + read all)"),
                           ("upload", "upload")):
        if section in results.figures:
            parts += ["", f"**{title}**", "", table(section, sets, results)]
            if section == "ro_mount":
                parts += ["", mount_steps(sets, results)]
    if "cache" in results.figures:
        parts += ["", "**download cache, warm hit** (a repeated job's input ready)", "",
                  cache_table(sets, results)]
    return "\n".join(parts)


# -- main -----------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", default="1000,10000,100000", help="flat folders of N x 4 KiB files")
    parser.add_argument("--gib", default="1,4,10", help="single files of N GiB")
    parser.add_argument("--depth", default="20", help="a chain of N nested folders, 50 files each")
    parser.add_argument("--sections", default="download,ro_mount,upload,cache")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--data", default="/tmp/scale-data")
    parser.add_argument("--azurite-dir", default="/tmp/scale-azurite")
    parser.add_argument("--port", type=int, default=10517)
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--write", action="store_true", help="record the tables in bench/RESULTS.md")
    parser.add_argument("--title", default="",
                        help="suffix of the RESULTS.md section title (default: the sections and sets run)")
    parser.add_argument("--clean", action="store_true", help="remove the data and Azurite's files at the end")
    parser.add_argument("--in-memory", action="store_true",
                        help="Azurite keeps nothing on disk (upload only: its PUT rate holds at 100k files)")
    add_tls_option(parser)
    parser.add_argument("--memory-limit", default="", help="run the clients in a memory cgroup of this "
                        "size, e.g. 3G (bench/memory_limit.py: this VM's memory past ~9 GiB of page cache)")
    args = parser.parse_args()
    args.command = "python bench/bench_scale.py " + " ".join(
        f"--{k} {getattr(args, k)}" for k in ("files", "gib", "depth", "sections", "runs")) + \
        (" --in-memory" if args.in_memory else "") + \
        (f" --memory-limit {args.memory_limit}" if args.memory_limit else "") + variant_flags(args) + \
        (" --write" if args.write else "")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    machine = machine_info()
    sets = parse_sets(args.files, args.gib, args.depth)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if args.in_memory and sections != ["upload"]:
        parser.error("--in-memory goes with --sections upload (Azurite restarts between sets: data lost)")
    local, base = Path(args.data), Path(args.azurite_dir)
    started = time.perf_counter()
    results = Results()
    with Cleanup() as cleanup, contextlib.ExitStack() as limits:
        if args.memory_limit:
            limit = parse_size(args.memory_limit)
            args.memory_note = limits.enter_context(client_memory_limit(limit, cleanup)).describe()
        work = base / "work"
        shutil.rmtree(work, ignore_errors=True)
        cleanup.push(lambda: shutil.rmtree(work, ignore_errors=True))
        log.info("measuring our code from the %s", use_code(args.code, work / "code"))
        if args.clean:
            cleanup.push(functools.partial(shutil.rmtree, base, True))
            cleanup.push(functools.partial(shutil.rmtree, local, True))  # LIFO: the local copy first
        azurite = Azurite(base / "data", cleanup, port=args.port, in_memory=args.in_memory, tls=args.tls)
        azurite.start()
        for data in sets:
            digests = ensure_local(local, data)
            if sections != ["upload"]:  # the other sections read what is seeded
                seed(azurite, local, data, cleanup)
                if data.kind == "gib":
                    drop_cached(local, data)  # keep Azurite's copy in memory, not ours (scale_data)
            azurite.restart()
            for section in sections:
                run_section(section, azurite, data, digests, local, work, args.runs, cleanup, results)
                text = report(args, machine, sets, results, started)
                if args.write:
                    suffix = args.title or what_ran(sections, sets)
                    title = f"Scale: files, GiB, depth ({CODE.label}){suffix}{variant_title(args)}"
                    write_section(title, text)
        azurite.stop()
    print_out(report(args, machine, sets, results, started))


def what_ran(sections: list[str], sets: list[ScaleSet]) -> str:
    """The title's default suffix: another selection of sets or sections gets a section of its own in
    RESULTS.md instead of replacing this one (``write_section`` replaces a section by its title)."""
    names = {"files": "{:,} files", "depth": "depth {}", "gib": "{} GiB"}
    return f" — {', '.join(sections)}: {', '.join(names[s.kind].format(s.count) for s in sets)}"


def run_section(section: str, azurite: Azurite, data: ScaleSet, digests: dict[str, str], local: Path,
                work: Path, runs: int, cleanup: Cleanup, results: Results) -> None:
    if section == "cache":
        if data.kind == "files":
            bench_cache(azurite, data, digests, work, max(runs, 2), cleanup, results)
        return
    if section == "upload" and data.kind == "gib":
        warm_cached(local, data)  # dropped after seeding, if the other sections ran
    for run in range(runs):
        if section == "download":
            bench_download(azurite, data, digests, work, run, cleanup, results)
        elif section == "ro_mount":
            bench_mount(azurite, data, digests, work, run, cleanup, results)
        elif section == "upload":
            bench_upload(azurite, data, local, work, run, cleanup, results)


if __name__ == "__main__":
    main()
