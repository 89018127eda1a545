"""``job validate`` of a job whose code folder is large: how often the check lists and stats it.

    python bench/bench_code_check.py [--runs 5] [--folders 200] [--files 20000] [--code HEAD|worktree]

Makes, in a fresh temp folder, a code folder of ``--files`` small files spread over ``--folders``
folders, with ``job.yml`` (``code: .``, ``compute: local-process``) at its top, and a workspace beside it.
Then, every command ``python -m runner job validate --file job.yml`` (``RUNNER_FORKSERVER=0``), for the
large code folder and for a code folder of one file (the floor: start, imports, planning):

* **wall**: the median of ``--runs`` runs (after one untimed run that creates the workspace);
* **calls**: ``os.scandir`` / ``os.lstat`` / ``os.stat`` / ``os.access`` calls made in the process,
  counted by wrappers installed before ``runner`` is imported (``os.stat(follow_symlinks=False)`` counts as
  an lstat: ``pathlib`` calls it so);
* **syscalls**: ``strace -f -c`` of one run: ``getdents64`` (a listing reads it until empty) and the
  ``stat`` family (``newfstatat``/``statx``/``lstat``/``stat``), when strace is installed.

Our side runs from a ``git archive`` of ``--code`` (default HEAD; ``worktree`` for the working tree).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CODE, median, use_code

JOB = ("command: ls\ncode: .\ncompute: local-process\n"
       "environment:\n  image: runner/busybox:latest\n")

COUNTING = """
import atexit, collections, json, os, runpy, sys
counts = collections.Counter()
def counted(name, real):
    def wrapper(*args, **kwargs):
        key = 'lstat' if name == 'stat' and kwargs.get('follow_symlinks') is False else name
        counts[key] += 1
        return real(*args, **kwargs)
    return wrapper
for name in ('scandir', 'lstat', 'stat', 'access'):
    setattr(os, name, counted(name, getattr(os, name)))
atexit.register(lambda: sys.stderr.write('COUNTS ' + json.dumps(
    {**counts, 'runner': os.path.dirname(sys.modules['runner'].__file__)}) + '\\n'))
sys.argv = ['runner', *sys.argv[1:]]
runpy.run_module('runner', run_name='__main__', alter_sys=True)
"""
STAT_SYSCALLS = ("newfstatat", "statx", "lstat", "stat", "fstatat64")


def make_code(root: Path, folders: int, files: int) -> Path:
    """``files`` small files spread over ``folders`` folders (one of them a package of two levels)."""
    root.mkdir(parents=True)
    per = max(files // max(folders, 1), 1)
    for index in range(folders):
        folder = root / f"pkg{index:03d}"
        folder.mkdir()
        for number in range(per):
            (folder / f"m{number:03d}.py").write_text(f"X = {number}\n")
    (root / "job.yml").write_text(JOB)
    return root


def _validate(python: list[str], job: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*python, "job", "validate", "--file", str(job)], env=env, text=True,
                            capture_output=True, check=False, cwd=job.parent)  # not this checkout's runner
    if result.returncode != 0:
        raise RuntimeError(f"job validate failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def wall(job: Path, env: dict[str, str], runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        _validate([sys.executable, "-m", "runner"], job, env)
        seconds.append(time.perf_counter() - start)
    return median(seconds)


def calls(job: Path, env: dict[str, str]) -> dict[str, int]:
    """The counted calls of one run (the run's ``runner`` is checked to be the measured one)."""
    result = _validate([sys.executable, "-c", COUNTING], job, env)
    line = next(line for line in result.stderr.splitlines() if line.startswith("COUNTS "))
    counted = json.loads(line.removeprefix("COUNTS "))
    if Path(counted.pop("runner")) != CODE.root / "runner":
        raise RuntimeError(f"the run imported another runner than {CODE.root}")
    return {name: int(count) for name, count in counted.items()}


def syscalls(job: Path, env: dict[str, str], work: Path) -> dict[str, int]:
    if shutil.which("strace") is None:
        return {}
    out = work / "strace.txt"
    subprocess.run(["strace", "-f", "-c", "-o", str(out), sys.executable, "-m", "runner", "job", "validate",
                    "--file", str(job)], env=env, capture_output=True, check=True, cwd=job.parent)
    found = {"getdents64": 0, "stat family": 0}
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] in (*STAT_SYSCALLS, "getdents64") and parts[3].isdigit():
            key = "getdents64" if parts[-1] == "getdents64" else "stat family"
            found[key] += int(parts[3])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--folders", type=int, default=200)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-code-check-", dir=os.environ.get("BENCH_WORKROOT")))
    try:
        label = use_code(args.code, work / "src", ("runner", "mounts", "bench", "bin"))
        big = make_code(work / "big", args.folders, args.files)
        small = make_code(work / "small", 1, 1)
        env = {**os.environ, "PYTHONPATH": str(CODE.root), "RUNNER_FORKSERVER": "0",
               "RUNNER_WORKSPACE": str(work / "ws")}
        print(f"{label}: a code folder of {args.files} files in {args.folders} folders; "
              f"median of {args.runs} `job validate` runs")
        for name, job in (("one file", small / "job.yml"), (f"{args.files} files", big / "job.yml")):
            _validate([sys.executable, "-m", "runner"], job, env)  # untimed: the workspace, the caches
            print(f"{name}: wall {wall(job, env, args.runs):.3f} s, calls {calls(job, env)}, "
                  f"syscalls {syscalls(job, env, work)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
