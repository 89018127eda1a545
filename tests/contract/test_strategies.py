"""The contract every materialization strategy keeps, on every storage backend.

Inputs: what the job reads is byte-identical (SHA-256) to the source, for a file and for a nested
folder with empty files and unicode names; a real process writing into an input never changes the
source or the download cache (refused by a read-only mount, kept in the job's own copy, or handed out
marked ``shared`` so that the executor makes it read-only). Outputs:
everything the job wrote is durable at the target with identical SHA-256, also when the job failed;
``SkipFinalize`` keeps staged data. Strategies and backends: see ``conftest.py`` (append a
``StrategyCase`` to opt a strategy in).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem
from strategy_cases import OUTPUT_CASES, Backend, StrategyCase, case_strategy, sha256_tree

from mounts.base import Materialized, SkipFinalize

MiB = 1 << 20


def tree() -> dict[str, bytes]:
    rng = os.urandom
    return {
        "a.txt": b"hello world\n",
        "empty.bin": b"",
        "sub/deeper/ü nicode ñame.txt": "grüße\n".encode(),
        "sub/empty-too": b"",
        "sub/medium.bin": rng(700 * 1024),  # one request, larger than one read chunk
        "sub/large.bin": rng(5 * MiB + 12345),  # several ranged parts / upload blocks
    }


def read_materialized(mat: Materialized, backend: Backend, rel_uri: str | None = None) -> dict[str, str]:
    """SHA-256 of what a job sees: the files under ``host_path``, or what it reads from ``uri``."""
    if mat.host_path is not None:
        root = Path(mat.host_path)
        if rel_uri:  # direct mode on a local datastore: the URI is the path itself
            root = Path(rel_uri)
        if root.is_file():
            return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in root.rglob("*") if p.is_file()}
    assert mat.uri, "a strategy must give the job a host path or a URI"
    fs, path = fsspec.core.url_to_fs(mat.uri, **backend.open_options)
    if fs.isfile(path):
        with fs.open(path, "rb") as stream:
            return {path.rsplit("/", 1)[-1]: hashlib.sha256(stream.read()).hexdigest()}
    return {p[len(path.rstrip("/")) + 1:]: hashlib.sha256(fs.cat_file(p)).hexdigest()
            for p in fs.find(path)}


def write_as_job(mat: Materialized, backend: Backend, files: Mapping[str, bytes]) -> None:
    """Write ``files`` the way a job would: into ``host_path``, or through fsspec at ``uri``."""
    if mat.host_path is not None:
        root = Path(mat.host_path)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return
    assert mat.uri
    fs, path = fsspec.core.url_to_fs(mat.uri, **backend.open_options)
    for name, data in files.items():
        if isinstance(fs, LocalFileSystem):  # a job on a local path makes its folders itself
            fs.makedirs(f"{path.rstrip('/')}/{name}".rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(f"{path.rstrip('/')}/{name}", data)


# -- inputs ------------------------------------------------------------------------------------------
def test_folder_input_is_identical(request: pytest.FixtureRequest, backend: Backend,
                                   input_case: StrategyCase, tmp_path: Path) -> None:
    files = tree()
    backend.write_tree("model", files)
    strategy = case_strategy(request, input_case, tmp_path / "scratch")
    with strategy.materialize(backend.source("model", is_dir=True), tmp_path / "job" / "in") as mat:
        seen = read_materialized(mat, backend, mat.uri if mat.host_path and mat.uri else None)
    assert seen == sha256_tree(files)


# A real process (not this one) writes into what the strategy handed out, as a job would.
WRITER = """
import json, os, sys
root, outcome = sys.argv[1], {}
for folder, _dirs, names in os.walk(root):
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, "r+b") as handle:
                handle.write(b"TAMPERED")
            outcome[os.path.relpath(path, root)] = "allowed"
        except OSError as exc:
            outcome[os.path.relpath(path, root)] = os.strerror(exc.errno or 0)
try:
    open(os.path.join(root, "new-file"), "wb").close()
    outcome["new-file"] = "allowed"
except OSError as exc:
    outcome["new-file"] = os.strerror(exc.errno or 0)
