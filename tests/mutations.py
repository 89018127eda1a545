"""The mutation check: break one behaviour the tests guard, in a scratch copy of the repository, and see
that the tests go red. Each mutation is one exact text replacement in one file; the relevant tests run
against the copy (``PYTHONPATH`` points at it, so every ``python -m runner`` the tests start imports the
mutated code; the fork server is off, so none outlives the run). The working tree is never touched.

    python3 tests/mutations.py [--list] [NAME ...]      (default: every mutation)

Exit status 0 when every mutation turned at least one test red (and the copy's tests were green before
the mutation, checked with ``--baseline``), 1 when a mutation survived. The names of the failing tests
are printed per mutation. See tests/MUTATIONS.md for the last run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str
    path: str  # file to change, relative to the repository
    old: str  # exact text, present once
    new: str
    tests: tuple[str, ...]  # pytest arguments: the tests that should catch it
    every: bool = False  # replace every occurrence (at least one) instead of exactly one


MUTATIONS = [
    Mutation("matrix-cell",
             "flip one cell of the supported-modes matrix: mlflow_model folder inputs also allow direct",
             "runner/modes.py",
             "(AssetType.MLFLOW_MODEL, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT}),",
             "(AssetType.MLFLOW_MODEL, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),",
             ("tests/unit/test_modes.py",)),
    Mutation("matrix-cell-other-type",
             "flip a cell of a row the seed does not list: uri_file inputs no longer allow direct",
             "runner/modes.py",
             "(AssetType.URI_FILE, _F, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),",
             "(AssetType.URI_FILE, _F, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT}),",
             ("tests/unit/test_modes.py",)),
    Mutation("download-writable-flag",
             "download inputs handed out writable (every read_only flag the download strategy sets)",
             "mounts/download.py", "read_only=True", "read_only=False",
             ("tests/integration/jobs/test_jobs_readonly_inputs.py", "tests/contract/test_strategies.py",
              "-k", "download and (cannot_write or cached_download or writes_into)"), every=True),
    Mutation("download-writable-bind",
             "every input bound read-write into the container (the executor's bind)",
             "runner/backends/container_args.py",
             'type="bind", read_only=m.read_only)',
             'type="bind", read_only=False)',
             ("tests/integration/jobs/test_jobs_readonly_inputs.py", "-k", "download")),
    Mutation("cache-change-detection",
             "the download cache no longer notices that an entry's files changed (any entry is valid)",
             "mounts/cache.py",
             "if entry.fingerprint == _tree_stats(entry.data)[2]:",
             "if True:  # mutated: no change detection",
             ("tests/unit/mounts/test_cache.py", "tests/integration/jobs/test_jobs_cache.py")),
]


def scratch_copy(into: Path) -> Path:
    """The repository's tracked files as they are in the working tree (edits included)."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True)
    root = into / REPO.name
    for rel in listed.stdout.decode().split("\0"):
        if not rel or not (REPO / rel).exists():
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target, follow_symlinks=False)
    return root


def apply(root: Path, mutation: Mutation) -> None:
    path = root / mutation.path
    text = path.read_text()
    found = text.count(mutation.old)
    if found == 0 or (found != 1 and not mutation.every):
        raise SystemExit(f"{mutation.name}: the text to change is in {mutation.path} {found} times, not "
                         f"{'at least' if mutation.every else 'exactly'} once (the code moved: update "
                         "tests/mutations.py)")
    path.write_text(text.replace(mutation.old, mutation.new))


def run_tests(root: Path, args: tuple[str, ...]) -> tuple[int, list[str]]:
    """Run pytest in the copy; (exit status, the ids of failed or erroring tests)."""
    shared = REPO.parent / "shared"  # the copy does not sit beside shared/: point at it
    env = {**os.environ, "PYTHONPATH": str(root), "CI": "true", "RUNNER_FORKSERVER": "0",
           "RUNNER_EXAMPLES_DIR": os.environ.get("RUNNER_EXAMPLES_DIR", str(shared / "azureml-examples")),
           "RUNNER_SEEDS_DIR": os.environ.get("RUNNER_SEEDS_DIR", str(shared / "seeds"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                           "--no-header", *args], cwd=root, env=env, capture_output=True, text=True)
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, flags=re.M)
    return done.returncode, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--baseline", action="store_true",
                        help="first run each mutation's tests unmutated (they must pass)")
    args = parser.parse_args()
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name}: {m.what} ({m.path}); tests: {' '.join(m.tests)}")
        return 0
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    survived = []
    for mutation in chosen:
        with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
            root = scratch_copy(Path(tmp))
            if args.baseline:
                status, failed = run_tests(root, mutation.tests)
                if status != 0:
                    raise SystemExit(f"{mutation.name}: the tests fail before the mutation: {failed}")
            apply(root, mutation)
            status, failed = run_tests(root, mutation.tests)
        verdict = "killed" if status != 0 and failed else "SURVIVED"
        print(f"{mutation.name} ({mutation.what}): {verdict}")
        print(f"  changed {mutation.path}: {mutation.old!r} -> {mutation.new!r}")
        print(f"  ran: python3 -m pytest {' '.join(mutation.tests)}")
        for test in failed:
            print(f"  red: {test}")
        if verdict == "SURVIVED":
            survived.append(mutation.name)
    if survived:
        print(f"survived: {', '.join(survived)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
