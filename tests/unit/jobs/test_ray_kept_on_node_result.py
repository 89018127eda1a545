"""Where a Ray node's result says an output's staged data is kept on the node (``outputs_kept_on_node``:
host, path, files) is taken only in the shape runner on the node writes (``runner.jobs.node_keep``): a
declared output, a host name, an absolute path as written ending in ``runner-kept-<job>-*/<output>``, a
count; anything else is dropped with one warning in the record. What is taken is text: the submitting side
never counts, reads or copies from that path, even when such a folder exists here (a forged result must not
point ``job download`` at a folder of this machine); ``job download`` and ``job show`` say "kept on Ray node
<host> at <path>". The follower runs for real against a stand-in Ray dashboard on 127.0.0.1; everything in
the test's tmp folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli
from ray_dashboard_standin import serving, succeeded_job

from runner.jobs.ray_follow import follow_ray_job
from runner.jobs.ray_package import write_control
from runner.jobs.ray_result import keep_own_staged, node_kept_path, node_result
from runner.plan.types import RunPlan
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.upload_state import KEPT_KEY, REMOVED_KEY, incomplete_outputs

CONTROL = "azureml://datastores/workspaceblobstore/paths/_ray/j1"
OUT = "azureml://datastores/workspaceblobstore/paths/out/o"
DECLARED = {"o", "artifacts"}
KEPT = "/var/runner/runner-kept-j1-abc123/o"


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(succeeded_job("j1", logs="hello\n")) as address:
        yield address


def test_a_kept_path_is_taken_only_in_the_shape_the_node_writes() -> None:
    assert node_kept_path(KEPT, "j1", "o")
    for path in ("/etc", "/var/runner/runner-kept-j1-abc123/p", "/var/runner/runner-kept-j2-abc/o",
                 "/var/runner/runner-kept-j1-abc123/../o", "var/runner-kept-j1-a/o",
                 "/var/runner-kept-j1-a//o",
                 "/var/runner-kept-j1-a/o/", "/var/runner-kept-j1-a/o\n", "/var/runner-kept-j1-a/o\x1b[2J",
                 "/x/runner-kept-j1/o", "/" + "a" * 5000 + "/runner-kept-j1-a/o", "/", ""):
        assert not node_kept_path(path, "j1", "o"), path


def test_a_forged_entry_is_dropped_with_one_warning(tmp_path: Path) -> None:
    outputs = tmp_path / "jobs" / "j1" / "outputs"
    good = {"host": "node-1.example", "path": KEPT, "files": 3}
    extra: dict[str, Any] = {KEPT_KEY: {
        "o": good, "x": {**good, "path": "/var/runner/runner-kept-j1-abc123/x"},
        "artifacts": {**good, "path": "/etc/passwd"}}}
    note = keep_own_staged(extra, outputs, DECLARED)
    assert extra[KEPT_KEY] == {"o": good}
    assert note is not None and f"{KEPT_KEY}.x (" in note and f"{KEPT_KEY}.artifacts (/etc/passwd)" in note
    bad_host: dict[str, Any] = {KEPT_KEY: {"o": {**good, "host": "evil\nhost"}}}
    assert keep_own_staged(bad_host, outputs, DECLARED) is not None and bad_host == {}


@pytest.mark.parametrize("entry", [{"host": "n", "path": KEPT, "files": -1},
                                   {"host": "n", "path": KEPT, "files": True},
                                   {"host": "n", "path": KEPT},
                                   {"host": "n", "path": KEPT, "files": 1, "ip": "1.2.3.4"},
                                   {"host": 3, "path": KEPT, "files": 1}, "somewhere"])
def test_an_entry_of_another_type_is_dropped_from_the_result(entry: Any) -> None:
    sent = {"status": "Failed", "extra": {KEPT_KEY: {"o": entry}}}
    result, dropped = node_result(json.dumps(sent).encode())
    assert KEPT_KEY not in result["extra"] and dropped == [f"extra.{KEPT_KEY}"]


def _plan() -> dict[str, Any]:
    plan = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir="/nowhere/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={}, timeout_s=None)
    return json.loads(json.dumps(plan.to_dict()))


def _queued_ray_job(ws: Workspace, dashboard: str) -> None:
    """Job ``j1``, Queued on the Ray cluster at ``dashboard`` (its node at 127.0.0.3), with output ``o``."""
    ray = {"address": dashboard, "submission_id": "j1", "control": CONTROL, "compute": "ray",
           "node_ip": "127.0.0.3"}
    ws.create_job(JobRecord(name="j1", status=JobStatus.QUEUED, backend="docker", outputs={"o": OUT},
                            job_dir=str(ws.job_dir("j1").root),
                            extra={"plan": _plan(), "ray": ray,
                                   "status_times": {"Queued": utc_text(utcnow())}}))


def test_a_kept_path_that_exists_here_is_never_read_counted_or_copied(tmp_path: Path, dashboard: str) -> None:
    """A result that names a folder of this machine in the node's shape (as a forged one may): the record
    says what the node said (its count), ``job download`` copies nothing and names the node."""
    planted = tmp_path / "runner-kept-j1-zz" / "o"
    planted.mkdir(parents=True)
    for name in ("a", "b"):
        (planted / name).write_text("host file")
    ws = Workspace(tmp_path / "ws")
    _queued_ray_job(ws, dashboard)
    staged = str(ws.job_dir("j1").outputs / "o")
    result = {"status": "Failed", "exit_code": 0, "node": "n1", "error": f"staged data kept at: {planted}",
              "extra": {"outputs_not_durable": {"o": {"failed": 7, "total": 7, "staged": staged}},
                        KEPT_KEY: {"o": {"host": "n1", "path": str(planted), "files": 7}}}}
    write_control(ws, CONTROL, "result.json", json.dumps(result).encode())
    record = follow_ray_job(ws, "j1")
    assert record.status is JobStatus.FAILED
    assert record.extra[KEPT_KEY] == {"o": {"host": "n1", "path": str(planted), "files": 7,
                                            "ip": "127.0.0.3"}}
    [found] = incomplete_outputs(ws, record).values()
    assert found.node == "n1 (127.0.0.3)" and found.kept_at == planted
    assert found.files == 7  # the node's count, never this folder's
    said = cli(ws.root, "job", "download", "--name", "j1", "--output-name", "o", "-p", str(tmp_path / "dl"))
    assert said.returncode != 0 and "Traceback" not in said.stderr
    assert f"kept on Ray node n1 (127.0.0.3) at {planted} (7 files)" in said.stderr, said.stderr
    assert not (tmp_path / "dl").exists() and sorted(os.listdir(planted)) == ["a", "b"]
    table = cli(ws.root, "job", "show", "--name", "j1", check=True).stdout
    assert f"on Ray node n1 (127.0.0.3) at {planted} (7 files)" in table


def test_a_hand_edited_entry_is_shown_only_as_printable_text(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = ws.create_job(JobRecord(name="h1", status=JobStatus.FAILED, outputs={"o": OUT},
                                     job_dir=str(ws.job_dir("h1").root), extra={KEPT_KEY: {
                                         "o": {"host": "n\x1b[2J", "path": KEPT, "files": 1}}}))
    assert incomplete_outputs(ws, record) == {}  # nothing staged here, and no entry to show
    table = cli(ws.root, "job", "show", "--name", "h1", check=True).stdout
    assert "\x1b" not in table and ".kept" not in table


def test_why_the_node_held_outputs_back_is_taken_as_text() -> None:
    """A Ray job holds back only on a full disk or an error that ended its run (never for
    ``--no-upload-on-failure``, refused there): the record says the node's reason, not that flag."""
    why = "an error ended its run before they were uploaded"
    def sent(value: Any) -> bytes:
        return json.dumps({"status": "Failed", "extra": {"held_back_why": value}}).encode()

    result, dropped = node_result(sent(why))
    assert result["extra"]["held_back_why"] == why and dropped == []
    result, dropped = node_result(sent([why]))
    assert "held_back_why" not in result["extra"] and dropped == ["extra.held_back_why"]


