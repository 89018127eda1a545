"""Which FUSE binding: mfusepy (libfuse3, and libfuse2 for comparison) vs fusepy (libfuse2).

    python bench/fuse_binding.py [--size-gib 2] [--small 2000]

The same read benchmark through each binding over the same filesystem: ``mounts.fuse.ro``'s
``FsspecReadOnly`` (with ``mounts.fuse.readahead``) over a synthetic fsspec filesystem whose ranged reads
cost one ``memcpy`` (no storage, so the binding and the Python callbacks are what is measured).
Each binding runs in its own child process (a process can load only one libfuse); the reads are done
by ``dd`` / a reader process from outside, like a container would. Reported per binding: mount ready
time, time to first byte, sequential MB/s (``dd bs=1M``), read callbacks and mean request size, small
files per second (open + read + close of 64 KiB files). MB = 10^6 bytes. Run once, figures printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MiB = 1 << 20
PATTERN_BYTES = 16 * MiB

# (label, binding, FUSE_LIBRARY_NAME, single-threaded loop)
VARIANTS = [
    ("mfusepy + libfuse3, single-threaded", "mfusepy", "fuse3", True),
    ("mfusepy + libfuse3, multithreaded", "mfusepy", "fuse3", False),
    ("mfusepy + libfuse2, single-threaded", "mfusepy", "fuse", True),
    ("fusepy + libfuse2, single-threaded", "fusepy", "fuse", True),
]


def synthetic_fs(large_size: int, small_count: int) -> Any:
    """An fsspec filesystem with ``big.bin`` and ``small/NNNN.bin`` whose reads are a memcpy."""
    from fsspec import AbstractFileSystem

    pattern = os.urandom(PATTERN_BYTES)
    doubled = pattern + pattern

    class SyntheticFS(AbstractFileSystem):  # type: ignore[misc]
        protocol = "synthetic"

        def _entries(self) -> dict[str, dict[str, Any]]:
            entries = {"/data/big.bin": {"name": "/data/big.bin", "size": large_size, "type": "file"},
                       "/data/small": {"name": "/data/small", "size": 0, "type": "directory"}}
            for index in range(small_count):
                name = f"/data/small/{index:05d}.bin"
                entries[name] = {"name": name, "size": 64 * 1024, "type": "file"}
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
            start = start or 0
            end = end if end is not None else self.info(path)["size"]
            out = bytearray()
            while start < end:  # slices of a repeated random pattern
                offset = start % PATTERN_BYTES
                step = min(end - start, PATTERN_BYTES)
                out += doubled[offset:offset + step]
                start += step
            return bytes(out)

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
    """Mount, print READY and the ready time, serve until stdin closes, then print read counters."""
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
    sys.stdin.read()
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


def measure(variant: tuple[str, str, str, bool], size: int, small: int) -> dict[str, Any]:
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
        proc.stdin.close()
        counters = json.loads(proc.stdout.readline())
        result["read_callbacks"] = counters["reads"]
        result["mean_request_KiB"] = counters["bytes"] / max(counters["reads"], 1) / 1024
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--child", nargs=5, metavar=("BINDING", "SINGLE", "MOUNTPOINT", "SIZE", "SMALL"))
    args = parser.parse_args()
    if args.child:
        binding, single, mountpoint, size, small = args.child
        child(binding, single == "1", mountpoint, int(size), int(small))
        return
    size = int(args.size_gib * (1 << 30))
    rows = [measure(variant, size, args.small) for variant in VARIANTS]
    header = ("| binding | libfuse | ready (ms) | first byte (ms) | sequential MB/s | read callbacks "
              "| mean request KiB | small files/s |")
    print(header)
    print("|" + "---|" * 8)
    for row in rows:
        print(f"| {row['variant']} | {row['libfuse']} | {row['ready_s'] * 1000:.0f} | "
              f"{row['first_byte_ms']:.1f} | {row['seq_MBps']:.0f} | {row['read_callbacks']} | "
              f"{row['mean_request_KiB']:.0f} | {row['small_files_per_s']:.0f} |")


if __name__ == "__main__":
    main()
