"""What one GiB costs Azurite by the size of the ranged GETs that fetch it.

    python bench/azurite_range_cost.py [--repeat 2] [--patterns 16M:1,16M:3,64M:2,256M:1]

A private Azurite (``bench/common.py``) holds one 1 GiB blob; each pattern reads the whole blob with
ranged GETs of one size (``SIZE:PARALLEL``; ``grow`` doubles from 16 MiB like rclone's chunks) through
the lean client (``mounts.stores.azure``), each body received 16 MiB at a time into a reused buffer (as
the readahead does). Printed per pattern: wall time, MB/s, Azurite's CPU seconds (utime + stime of its
process, from ``/proc``) and ours. Azurite is restarted before every pattern (it slows down with use).
"""

from __future__ import annotations

import argparse
import logging
import mmap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import CONTAINER, Cleanup, DataSet, bench_environment, median, process_cpu
from mounts.stores.azure import AzureBlobStore, _account_from_connection_string
from mounts.stores.base import RemoteFile

MiB = 1 << 20
SIZE = 1024 * MiB
BUFFER = 16 * MiB


def ranges(spec: str) -> list[tuple[int, int]]:
    if spec == "grow":
        out, start, length = [], 0, 16 * MiB
        while start < SIZE:
            out.append((start, min(start + length, SIZE)))
            start, length = start + length, length * 2
        return out
    step = int(spec[:-1]) * (MiB if spec.endswith("M") else 1024 * MiB)
    return [(start, min(start + step, SIZE)) for start in range(0, SIZE, step)]


_BUFFERS = threading.local()


def get(store: AzureBlobStore, item: RemoteFile, start: int, end: int) -> None:
    buffer = getattr(_BUFFERS, "view", None)
    if buffer is None:  # one per thread, reused (the readahead's segment pool: no page faults per GET)
        buffer = _BUFFERS.view = memoryview(mmap.mmap(-1, BUFFER))
    with store._connection() as conn:  # noqa: SLF001 - a measurement of the raw request
        response = store._send(conn, "GET", store._blob_path(item.path), {},  # noqa: SLF001
                               {"x-ms-range": f"bytes={start}-{end - 1}"})
        assert response.status == 206, response.status
        position = start
        while position < end:
            count = response.readinto(buffer[:min(BUFFER, end - position)])
            if not count:
                raise ConnectionError("closed early")
            position += count


def measure(store: AzureBlobStore, item: RemoteFile, spec: str, parallel: int, pid: int) -> dict[str, float]:
    parts = ranges(spec)
    cpu0, ours0, wall0 = sum(process_cpu(pid)), time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(lambda part: get(store, item, *part), parts))
    wall = time.perf_counter() - wall0
    return {"wall_s": wall, "mb_s": SIZE / wall / 1e6, "azurite_cpu_s": sum(process_cpu(pid)) - cpu0,
            "ours_cpu_s": time.process_time() - ours0, "requests": len(parts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--patterns", default="8M:3,16M:1,16M:3,32M:2,64M:1,64M:2,128M:2,256M:1,256M:2,"
                        "1G:1,grow:1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    common.QUICK[:] = [DataSet("large", 1, SIZE)]  # the one data set this needs
    with Cleanup() as cleanup, bench_environment(True, cleanup, "worktree") as (azurite, _work, _sets):
        account = _account_from_connection_string(azurite.connection_string)
        assert account is not None
        item = AzureBlobStore(account).stat(f"{CONTAINER}/large/f00000.bin")
        print(f"blob {item.size} bytes")
        for pattern in args.patterns.split(","):
            spec, parallel = pattern.split(":")
            rows = []
            for _ in range(args.repeat):
                azurite.restart()
                assert azurite.proc is not None
                store = AzureBlobStore(account)  # no connection to the stopped process
                rows.append(measure(store, item, spec, int(parallel), azurite.proc.pid))
            figures = {k: median([r[k] for r in rows]) for k in rows[0]}
            runs = ", ".join(f"{r['mb_s']:.0f}" for r in rows)
            print(f"{pattern:>8}: {figures['requests']:4.0f} requests  {figures['mb_s']:6.0f} MB/s  "
                  f"Azurite CPU {figures['azurite_cpu_s']:5.2f} s/GiB  ours {figures['ours_cpu_s']:5.2f} s  "
                  f"(runs: {runs} MB/s)", flush=True)


if __name__ == "__main__":
    main()