def test_an_output_removed_on_the_node_names_its_ip_too(tmp_path: Path, dashboard: str) -> None:
    """Several Ray nodes on one host share its name: the record names the node that removed an output's
    staged data (``outputs_removed_on_node``) with its IP as Ray told it, as a kept one's entry does."""
    ws = Workspace(tmp_path / "ws")
    _queued_ray_job(ws, dashboard)
    result = {"status": "Failed", "exit_code": 0, "node": "n1", "error": "output 'o' could not be uploaded",
              "extra": {"outputs_not_durable": {"o": {"failed": 7, "total": 7, "staged": None}},
                        REMOVED_KEY: {"o": "n1"}}}
    write_control(ws, CONTROL, "result.json", json.dumps(result).encode())
    record = follow_ray_job(ws, "j1")
    assert record.status is JobStatus.FAILED and record.extra[REMOVED_KEY] == {"o": "n1 (127.0.0.3)"}
    [found] = incomplete_outputs(ws, record).values()
    assert found.removed_on == "n1 (127.0.0.3)"
    assert "could not be kept on Ray node n1 (127.0.0.3): it was removed there" in found.sentence()
    said = cli(ws.root, "job", "finalize", "--name", "j1")
    assert said.returncode != 0 and "Traceback" not in said.stderr
    assert "could not be kept on Ray node n1 (127.0.0.3)" in said.stderr, said.stderr
