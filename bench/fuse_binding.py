"""Which FUSE binding: mfusepy (libfuse3, and libfuse2 for comparison) vs fusepy (libfuse2).

    python bench/fuse_binding.py [--size-gib 2] [--small 2000] [--runs 3] [--write]

The same read benchmark through each binding over the same filesystem: ``mounts.fuse.ro``'s
``FsspecReadOnly`` (with ``mounts.fuse.readahead``) over a synthetic fsspec filesystem whose ranged reads
cost one ``memcpy`` (no storage, so the binding and the Python callbacks are what is measured).
Each binding runs in its own child process (a process can load only one libfuse); the reads are done
by ``dd`` / a reader process from outside, like a container would. Reported per binding: mount ready
time, time to first byte, sequential MB/s (``dd bs=1M``), read callbacks and mean request size, small
files per second (open + read + close of 64 KiB files). MB = 10^6 bytes.

Like is compared with like: every binding and library runs both single-threaded and multithreaded
(fusepy too), so each comparison can hold the threading fixed; the table pairs them. ``--runs`` rounds,
the order of the variants rotating from round to round, medians reported. After every variant's timed
reads, every file is read again through the mount (untimed) and its SHA-256 compared with the content
the synthetic store serves (a seeded pattern, the same in every process). fusepy comes from the
``bench`` extra (``pip install -e '.[bench]'``). ``--write`` records the table in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MiB = 1 << 20
PATTERN_BYTES = 16 * MiB

SEED = 20261205  # the synthetic content: the same bytes in the parent (to check) and every child
SMALL_SIZE = 64 * 1024

# (label, binding, FUSE_LIBRARY_NAME, single-threaded loop)
VARIANTS = [
    ("mfusepy + libfuse3, single-threaded", "mfusepy", "fuse3", True),
    ("mfusepy + libfuse3, multithreaded", "mfusepy", "fuse3", False),
    ("mfusepy + libfuse2, single-threaded", "mfusepy", "fuse", True),
    ("mfusepy + libfuse2, multithreaded", "mfusepy", "fuse", False),
    ("fusepy + libfuse2, single-threaded", "fusepy", "fuse", True),
    ("fusepy + libfuse2, multithreaded", "fusepy", "fuse", False),
]
# like-for-like pairs the table compares: (what differs, first variant, second variant)
PAIRS = [
    ("binding (libfuse2, single-threaded)", VARIANTS[2][0], VARIANTS[4][0]),
    ("binding (libfuse2, multithreaded)", VARIANTS[3][0], VARIANTS[5][0]),
    ("libfuse3 vs libfuse2 (mfusepy, multithreaded)", VARIANTS[1][0], VARIANTS[3][0]),
    ("libfuse3 vs libfuse2 (mfusepy, single-threaded)", VARIANTS[0][0], VARIANTS[2][0]),
    ("what the runner uses vs fusepy, both multithreaded", VARIANTS[1][0], VARIANTS[5][0]),
]


def pattern() -> bytes:
    return random.Random(SEED).randbytes(PATTERN_BYTES)


def content(pattern_bytes: bytes, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of a file made of the repeated pattern."""
    doubled = pattern_bytes + pattern_bytes
    out = bytearray()
    while start < end:
        offset = start % PATTERN_BYTES
        step = min(end - start, PATTERN_BYTES)
        out += doubled[offset:offset + step]
        start += step
    return bytes(out)


def expected_digests(large_size: int, small_count: int) -> dict[str, str]:
    """The SHA-256 of every file the synthetic store serves (``big.bin``, ``small/NNNNN.bin``)."""
    data = pattern()
    big = hashlib.sha256()
    for start in range(0, large_size, PATTERN_BYTES):
        big.update(content(data, start, min(start + PATTERN_BYTES, large_size)))
    small = hashlib.sha256(content(data, 0, SMALL_SIZE)).hexdigest()
    return {"big.bin": big.hexdigest(), **{f"small/{i:05d}.bin": small for i in range(small_count)}}


def synthetic_fs(large_size: int, small_count: int) -> Any:
    """An fsspec filesystem with ``big.bin`` and ``small/NNNN.bin`` whose reads are a memcpy."""
    from fsspec import AbstractFileSystem

    pattern_bytes = pattern()

    class SyntheticFS(AbstractFileSystem):  # type: ignore[misc]
        protocol = "synthetic"

        def _entries(self) -> dict[str, dict[str, Any]]:
            entries = {"/data/big.bin": {"name": "/data/big.bin", "size": large_size, "type": "file"},
                       "/data/small": {"name": "/data/small", "size": 0, "type": "directory"}}
            for index in range(small_count):
                name = f"/data/small/{index:05d}.bin"
                entries[name] = {"name": name, "size": SMALL_SIZE, "type": "file"}
            return entries

        def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
            path = "/" + path.strip("/")
            found = [info for name, info in self._entries().items() if name.rsplit("/", 1)[0] == path]
            return found if detail else [info["name"] for info in found]

        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            path = "/" + path.strip("/")
            if path == "/data":
                return {"name": path, "size": 0, "type": "directory"}
            return self._entries()[path]

        def cat_file(self, path: str, start: int | None = None, end: int | None = None,
                     **kwargs: Any) -> bytes:
            size = self.info(path)["size"]
            return content(pattern_bytes, start or 0, min(end if end is not None else size, size))

    return SyntheticFS()


