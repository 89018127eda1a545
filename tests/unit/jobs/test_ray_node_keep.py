"""On a Ray node, what a job that did not complete left staged (held back, its upload failed, left by an
error) is moved into an owner-only keep folder of the job in the node dir before the node workspace is
removed, and the result names it per output (host, path, files); its error names the kept path. Only the
outputs' own staging folders are taken (no link followed, nothing else of the workspace); a completed job
keeps nothing. Everything in the test's tmp folder."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from runner.jobs.node import staged_rerooted
from runner.jobs.node_keep import keep_staged, moved_paths, to_keep
from runner.jobs.ray_result import node_kept_path
from runner.workspace.upload_state import KEPT_KEY, NOT_DURABLE_KEY

JOB = "j1"


@pytest.fixture
def job_dir(tmp_path: Path) -> Path:
    """A node workspace's job folder: outputs u (whole, held back), r (rw_mount: what was not uploaded in
    its ``staged``), e (empty), a datastore credential beside them."""
    root = tmp_path / "node" / "runner-ray-j1-x" / "ws" / "jobs" / JOB
    (root / "outputs" / "u" / "sub").mkdir(parents=True)
    (root / "outputs" / "u" / "a.txt").write_text("a")
    (root / "outputs" / "u" / "sub" / "b.txt").write_text("b")
    (root / "outputs" / "r" / "staged").mkdir(parents=True)
    (root / "outputs" / "r" / "mnt").mkdir()
    (root / "outputs" / "r" / "staged" / "late.bin").write_text("late")
    (root / "outputs" / "e").mkdir()
    (root.parent.parent / "datastores").mkdir()
    (root.parent.parent / "datastores" / "az.json").write_text('{"account_key": "SECRET"}')
    return root


def _result(job_dir: Path, status: str = "Failed") -> dict[str, Any]:
    outputs = job_dir / "outputs"
    error = f"kept staged: u in {outputs / 'u'}; staged data kept at: {outputs / 'r' / 'staged'}; not " \
        f"{outputs / 'u2'}"
    not_durable = {"r": {"failed": 1, "total": 2, "staged": str(outputs / "r" / "staged")}}
    return {"status": status, "error": error,
            "extra": {"held_back_outputs": {"u": str(outputs / "u")}, NOT_DURABLE_KEY: not_durable}}


def test_held_back_and_not_uploaded_data_is_moved_to_an_owner_only_keep_folder(job_dir: Path) -> None:
    node_dir = job_dir.parents[3]
    result = keep_staged(_result(job_dir), job_dir / "outputs", node_dir, JOB)
    kept = result["extra"][KEPT_KEY]
    assert set(kept) == {"u", "r"}  # e holds nothing
    folder = Path(kept["u"]["path"]).parent
    assert folder.parent == node_dir and folder.name.startswith(f"runner-kept-{JOB}-")
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700 and sorted(os.listdir(folder)) == ["r", "u"]
    assert kept["u"] == {"host": socket.gethostname(), "path": str(folder / "u"), "files": 2}
    assert kept["r"] == {"host": socket.gethostname(), "path": str(folder / "r"), "files": 1}
    assert (folder / "u" / "sub" / "b.txt").read_text() == "b"
    assert (folder / "r" / "late.bin").read_text() == "late"
    assert not (job_dir / "outputs" / "u").exists() and not (job_dir / "outputs" / "r" / "staged").exists()
    assert (job_dir.parents[1] / "datastores" / "az.json").exists()  # left for the workspace's removal
    assert result["error"] == (f"kept staged: u in {folder / 'u'}; staged data kept at: {folder / 'r'}; "
                               f"not {job_dir / 'outputs' / 'u2'}")
    assert all(node_kept_path(entry["path"], JOB, name) for name, entry in kept.items())
    # re-rooted for the submitting side as before: the kept paths are the node's and stay so
    sent = staged_rerooted(result, str(job_dir), "/submit/jobs/j1")
    assert sent["extra"]["held_back_outputs"] == {"u": "/submit/jobs/j1/outputs/u"}
    assert sent["extra"][KEPT_KEY] == kept


def test_a_completed_job_keeps_nothing(job_dir: Path) -> None:
    result = _result(job_dir, "Completed")
    assert keep_staged(result, job_dir / "outputs", job_dir.parents[3], JOB) == result
    assert (job_dir / "outputs" / "u" / "a.txt").exists()
    assert not list(job_dir.parents[3].glob("runner-kept-*"))


def test_a_job_that_names_nothing_keeps_the_staging_folders_that_hold_files(job_dir: Path) -> None:
    """An error that ended the run before its record said anything: what its staging folders hold."""
    result = keep_staged({"status": "Failed", "error": "boom"}, job_dir / "outputs", job_dir.parents[3], JOB)
    assert set(result["extra"][KEPT_KEY]) == {"u", "r"} and result["error"] == "boom"


def test_nothing_outside_the_outputs_own_staging_folders_is_taken(job_dir: Path, tmp_path: Path) -> None:
    planted = tmp_path / "host"
    planted.mkdir()
    (planted / "f").write_text("host file")
    outputs = job_dir / "outputs"
    (outputs / "l").symlink_to(planted)  # a link where a staging folder would be: never followed
    result = {"status": "Failed", "extra": {"held_back_outputs": {"u": str(planted), "l": str(outputs / "l"),
                                                                  "x": str(outputs / "u")}}}
    found = to_keep(result, outputs)
    assert found == {"u": outputs / "u", "r": outputs / "r"}  # u's own folder stands in for the planted one
    assert (planted / "f").read_text() == "host file"


def test_a_folder_that_cannot_be_moved_is_named_in_a_warning(job_dir: Path, tmp_path: Path) -> None:
    gone = tmp_path / "no-such-node-dir"
    result = keep_staged(_result(job_dir), job_dir / "outputs", gone, JOB)
    assert KEPT_KEY not in result["extra"]
    [warning] = result["extra"]["warnings"]
    assert warning.startswith("the staged outputs could not be kept on Ray node") and "removed" in warning


def test_moved_paths_replaces_whole_paths_only() -> None:
    moved = {"/n/jobs/j/outputs/o": "/n/runner-kept-j-1/o"}
    text = "a /n/jobs/j/outputs/o, b /n/jobs/j/outputs/o/x, c /n/jobs/j/outputs/o2, d /n/jobs/j/outputs/o"
    assert moved_paths(text, moved) == ("a /n/runner-kept-j-1/o, b /n/runner-kept-j-1/o/x, "
                                        "c /n/jobs/j/outputs/o2, d /n/runner-kept-j-1/o")
