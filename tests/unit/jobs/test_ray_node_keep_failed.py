"""A Ray node whose move of an output's staged data into the keep folder fails: that data goes with the
node workspace, and the result says so everywhere alike (``runner.jobs.node_keep``): not in
``outputs_kept_on_node``, in ``outputs_removed_on_node`` and a warning, no longer held back or staged,
and the error's line and hint for it no longer say it is kept on the node (another output, kept, still
is). The move fails for real: the keep folder already holds a non-empty ``u`` (rename refuses to replace
it), the keep folder's name fixed by the test. On the submitting side the record's outputs say the data
is gone and ``runner job finalize`` refuses it with that. Everything in the test's tmp folder."""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path
from typing import Any

import pytest

from runner import Output, command
from runner.errors import JobError, TransferError
from runner.jobs import finalize_later
from runner.jobs.node import staged_rerooted
from runner.jobs.node_keep import keep_staged
from runner.jobs.operations import JobOperations, _as_spec
from runner.jobs.ray_result import keep_own_staged, node_result
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.transfers import staged_hint
from runner.workspace.upload_state import KEPT_KEY, NOT_DURABLE_KEY, REMOVED_KEY, incomplete_outputs

JOB = "j1"
HOST = socket.gethostname()


def _node(tmp_path: Path) -> tuple[Path, Path]:
    """A node dir and the job folder of its node workspace, outputs u and r each holding one file."""
    node_dir = tmp_path / "node"
    root = node_dir / "runner-ray-j1-x" / "ws" / "jobs" / JOB
    for name in ("u", "r"):
        (root / "outputs" / name).mkdir(parents=True)
        (root / "outputs" / name / f"{name}.txt").write_text(name)
    return node_dir, root


def _failed_result(outputs: Path) -> dict[str, Any]:
    """Both uploads failed, as the node's run ends such a job: each error with its hint (kept on this
    node) and its staged path."""
    errors = [TransferError(f"output '{n}' (upload to azureml://datastores/s/paths/{n}): 1 file(s) could not "
                            "be uploaded", failed=[f"{n}.txt"], staged=outputs / n, total=1,
                            hint=staged_hint(JOB, node=HOST)) for n in ("r", "u")]
    return {"status": "Failed", "exit_code": 0,
            "error": "outputs could not be made durable:\n" + "\n".join(e.render() for e in errors),
            "extra": {NOT_DURABLE_KEY: {n: {"failed": 1, "total": 1, "staged": str(outputs / n)}
                                        for n in ("r", "u")}}}


@pytest.fixture
def kept_but_u(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Path, Path]:
    node_dir, job_dir = _node(tmp_path)
    keep = node_dir / f"runner-kept-{JOB}-fixed"
    (keep / "u").mkdir(parents=True)
    (keep / "u" / "there").write_text("in the way")  # os.rename onto a non-empty folder fails
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **_: str(keep))
    result = keep_staged(_failed_result(job_dir / "outputs"), job_dir / "outputs", node_dir, JOB)
    return result, job_dir, keep


def test_what_could_not_be_kept_is_named_removed_everywhere(
        kept_but_u: tuple[dict[str, Any], Path, Path]) -> None:
    result, job_dir, keep = kept_but_u
    extra = result["extra"]
    assert set(extra[KEPT_KEY]) == {"r"} and extra[KEPT_KEY]["r"]["path"] == str(keep / "r")
    assert extra[REMOVED_KEY] == {"u": HOST}
    [warning] = extra["warnings"]
    assert warning.startswith("outputs.u: its staged data could not be kept") and "removed" in warning
    assert extra[NOT_DURABLE_KEY]["u"]["staged"] is None  # no longer says where it is staged
    assert extra[NOT_DURABLE_KEY]["r"]["staged"] == str(job_dir / "outputs" / "r")
    error = result["error"]
    u_part = error[error.index("output 'u'"):]
    r_part = error[error.index("output 'r'"):error.index("output 'u'")]
    assert "kept on Ray node" not in u_part and "staged data kept at" not in u_part, u_part
    assert f"staged data not kept: {job_dir / 'outputs' / 'u'} was removed" in u_part
    assert "hint: its staged data is gone: run the job again" in u_part
    assert staged_hint(JOB, node=HOST) in r_part and f"staged data kept at: {keep / 'r'}" in r_part, r_part


def test_the_submitting_side_says_it_is_gone_and_finalize_refuses_it(
        kept_but_u: tuple[dict[str, Any], Path, Path], tmp_path: Path) -> None:
    result, job_dir, keep = kept_but_u
    ws = Workspace(tmp_path / "ws")
    result = staged_rerooted(result, str(job_dir), str(ws.job_dir(JOB).root))  # as the node sends it
    sent, dropped = node_result(json.dumps(result).encode())
    assert not dropped
    outputs = ws.job_dir(JOB).outputs
    assert keep_own_staged(sent["extra"], outputs, {"u", "r"}) is None  # REMOVED_KEY taken as it is
    assert sent["extra"][REMOVED_KEY] == {"u": HOST}
    job = command(command="true", environment="not-used:1", compute="local-process",
                  outputs={n: Output(type="uri_folder", mode="upload") for n in ("u", "r")})
    JobOperations(ws).submit(_as_spec(job), name=JOB)  # its stored plan; then ended as the follower ends it
    ws.update_job(JOB, status=JobStatus.FAILED, exit_code=0, error=sent["error"],
                  merge_extra={**sent["extra"], "ray": {"job_id": "raysubmit_x"}})
    found = incomplete_outputs(ws, ws.get_job(JOB), check=False)
    assert found["u"].removed_on == HOST and found["r"].node == HOST
    assert "it was removed there" in found["u"].sentence() and found["u"].hint() == "run the job again"
    assert f"kept on Ray node {HOST} at {keep / 'r'}" in found["r"].sentence()
    done = finalize_later.finalize_outputs(ws, JOB)
    assert not done.done and set(done.failed) == {"u", "r"}
    assert isinstance(done.failed["u"], JobError)
    gone = done.failed["u"].message
    assert "could not be kept on Ray node" in gone and "removed" in gone, gone
    assert f"is kept on Ray node {HOST}" in done.failed["r"].message