class CountingReads:
    """Wraps an Operations object and counts read callbacks and bytes (for the mean request size)."""

    def __init__(self, inner_read: Any) -> None:
        self.inner_read, self.reads, self.bytes = inner_read, 0, 0

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        self.reads += 1
        data: bytes = self.inner_read(path, size, offset, fh)
        self.bytes += len(data)
        return data


def child(binding: str, single_threaded: bool, mountpoint: str, size: int, small: int) -> None:
    """Mount, print the ready time, print the read counters for each line on stdin, serve until stdin
    closes."""
    started = time.perf_counter()
    import threading

    from mounts.fuse.lifecycle import _tune_readahead, is_mounted, unmount
    from mounts.fuse.readahead import Prefetcher, fsspec_range_fetch
    from mounts.fuse.ro import FsspecReadOnly

    fs = synthetic_fs(size, small)
    operations = FsspecReadOnly(fs, "/data", Prefetcher(fsspec_range_fetch(fs)))
    counter = CountingReads(operations.read)
    operations.read = counter.read  # type: ignore[method-assign]
    kwargs: dict[str, Any] = {"foreground": True, "ro": True, "nothreads": single_threaded, "fsname": "bench"}
    if binding == "mfusepy" and os.environ.get("FUSE_LIBRARY_NAME") == "fuse3" and not single_threaded:
        kwargs["max_idle_threads"] = 8  # as mounts.fuse.lifecycle does
    if binding == "fusepy":
        import fuse

        class Adapter(fuse.Operations):  # type: ignore[misc]
            use_ns = True

            def __call__(self, op: str, *args: Any) -> Any:
                method = getattr(operations, op, None)
                if method is None:
                    return getattr(super(), op)(*args)
                return method(*args)

        target: Any = lambda: fuse.FUSE(Adapter(), mountpoint, **kwargs)  # noqa: E731
    else:
        import mfusepy

        target = lambda: mfusepy.FUSE(operations, mountpoint, **kwargs)  # noqa: E731
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while not is_mounted(Path(mountpoint)):
        time.sleep(0.001)
    ready = time.perf_counter() - started
    _tune_readahead(os.stat(mountpoint).st_dev, 16384)
    import mfusepy as loaded

    version = f"{loaded.fuse_version_major}.{loaded.fuse_version_minor}" if binding == "mfusepy" else "2.x"
    print(json.dumps({"ready_s": ready, "libfuse": version}), flush=True)
    for _line in sys.stdin:  # each line asks for the counters so far; EOF: unmount
        print(json.dumps({"reads": counter.reads, "bytes": counter.bytes}), flush=True)
    unmount(Path(mountpoint))
    thread.join(10)


def first_byte(path: Path) -> float:
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as stream:
        stream.read(1)
    return time.perf_counter() - started


def small_files_rate(folder: Path) -> float:
    names = sorted(os.listdir(folder))
    started = time.perf_counter()
    for name in names:
        with open(folder / name, "rb", buffering=0) as stream:
            while stream.read(MiB):
                pass
    return len(names) / (time.perf_counter() - started)


def check_bytes(mountpoint: Path, expected: dict[str, str], label: str) -> None:
    """Every file read again through the mount (untimed) against the synthetic store's content."""
    found = {}
    for rel in expected:
        digest = hashlib.sha256()
        with open(mountpoint / rel, "rb", buffering=0) as stream:
            while block := stream.read(8 * MiB):
                digest.update(block)
        found[rel] = digest.hexdigest()
    wrong = sorted(rel for rel in expected if found[rel] != expected[rel])
    if wrong:
        raise RuntimeError(f"{label}: {len(wrong)} files read through the mount differ, e.g. {wrong[:3]}")


