"""Where a record says an output's staged data is kept (``held_back_outputs``, ``outputs_not_durable``'s
"staged") is read later on this machine: ``job download`` and registrations count the files there and say
"copy it from there", the UI shows it. A Ray node's result names these paths, and a job on the node may
forge the result; a record file may be edited by hand. Only a declared output's own staging folder of
the job (``<job>/outputs/<o>``, or below it, with no link on the way) is taken: the follower drops
anything else with one warning in the record, and a reader never looks elsewhere (the output's own staging
folder stands in). A genuine node result, re-rooted to the submitting side's job folder, is kept whole.

The follower runs for real against a stand-in Ray dashboard on 127.0.0.1; the planted folder is this
test's own (tmp_path), never followed out of."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli
from ray_dashboard_standin import serving, succeeded_job

from runner.jobs.node import staged_rerooted
from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.ray_package import write_control
from runner.jobs.ray_result import keep_own_staged
from runner.plan.types import RunPlan
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.upload_state import NOT_DURABLE_KEY, incomplete_outputs, own_staged

CONTROL = "azureml://datastores/workspaceblobstore/paths/_ray/j1"
OUT = "azureml://datastores/workspaceblobstore/paths/out/o"
DECLARED = {"o", "artifacts"}


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(succeeded_job("j1", logs="hello\n")) as address:
        yield address


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A folder of this machine no job's record may point at: three files a reader must not count."""
    folder = tmp_path / "host-secrets"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / name).write_text("host file")
    return folder


def test_own_staged_takes_only_the_outputs_own_staging_folder(tmp_path: Path, planted: Path) -> None:
    outputs = tmp_path / "ws" / "jobs" / "j1" / "outputs"
    (outputs / "o" / "staged").mkdir(parents=True)
    (outputs / "p").mkdir()
    own = outputs / "o"
    assert own_staged(outputs, "o", str(own)) == own
    assert own_staged(outputs, "o", str(own / "staged")) == own / "staged"  # rw_mount to a local folder
    assert own_staged(outputs, "o", str(own) + "/") == own
    for path in ("/etc", str(planted), str(outputs / "p"), str(outputs), "outputs/o", f"{own}/../../../..",
                 f"{own}/../p", f"{own}\0x", 3, None):
        assert own_staged(outputs, "o", path) is None, path
    for name in ("..", ".", "", "o/staged", "a\0b"):
        assert own_staged(outputs, name, str(own)) is None, name


def test_a_link_on_the_way_is_not_followed_out(tmp_path: Path, planted: Path) -> None:
    outputs = tmp_path / "jobs" / "j1" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "o").symlink_to(planted, target_is_directory=True)  # the output's folder: a link out
    assert own_staged(outputs, "o", str(outputs / "o")) is None
    (outputs / "p").mkdir()
    (outputs / "p" / "deep").symlink_to(planted, target_is_directory=True)  # a link below it
    assert own_staged(outputs, "p", str(outputs / "p" / "deep")) is None
    assert own_staged(outputs, "p", str(outputs / "p")) == outputs / "p"
    linked = tmp_path / "linked-outputs"
    linked.symlink_to(outputs, target_is_directory=True)  # the staging root itself
    assert own_staged(linked, "p", str(linked / "p")) is None


def test_a_forged_nodes_staged_paths_are_dropped_with_one_warning(tmp_path: Path) -> None:
    outputs = tmp_path / "jobs" / "j1" / "outputs"
    extra: dict[str, Any] = {
        "held_back_outputs": {"o": "/etc", "artifacts": str(outputs / "artifacts"), "x": str(outputs / "x")},
        NOT_DURABLE_KEY: {"o": {"failed": 1, "total": 2, "staged": "/etc"},
                          "x": {"failed": 1, "total": 1, "staged": None}}}
    note = keep_own_staged(extra, outputs, DECLARED)
    assert extra["held_back_outputs"] == {"artifacts": str(outputs / "artifacts")}
    assert extra[NOT_DURABLE_KEY] == {"o": {"failed": 1, "total": 2, "staged": None}}
    assert note is not None and f"outside its own staging folder here ({outputs}/<output>)" in note
    for words in ("held_back_outputs.o (/etc)", "held_back_outputs.x (", f"{NOT_DURABLE_KEY}.x",
                  f"{NOT_DURABLE_KEY}.o.staged (/etc)"):
        assert words in note, (words, note)
    assert "artifacts" not in note
    only_forged = {"held_back_outputs": {"o": "/etc"}}
    assert keep_own_staged(only_forged, outputs, DECLARED) is not None and only_forged == {}


