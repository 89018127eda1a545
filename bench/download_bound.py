"""Who sets the speed of a download, the client or Azurite? (issue 21, target 4)

    python bench/download_bound.py [--rounds 6] [--code HEAD] [--set large|small|medium]

A private Azurite with ``bench_transfer.py``'s data sets (``--set``: the 1 GiB file by default, 2,000 x
64 KiB or 20 x 50 MiB), one untimed run of each tool on it, then
``--rounds`` rounds of ours (``DownloadStrategy``) and ``rclone copy`` (``bench_transfer.download_once``:
the same flags, every download's bytes checked, untimed), the order alternating. Per run: in-process
seconds, the client's CPU, and the CPU that Azurite used meanwhile. Azurite's CPU close to the run's
seconds means its one JavaScript thread was busy the whole time: no client can go faster.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_transfer import download_once
from bench.common import Azurite, Cleanup, DataSet, Digests, bench_environment, median, process_cpu


def azurite_cpu(azurite: Azurite) -> float:
    """User + system CPU seconds of Azurite's process so far."""
    assert azurite.proc is not None, "Azurite is not running"
    return sum(process_cpu(azurite.proc.pid))


def one_run(tool: str, azurite: Azurite, data: DataSet, dest: Path, cleanup: Cleanup,
            digests: Digests, label: str) -> tuple[float, float, float]:
    """(seconds, client CPU, Azurite CPU) of one download (``bench_transfer.download_once``)."""
    before = azurite_cpu(azurite)
    seconds, result = download_once(tool, azurite, data, dest, cleanup, digests, label)
    spent = azurite_cpu(azurite) - before
    cpu = result.cpu_s if tool == "rclone" else float(result.json()["cpu"])
    return seconds, cpu, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--set", default="large", choices=("large", "small", "medium"),
                        help="which of bench_transfer's data sets: 1 GiB, 2,000 x 64 KiB, 20 x 50 MiB")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runs: dict[str, list[tuple[float, float, float]]] = {"ours": [], "rclone": []}
    with Cleanup() as cleanup, bench_environment(False, cleanup, args.code) as (azurite, work, sets):
        data = next(each for each in sets if each.name == args.set)
        dest, digests = work / "download", Digests(work / "data")
        azurite.restart()
        for tool in runs:  # untimed: Azurite's first reads after its restart are slow
            one_run(tool, azurite, data, dest, cleanup, digests, "warm-up")
        for number in range(args.rounds):
            for tool in (("ours", "rclone") if number % 2 == 0 else ("rclone", "ours")):
                seconds, cpu, server = one_run(tool, azurite, data, dest, cleanup, digests,
                                               f"round {number + 1}")
                runs[tool].append((seconds, cpu, server))
                print(f"round {number + 1} {tool:6s} {seconds:5.2f} s  client CPU {cpu:.2f} s  "
                      f"Azurite CPU {server:.2f} s ({server / seconds:.0%} of the run)", flush=True)
    for tool, samples in runs.items():
        print(f"{tool:6s} median {median([s for s, _, _ in samples]):.2f} s, client CPU "
              f"{median([c for _, c, _ in samples]):.2f} s, Azurite busy "
              f"{median([a / s for s, _, a in samples]):.0%} of each run")
    ours, theirs = (median([s for s, _, _ in runs[tool]]) for tool in ("ours", "rclone"))
    print(f"ours vs rclone (speed): {theirs / ours:.2f}x")


if __name__ == "__main__":
    main()
