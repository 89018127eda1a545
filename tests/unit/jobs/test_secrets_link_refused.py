"""A job's secret ``environment_variables`` are written to ``secrets/job-<name>.json`` by one writer
(``runner.workspace.secret_files``: owner-only, no link followed). A workspace whose ``secrets`` folder,
or a job's secrets file, is a link planted to somewhere else is refused: nothing is written (or removed)
through the link, and the submission fails with one clear error, the job's recorded failure too: a
command job (``submit_job``, the CLI's ``job create``), a pipeline (``submit_pipeline``), a Ray node's run.

Hostile: everything is made in this test's ``tmp_path``; the test never follows a link it planted (the
targets are read by their own paths)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import StorageError
from runner.jobs.node import run_here
from runner.jobs.ray_submit import _payload
from runner.jobs.submit import submit_job
from runner.pipelines.submit import submit_pipeline
from runner.plan.stored import plan_from_dict
from runner.spec.load import spec_from_data
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.computes import RayCompute
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.job_secrets import keep

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SUPERSECRET==;EndpointSuffix=core.windows.net"
JOB = {"command": "env", "environment": {"image": "unused:1"}, "compute": "local-process",
       "environment_variables": {"CONN": CONN, "MODE": "fast"}}
PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "env", "environment": {"image": "unused:1"}, "environment_variables": {"CONN": CONN}}}}
OLD = 1_000_000_000  # an mtime (s) no write of this test could give


def _state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Each file of ``folder`` (read by its own path, no link in it): its bytes and mtime (ns); the
    folder's own mtime under ''."""
    found = {"": (b"", os.lstat(folder).st_mtime_ns)}
    for entry in os.scandir(folder):
        found[entry.name] = (Path(entry.path).read_bytes(), entry.stat(follow_symlinks=False).st_mtime_ns)
    return found


def _linked_folder(tmp_path: Path, ws: Workspace, job: str) -> tuple[Path, dict[str, tuple[bytes, int]]]:
    """``ws``'s secrets folder made a link to a folder of the test's, which holds a file at the job's
    secrets file's name (a forget through the link would remove it); that folder's state."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"job-{job}.json").write_text('{"planted": "1"}')
    (elsewhere / "other.txt").write_text("mine\n")
    for name in (f"job-{job}.json", "other.txt", ""):
        os.utime(elsewhere / name, ns=(OLD * 10**9, OLD * 10**9))
    ws.secrets_dir.rmdir()  # a new workspace's: empty
    os.symlink(elsewhere, ws.secrets_dir)
    return elsewhere, _state(elsewhere)


def _linked_file(tmp_path: Path, ws: Workspace, job: str) -> tuple[Path, tuple[bytes, int]]:
    target = tmp_path / "planted.json"
    target.write_text('{"planted": "1"}')
    os.utime(target, ns=(OLD * 10**9, OLD * 10**9))
    os.symlink(target, ws.secrets_dir / f"job-{job}.json")
    return target, (target.read_bytes(), os.lstat(target).st_mtime_ns)


def test_a_secrets_folder_that_is_a_link_fails_the_job_with_one_error(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    elsewhere, before = _linked_folder(tmp_path, ws, "j1")
    with pytest.raises(StorageError) as caught:
        submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name="j1", backend="process")
    assert _state(elsewhere) == before  # nothing written, removed or touched through the link
    message = caught.value.render()
    assert "j1" in message and f"secrets folder {ws.secrets_dir} is a symbolic link" in message
    assert "hint: " in message and "Traceback" not in message
    record = ws.get_job("j1")
    assert record.status is JobStatus.FAILED and record.error == message
    assert os.path.islink(ws.secrets_dir)  # left as the user made it: the error says what to do


def test_a_secrets_file_that_is_a_link_fails_the_job_with_one_error(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    target, before = _linked_file(tmp_path, ws, "j1")
    with pytest.raises(StorageError) as caught:
        submit_job(ws, spec_from_data(JOB, base_dir=tmp_path), name="j1", backend="process")
    assert (target.read_bytes(), os.lstat(target).st_mtime_ns) == before
    message = caught.value.render()
    assert f"{ws.secrets_dir / 'job-j1.json'} is a symbolic link" in message and "hint: " in message
    assert ws.get_job("j1").status is JobStatus.FAILED and ws.get_job("j1").error == message
    assert [p.name for p in ws.secrets_dir.iterdir()] == ["job-j1.json"]  # no temporary file left


def test_keep_refuses_a_link_at_either_place(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    target, before = _linked_file(tmp_path, ws, "j2")
    with pytest.raises(StorageError, match="is a symbolic link"):
        keep(ws, "j2", {"A_KEY": "real"})
    assert (target.read_bytes(), os.lstat(target).st_mtime_ns) == before
    other = Workspace(tmp_path / "ws2")
    elsewhere, state = _linked_folder(tmp_path / "ws2", other, "j3")
    with pytest.raises(StorageError, match="is a symbolic link"):
        keep(other, "j3", {"A_KEY": "real"})
    assert _state(elsewhere) == state


def test_job_create_says_it_once(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    elsewhere, before = _linked_folder(tmp_path, ws, "j1")
    (tmp_path / "job.yml").write_text(
        "command: env\ncompute: local-process\nenvironment:\n  image: unused:1\n"
        f"environment_variables:\n  CONN: '{CONN}'\n")
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(ws.root), "job", "create",
                             "--file", str(tmp_path / "job.yml"), "--name", "j1", "--backend", "process"],
                            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
                            env={**os.environ, "RUNNER_FORKSERVER": "0"})
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "is a symbolic link" in errors[0], result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert _state(elsewhere) == before
    assert Workspace(ws.root).get_job("j1").status is JobStatus.FAILED


def test_a_pipeline_is_failed_not_left_queued(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    elsewhere, before = _linked_folder(tmp_path, ws, "p")
    with pytest.raises(StorageError) as caught:
        submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    assert _state(elsewhere) == before
    assert "is a symbolic link" in caught.value.render()
    record = ws.get_job("p")
    assert record.status is JobStatus.FAILED and record.error == caught.value.render()


def test_a_ray_nodes_run_fails_with_the_error_not_a_traceback(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = submit_job(ws, spec_from_data({**JOB, "environment_variables": {"MODE": "fast"}},
                                           base_dir=tmp_path), name="j1", backend="process")
    compute = RayCompute(name="r", address="http://127.0.0.1:1")
    payload = _payload(ws, record, plan_from_dict(record.extra["plan"]), compute, {"CONN": CONN})
    root = tmp_path / "node"
    node = Workspace(root / "ws")  # the node's workspace, the job's secrets file planted as a link
    target, before = _linked_file(tmp_path, node, "j1")
    package = tmp_path / "pkg"
    package.mkdir()
    _ws, result = run_here(root, json.loads(json.dumps(payload)), package)
    assert (target.read_bytes(), os.lstat(target).st_mtime_ns) == before
    assert result["status"] == JobStatus.FAILED.value
    assert "is a symbolic link" in result["error"] and "hint: " in result["error"]
    assert "StorageError" not in result["error"] and "Traceback" not in result["error"]
