"""Who spends the CPU while ``dd`` reads a 1 GiB blob through a mount: ours against ``rclone mount``.

    python bench/mount_cpu_split.py [--rounds 3] [--tools ours,rclone] [--perf]
    python bench/mount_cpu_split.py --tools ours@16384,ours@4096,rclone   (ours with that read_ahead_kb)

A private Azurite (``bench/common.py``) holds one 1 GiB blob. After one untimed read, each round
mounts it afresh with each tool (our ``RoMountStrategy`` in a child, or ``rclone mount`` with the
benchmark's flags; which tool goes first rotates per round), reads it with ``dd bs=1M`` and prints
MiB/s and the user and system CPU seconds that the mount process and Azurite spent during the read
(from ``/proc/<pid>/stat``). On this 2-core machine the read is bounded by the sum of those and dd's
own copies, so the split says where a faster read has to come from.
With ``--perf``, the last round of each tool also records ``perf record -g`` of its mount process
(``perf report -i <file> --no-children --sort sym``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ro_mount import RCLONE_MOUNT_FLAGS
from bench.common import (
    CONTAINER,
    Azurite,
    Child,
    Cleanup,
    MiB,
    child_ops,
    force_unmount,
    process_cpu,
    rclone_remote,
    run_child,
    write_random_file,
)


def start_mount(tool: str, azurite: Azurite, work: Path, cleanup: Cleanup) -> tuple[Child, Path]:
    if tool.startswith("ours"):
        read_ahead = ["--read-ahead-kb", tool.split("@", 1)[1]] if "@" in tool else []
        mountpoint = work / "ours" / "mnt"
        cleanup.push(lambda: force_unmount(mountpoint))
        child = Child(child_ops("mount", "--path", CONTAINER, "--workdir", str(work / "ours"), *read_ahead),
                      cleanup, env=azurite.child_env(), stdin=subprocess.PIPE)
    else:
        mountpoint = work / "rclone"
        mountpoint.mkdir(exist_ok=True)
        cleanup.push(lambda: force_unmount(mountpoint))
        child = Child(["rclone", "mount", rclone_remote(CONTAINER), str(mountpoint), *RCLONE_MOUNT_FLAGS],
                      cleanup, env=azurite.rclone_env())
    deadline = time.monotonic() + 60
    while not (mountpoint.is_dir() and mountpoint.is_mount() and os.listdir(mountpoint)):
        if time.monotonic() > deadline or child.proc.poll() is not None:
            raise RuntimeError(f"{tool}: the mount did not become ready")
        time.sleep(0.02)
    return child, mountpoint


def stop_mount(tool: str, child: Child, mountpoint: Path) -> None:
    if tool.startswith("ours") and child.proc.stdin is not None:
        child.proc.stdin.close()  # the child leaves its ``with`` block and unmounts
    else:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False, capture_output=True)
    child.finish(timeout=60)


def one_read(tool: str, azurite: Azurite, work: Path, cleanup: Cleanup, perf_to: Path | None) -> str:
    child, mountpoint = start_mount(tool, azurite, work, cleanup)
    try:
        assert azurite.proc is not None
        mount0, azurite0 = process_cpu(child.proc.pid), process_cpu(azurite.proc.pid)
        perf = None
        if perf_to is not None:
            perf = subprocess.Popen(["perf", "record", "-g", "-o", str(perf_to), "-p", str(child.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        started = time.perf_counter()
        subprocess.run(["dd", f"if={mountpoint / 'large' / 'f00000.bin'}", "of=/dev/null", "bs=1M"],
                       check=True, capture_output=True)
        seconds = time.perf_counter() - started
        if perf is not None:
            perf.send_signal(2)
            perf.wait()
        mount1, azurite1 = process_cpu(child.proc.pid), process_cpu(azurite.proc.pid)
    finally:
        stop_mount(tool, child, mountpoint)
    return (f"{tool:10s} {1024 / seconds:5.0f} MiB/s   mount user {mount1[0] - mount0[0]:.2f} s "
            f"sys {mount1[1] - mount0[1]:.2f} s   Azurite user {azurite1[0] - azurite0[0]:.2f} s "
            f"sys {azurite1[1] - azurite0[1]:.2f} s   load {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", default="ours,rclone")
    parser.add_argument("--perf", action="store_true", help="perf record the last round's mount processes")
    args = parser.parse_args()
    with Cleanup() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="runner-cpu-split-"))
        cleanup.push(lambda: subprocess.run(["rm", "-rf", str(work)], check=False))
        blob = work / "data" / "large" / "f00000.bin"
        write_random_file(blob, 1024 * MiB)
        azurite = Azurite(work / "azurite", cleanup)
        azurite.start()
        run_child(["rclone", "copy", str(work / "data"), rclone_remote(CONTAINER), "--azureblob-chunk-size",
                   "8M"], cleanup, env=azurite.rclone_env())
        blob.unlink()
        # one untimed read: a fresh Azurite's first reads of a blob are slower (as in bench_ro_mount)
        subprocess.run(["rclone", "cat", rclone_remote(f"{CONTAINER}/large/f00000.bin")], check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, **azurite.rclone_env()})
        for round_ in range(args.rounds):
            tools = args.tools.split(",")
            for tool in tools[round_ % len(tools):] + tools[:round_ % len(tools)]:
                last = args.perf and round_ == args.rounds - 1
                perf_to = work.parent / f"perf-{tool}.data" if last else None
                print(f"round {round_}  {one_read(tool, azurite, work, cleanup, perf_to)}", flush=True)


if __name__ == "__main__":
    main()
