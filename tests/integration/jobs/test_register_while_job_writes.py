"""A registered version never changes under a job: the datastore path a running job writes an output to
cannot be registered by reference until the job ends (`runner model create` / `runner data create` exit
with one error naming the job), and a job whose output place got a registered version anyway (a runner
that did not check, stood in for here by inserting the version's row directly) does not write its
staged output there as it finalizes: it fails naming the version and its staged data is kept.

Real `runner job create --stream` runs with the process backend on the workspace's local datastore. The
job's command writes its output, then says so with a file and waits for a file this test writes: the
files are the events, no sleep decides anything; the waits are bounded only so a broken runner fails the
test instead of hanging it. Everything is in this test's own folders."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from jobs_support import cli, show, spawn, write_job

from runner.spec.model import Model
from runner.workspace.db import Workspace, utcnow
from runner.workspace.registry import ModelRegistry

PLACE = "azureml://datastores/workspaceblobstore/paths/racem3"
JOB = """
    command: echo new > ${{{{outputs.o}}}}/f; touch {ready}; while [ ! -f {go} ]; do sleep 0.1; done
    outputs:
      o:
        type: uri_folder
        mode: {mode}
        path: {place}/
    compute: local-process
    environment:
      image: does-not-matter:1
    """


def _start(ws: Path, tmp_path: Path, name: str, mode: str) -> tuple[subprocess.Popen[str], Path]:
    """The job, once its command wrote its output and waits; returns it and the file that lets it end."""
    folder = ws / "datastores" / "workspaceblobstore" / "racem3"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "f").write_text("old\n")
    ready, go = tmp_path / f"{name}.ready", tmp_path / f"{name}.go"
    job = write_job(tmp_path, JOB.format(ready=ready, go=go, mode=mode, place=PLACE), name=f"{name}.yml")
    proc = spawn(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"the job never got to wait (exit {proc.returncode}):\n{out}\n{err}")
        time.sleep(0.05)
    return proc, go


def _finish(proc: subprocess.Popen[str], go: Path) -> str:
    go.write_text("")
    out, err = proc.communicate(timeout=180)
    return out + err


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_the_place_a_running_job_writes_is_not_registered_until_it_ends(workspace_dir: Path, tmp_path: Path,
                                                                        mode: str) -> None:
    ws = workspace_dir
    proc, go = _start(ws, tmp_path, "race1", mode)
    try:
        for kind, extra in (("model", ["--type", "custom_model"]), ("data", ["--type", "uri_folder"])):
            refused = cli(ws, kind, "create", "--name", "racem3", *extra, "--path", f"{PLACE}/")
            assert refused.returncode != 0, refused.stdout
            assert "job 'race1' (Running) writes its output 'o'" in refused.stderr, refused.stderr
            assert "azureml://jobs/race1/outputs/o" in refused.stderr
            assert "Traceback" not in refused.stderr
    finally:
        said = _finish(proc, go)
    assert proc.returncode == 0, said
    assert show(ws, "race1")["status"] == "Completed"
    assert cli(ws, "model", "list", "-o", "json", check=True).stdout.strip() == "[]"
    # once it ended: registered as the hint says, and the version holds what the job wrote
    cli(ws, "model", "create", "--name", "racem3", "--type", "custom_model", "--path",
        "azureml://jobs/race1/outputs/o", check=True)
    cli(ws, "model", "download", "--name", "racem3", "--version", "1", "--download-path",
        str(tmp_path / "dl"), check=True)
    assert (tmp_path / "dl" / "racem3" / "racem3" / "f").read_text() == "new\n"


def _register_unchecked(ws: Path) -> None:
    """Version 1 of model racem3 at the job's output place, its row inserted as a runner that does not
    check the active jobs would insert it."""
    registry = ModelRegistry(Workspace(ws))
    with Workspace(ws).transaction() as conn:
        archived = registry.ensure_container(conn, "racem3")
        registry.insert_version(conn, Model(name="racem3", version="1", type="custom_model", path=PLACE,
                                            datastore_uri=PLACE, archived=archived, created_at=utcnow()),
                                source=PLACE)


@pytest.mark.parametrize(("mode", "staged"), [("upload", "o"), ("rw_mount", "o/staged")])
def test_a_staged_output_is_not_finalized_onto_a_version_registered_meanwhile(
        workspace_dir: Path, tmp_path: Path, mode: str, staged: str) -> None:
    ws = workspace_dir
    proc, go = _start(ws, tmp_path, "race2", mode)
    try:
        _register_unchecked(ws)
    finally:
        said = _finish(proc, go)
    assert proc.returncode != 0, said
    record = show(ws, "race2")
    assert record["status"] == "Failed"
    assert "registered model racem3:1" in record["error"], record["error"]
    assert (ws / "datastores" / "workspaceblobstore" / "racem3" / "f").read_text() == "old\n"
    kept = ws / "jobs" / "race2" / "outputs" / staged
    assert (kept / "f").read_text() == "new\n"  # never lost
    assert record["extra"]["outputs_not_durable"]["o"]["staged"] == str(kept)
    refused = cli(ws, "data", "create", "--name", "later", "--type", "uri_folder", "--path",
                  "azureml://jobs/race2/outputs/o")
    assert refused.returncode != 0 and str(kept) in refused.stderr, refused.stderr


def test_a_direct_output_written_under_a_version_registered_meanwhile_fails_the_job(
        workspace_dir: Path, tmp_path: Path) -> None:
    """A ``direct`` output is written in place as the job runs: nothing is left to hold back, so the job
    fails naming the version whose files it may have changed."""
    ws = workspace_dir
    proc, go = _start(ws, tmp_path, "race3", "direct")
    try:
        _register_unchecked(ws)
    finally:
        said = _finish(proc, go)
    assert proc.returncode != 0, said
    record = show(ws, "race3")
    assert record["status"] == "Failed"
    assert "registered model racem3:1" in record["error"], record["error"]
    assert "written in place" in record["error"]
