"""Every transfer and mount benchmark in one invocation, on the same private Azurite data.

    python bench/run_all.py [--quick] [--runs 3] [--code REV] [--sections download,upload,ro_mount] [--load N]
                            [--write]

A fresh Azurite is started, the data sets are uploaded once, then download, upload and ro_mount are
measured (Azurite is restarted over the same data before each section: it slows down after heavy use).
With ``--write`` the tables go to bench/RESULTS.md ("Transfer: ..." and "ro_mount ...", one section
per measured commit).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_ro_mount, bench_transfer
from bench.common import Cleanup, Row, bench_environment, busy_load, machine_info, print_out, render_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data sets (a few minutes)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record the tables in bench/RESULTS.md")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    parser.add_argument("--sections", default="download,upload,ro_mount",
                        help="comma-separated subset of download,upload,ro_mount")
    parser.add_argument("--load", type=int, default=0,
                        help="busy loops (python -c 'while 1: pass', not pinned) beside the measurements")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    machine = machine_info()
    started = time.perf_counter()
    with Cleanup() as cleanup, bench_environment(args.quick, cleanup, args.code) as (azurite, work, sets), \
            busy_load(args.load, cleanup):
        transfer: list[Row] = []
        mount: list[Row] = []
        if "download" in sections:
            transfer += bench_transfer.bench_downloads(azurite, work, sets, args.runs, cleanup)
        if "upload" in sections:
            transfer += bench_transfer.bench_uploads(azurite, work, sets, args.runs, cleanup)
        if "ro_mount" in sections:
            mount = bench_ro_mount.bench_mounts(azurite, work, sets, args.runs, cleanup)
    elapsed = time.perf_counter() - started
    tables = [render_table(rows) for rows in (transfer, mount) if rows]
    print_out("\n\n".join(tables))
    if args.write:
        command = "python bench/run_all.py" + (" --quick" if args.quick else "") + \
            (f" --runs {args.runs}" if args.runs != 3 else "") + \
            (f" --sections {args.sections}" if sections != {"download", "upload", "ro_mount"} else "") + \
            (f" --load {args.load}" if args.load else "")
        transfer_parts = sections & {"download", "upload"}
        args.only = transfer_parts.pop() if len(transfer_parts) == 1 else None
        if transfer:
            bench_transfer.record(args, machine, render_table(transfer), elapsed, command)
        if mount:
            bench_ro_mount.record(args, machine, render_table(mount), elapsed, command)


if __name__ == "__main__":
    main()