def measure(variant: tuple[str, str, str, bool], size: int, small: int,
            expected: dict[str, str]) -> dict[str, Any]:
    from mounts.fuse.lifecycle import cleanup_stale_mounts

    label, binding, library, single = variant
    mountpoint = Path(tempfile.mkdtemp(prefix="fuse-binding-"))
    env = {**os.environ, "FUSE_LIBRARY_NAME": library, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, __file__, "--child", binding, str(int(single)), str(mountpoint),
                             str(size), str(small)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        header = json.loads(proc.stdout.readline())
        result: dict[str, Any] = {"variant": label, **header}
        result["first_byte_ms"] = first_byte(mountpoint / "big.bin") * 1000
        started = time.perf_counter()
        subprocess.run(["dd", f"if={mountpoint / 'big.bin'}", "of=/dev/null", "bs=1M"], check=True,
                       capture_output=True)
        result["seq_MBps"] = size / (time.perf_counter() - started) / 1e6
        result["small_files_per_s"] = small_files_rate(mountpoint / "small")
        proc.stdin.write("counters\n")
        proc.stdin.flush()
        counters = json.loads(proc.stdout.readline())
        result["read_callbacks"] = counters["reads"]
        result["mean_request_KiB"] = counters["bytes"] / max(counters["reads"], 1) / 1024
        check_bytes(mountpoint, expected, label)
    finally:
        if not proc.stdin.closed:
            proc.stdin.close()
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            cleanup_stale_mounts(mountpoint)  # a child that died cannot unmount
            mountpoint.rmdir()
    return result


FIGURES = ("ready_s", "first_byte_ms", "seq_MBps", "read_callbacks", "mean_request_KiB", "small_files_per_s")


def medians(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """variant -> the median of each figure over its runs (and how many runs)."""
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_variant.setdefault(result["variant"], []).append(result)
    return {variant: {"libfuse": runs[0]["libfuse"], "runs": len(runs),
                      **{k: statistics.median(r[k] for r in runs) for k in FIGURES}}
            for variant, runs in by_variant.items()}


def tables(rows: dict[str, dict[str, Any]]) -> str:
    lines = ["| binding | libfuse | runs | ready (ms) | first byte (ms) | sequential MB/s | read callbacks "
             "| mean request KiB | small files/s |", "|" + "---|" * 9]
    for label, *_ in VARIANTS:
        row = rows[label]
        lines.append(f"| {label} | {row['libfuse']} | {row['runs']} | {row['ready_s'] * 1000:.0f} | "
                     f"{row['first_byte_ms']:.1f} | {row['seq_MBps']:.0f} | {row['read_callbacks']:.0f} | "
                     f"{row['mean_request_KiB']:.0f} | {row['small_files_per_s']:.0f} |")
    lines += ["", "Like for like (medians; ratio = first / second):", "",
              "| comparison | first | second | sequential | small files |", "|---|---|---|---:|---:|"]
    for what, first, second in PAIRS:
        seq = rows[first]["seq_MBps"] / rows[second]["seq_MBps"]
        small = rows[first]["small_files_per_s"] / rows[second]["small_files_per_s"]
        lines.append(f"| {what} | {first} | {second} | {seq:.2f}x | {small:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="rounds over every variant (medians)")
    parser.add_argument("--write", action="store_true", help="record the tables in bench/RESULTS.md")
    parser.add_argument("--child", nargs=5, metavar=("BINDING", "SINGLE", "MOUNTPOINT", "SIZE", "SMALL"))
    args = parser.parse_args()
    if args.child:
        binding, single, mountpoint, size, small = args.child
        child(binding, single == "1", mountpoint, int(size), int(small))
        return
    sys.path.insert(0, str(REPO))
    from bench.common import load_average, machine_info, rotated, write_section

    machine = machine_info()
    started = time.perf_counter()
    size = int(args.size_gib * (1 << 30))
    expected = expected_digests(size, args.small)
    results = []
    for run in range(args.runs):
        for index in rotated([str(i) for i in range(len(VARIANTS))], run):  # who goes first rotates
            results.append(measure(VARIANTS[int(index)], size, args.small, expected))
            print(f"run {run + 1}: {results[-1]}", file=sys.stderr, flush=True)
    table = tables(medians(results))
    print(table)
    if args.write:
        command = (f"python bench/fuse_binding.py --size-gib {args.size_gib:g} --small {args.small} "
                   f"--runs {args.runs}")
        write_section(f"FUSE binding ({command})", "\n".join([
            f"Command: `{command} --write` ({(time.perf_counter() - started) / 60:.1f} min); medians of "
            f"{args.runs} rounds, the variants' order rotating; every file checked by SHA-256 after each "
            "variant's reads.", "",
            f"Machine: {machine['date']}; nproc {machine['nproc']}; kernel {machine['kernel']}; Python "
            f"{machine['python']}; load average at start {machine['load']}, at end {load_average()}.", "",
            table]))


if __name__ == "__main__":
    main()