print(json.dumps(outcome))
"""

def test_writes_into_an_input_never_reach_the_source(request: pytest.FixtureRequest, backend: Backend,
                                                     input_case: StrategyCase, tmp_path: Path) -> None:
    """A real process writes into every file of the materialized input and creates one. Either the
    writes are refused (a read-only FUSE mount), or they land in the job's own copy, or the strategy
    says the path is not the job's own (``shared``: a datastore or registry folder, a cache entry), which
    tells the executor to make it read-only (tests/integration/jobs/test_jobs_readonly_inputs.py proves
    the executors do). A strategy that hands out the source's own files without saying so fails here."""
    files = tree()
    backend.write_tree("model", files)
    strategy = case_strategy(request, input_case, tmp_path / "scratch")
    source = backend.source("model", is_dir=True)
    if input_case.name == "direct" and backend.local_root is None:
        # a URI and credentials, no local files (read-only credentials on Azure: see the job tests)
        with strategy.materialize(source, tmp_path / "job" / "in") as mat:
            assert mat.host_path is None and mat.uri == source.url and mat.read_only
        return
    with strategy.materialize(source, tmp_path / "job" / "in") as mat:
        assert mat.read_only and mat.host_path is not None  # the executor binds it read-only
        shared = mat.shared
        done = subprocess.run([sys.executable, "-c", WRITER, str(mat.host_path)], capture_output=True,
                              text=True, check=True)
    outcome = json.loads(done.stdout)
    assert set(outcome) == set(files) | {"new-file"}
    if input_case.name == "ro_mount" and backend.local_root is None:  # the mount itself refuses
        assert set(outcome.values()) == {os.strerror(errno.EROFS)}, outcome
    if shared:
        return  # not the job's own: the executor makes it read-only
    assert backend.read_tree("model") == sha256_tree(files), f"the source changed: {outcome}"
    cache = tmp_path / "scratch" / "cache" / "entries"
    for data in cache.glob("*/data") if cache.is_dir() else []:
        cached = {p.relative_to(data).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                  for p in data.rglob("*") if p.is_file()}
        assert cached == sha256_tree(files), f"the cache changed: {outcome}"


# -- outputs -----------------------------------------------------------------------------------------
def test_folder_output_is_durable(request: pytest.FixtureRequest, backend: Backend,
                                  output_case: StrategyCase, tmp_path: Path) -> None:
    files = tree()
    strategy = case_strategy(request, output_case, tmp_path / "scratch")
    with strategy.materialize(backend.target("out/run1"), tmp_path / "job" / "out") as mat:
        assert not mat.read_only
        write_as_job(mat, backend, files)
    assert backend.read_tree("out/run1") == sha256_tree(files)


def test_file_output_is_durable(request: pytest.FixtureRequest, backend: Backend,
                                output_case: StrategyCase, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 3)
    strategy = case_strategy(request, output_case, tmp_path / "scratch")
    target = backend.target("out/result ü.bin", is_file=True)
    with strategy.materialize(target, tmp_path / "job" / "out") as mat:
        if mat.host_path is not None and mat.uri is None:
            (Path(mat.host_path) / "result ü.bin").write_bytes(data)
        else:  # direct: the URI is the file itself
            fs, path = fsspec.core.url_to_fs(mat.uri or "", **backend.open_options)
            if isinstance(fs, LocalFileSystem):
                fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            fs.pipe_file(path, data)
    assert backend.read_tree("out") == {"result ü.bin": hashlib.sha256(data).hexdigest()}


def test_output_of_failed_job_is_durable(request: pytest.FixtureRequest, backend: Backend,
                                         output_case: StrategyCase, tmp_path: Path) -> None:
    files = {"partial/log.txt": b"step 1 done\n", "ckpt.bin": os.urandom(1500 * 1024)}
    strategy = case_strategy(request, output_case, tmp_path / "scratch")
    with pytest.raises(RuntimeError, match="job failed"), \
            strategy.materialize(backend.target("out/failed"), tmp_path / "job" / "out") as mat:
        write_as_job(mat, backend, files)
        raise RuntimeError("job failed")
    assert backend.read_tree("out/failed") == sha256_tree(files)


# Only strategies that stage data locally have something for ``SkipFinalize`` to keep.
@pytest.mark.parametrize("output_case", [c for c in OUTPUT_CASES if c.stages], ids=str)
def test_skip_finalize_keeps_staged_data(request: pytest.FixtureRequest, backend: Backend,
                                         output_case: StrategyCase, tmp_path: Path) -> None:
    strategy = case_strategy(request, output_case, tmp_path / "scratch")
    workdir = tmp_path / "job" / "out"
    with pytest.raises(SkipFinalize), \
            strategy.materialize(backend.target("out/skipped"), workdir) as mat:
        write_as_job(mat, backend, {"kept.txt": b"keep me"})
        raise SkipFinalize()
    assert [p.read_bytes() for p in workdir.rglob("kept.txt")] == [b"keep me"]
    assert not backend.fs.exists(backend.path("out/skipped/kept.txt"))