def test_a_genuine_nodes_result_is_rerooted_and_kept_whole(tmp_path: Path) -> None:
    """The node stages in its own workspace; its result names the submitting side's job folder, as the
    node's plan was re-rooted the other way, and the follower keeps it with no warning."""
    node, submit = "/tmp/runner-ray-j1-x/ws/jobs/j1", str(tmp_path / "ws" / "jobs" / "j1")
    result = {"status": "Failed", "error": f"kept at {node}/outputs/o", "extra": {
        "held_back_outputs": {"o": f"{node}/outputs/o"}, "warnings": [f"{node} stays"],
        NOT_DURABLE_KEY: {"o": {"failed": 1, "total": 2, "staged": f"{node}/outputs/o/staged"}}}}
    rerooted = staged_rerooted(result, node, submit)
    assert rerooted["extra"]["held_back_outputs"] == {"o": f"{submit}/outputs/o"}
    assert rerooted["extra"][NOT_DURABLE_KEY]["o"]["staged"] == f"{submit}/outputs/o/staged"
    assert rerooted["error"] == result["error"] and rerooted["extra"]["warnings"] == [f"{node} stays"]
    extra = json.loads(json.dumps(rerooted["extra"]))
    assert keep_own_staged(extra, Path(submit) / "outputs", DECLARED) is None
    assert extra == rerooted["extra"]


def _plan() -> dict[str, Any]:
    plan = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/nowhere/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None)
    return json.loads(json.dumps(plan.to_dict()))


def test_the_follower_records_no_forged_staged_path(tmp_path: Path, dashboard: str, planted: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    ray = {"address": dashboard, "submission_id": "j1", "control": CONTROL, "compute": "ray"}
    ws.create_job(JobRecord(name="j1", status=JobStatus.QUEUED, backend="docker", outputs={"o": OUT},
                            job_dir=str(ws.job_dir("j1").root),
                            extra={"plan": _plan(), "ray": ray,
                                   "status_times": {"Queued": utc_text(utcnow())}}))
    forged = {"status": "Failed", "exit_code": 1, "node": "n1", "error": "an error ended its run",
              "extra": {"held_back_outputs": {"o": str(planted)}, "held_back_why": "forged",
                        NOT_DURABLE_KEY: {"o": {"failed": 3, "total": 3, "staged": str(planted)}},
                        "warnings": ["w1"]}}
    write_control(ws, CONTROL, "result.json", json.dumps(forged).encode())
    with caplog.at_level(logging.WARNING, logger="runner.jobs.ray_follow"):
        record = follow_ray_job(ws, "j1")
    assert record.status is JobStatus.FAILED
    assert "held_back_outputs" not in record.extra
    assert record.extra[NOT_DURABLE_KEY] == {"o": {"failed": 3, "total": 3, "staged": None}}
    [note] = [w for w in record.extra["warnings"] if "staging folder" in w]
    assert f"held_back_outputs.o ({planted})" in note and f"{NOT_DURABLE_KEY}.o.staged ({planted})" in note
    assert "w1" in record.extra["warnings"]
    assert sum("staging folder" in r.getMessage() for r in caplog.records) == 1
    [found] = incomplete_outputs(ws, record).values()  # the upload failed: its own folder stands in
    assert found.kept_at == ws.job_dir("j1").outputs / "o" and found.files == 0


@pytest.mark.parametrize("key", ["held_back_outputs", NOT_DURABLE_KEY])
def test_a_hand_edited_record_points_no_reader_elsewhere(tmp_path: Path, planted: Path, key: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    own = ws.job_dir("h1").outputs / "o"
    own.mkdir(parents=True)
    (own / "weights.bin").write_bytes(b"w")
    entry = str(planted) if key == "held_back_outputs" else {"failed": 1, "total": 1, "staged": str(planted)}
    record = ws.create_job(JobRecord(name="h1", status=JobStatus.FAILED, outputs={"o": OUT},
                                     job_dir=str(ws.job_dir("h1").root),
                                     extra={key: {"o": entry, "../../x": entry}}))
    with caplog.at_level(logging.WARNING, logger="runner.workspace.upload_state"):
        found = incomplete_outputs(ws, record)
    assert list(found) == ["o"] and found["o"].kept_at == own and found["o"].files == 1
    if key == "held_back_outputs":
        assert "output(s) o, ../../x outside their own staging folders" in caplog.text
    result = cli(ws.root, "job", "download", "--name", "h1", "--output-name", "o",
                 "--download-path", str(tmp_path / "dl"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert str(own) in result.stderr and str(planted) not in result.stdout + result.stderr
    assert not (tmp_path / "dl").exists() and sorted(os.listdir(planted)) == ["a", "b", "c"]
