"""Finalizing an ``upload`` (or local ``rw_mount``) output into a local datastore: 20,000 small files
renamed into place (``UploadStrategy.finalize``), and the walk that clears a ``direct`` output's
set-ID bits (``drop_set_id_in``) over the same 20,000 files. Medians of ``--runs`` runs, each on a fresh
staging folder (made untimed), on one filesystem (renames, as a job's folder and a datastore on one disk).

    python bench/bench_finalize_local.py [--code REV|worktree] [--files 20000] [--runs 7] [--set-id 200]

``--code`` (default ``worktree``): whose ``mounts/`` is measured (``git archive`` of that revision into
the temp folder, as the other benchmarks do). ``--set-id N``: that many of the files are made 4755
(each one more ``chmod``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _stage(folder: Path, files: int, set_id: int) -> None:
    data = b"x" * 512
    for index in range(files):
        sub = folder / f"d{index % 100:03d}"
        if index < 100:
            sub.mkdir(parents=True)
        path = sub / f"f{index:06d}.bin"
        path.write_bytes(data)
        if index < set_id:
            os.chmod(path, 0o4755)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default="worktree")
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--set-id", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-finalize-") as tmp:
        root = Path(tmp)
        code = REPO
        if args.code != "worktree":
            code = root / "code"
            code.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.code, "mounts"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        sys.path.insert(0, str(code))
        base = importlib.import_module("mounts.base")
        upload = importlib.import_module("mounts.upload")
        nofollow = importlib.import_module("mounts.transfer.nofollow")
        local_fs = importlib.import_module("fsspec.implementations.local").LocalFileSystem()
        moves: list[float] = []
        walks: list[float] = []
        for run in range(args.runs):
            staging, store = root / f"staging{run}", root / "datastore"
            _stage(staging, args.files, args.set_id)
            dest = store / f"out{run}"
            target = base.Target(fs=local_fs, path=str(dest), url=f"file://{dest}", local_path=dest,
                                 local_root=store)
            begun = time.perf_counter()
            upload.UploadStrategy(quiet=True).finalize(target, staging)
            moves.append(time.perf_counter() - begun)
            if hasattr(nofollow, "drop_set_id_in"):
                begun = time.perf_counter()
                nofollow.drop_set_id_in(target)
                walks.append(time.perf_counter() - begun)
        print(f"code {args.code}: {args.files} files ({args.set_id} set-user-ID), {args.runs} runs")
        print(f"  finalize (rename into place): median {statistics.median(moves):.3f} s "
              f"(min {min(moves):.3f}, max {max(moves):.3f})")
        if walks:
            print(f"  direct-output walk (drop_set_id_in): median {statistics.median(walks):.3f} s "
                  f"(min {min(walks):.3f}, max {max(walks):.3f})")


if __name__ == "__main__":
    main()
