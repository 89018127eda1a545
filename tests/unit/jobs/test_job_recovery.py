"""What a dead runner's record says it left behind: only outputs that still hold files, named."""

from __future__ import annotations

import os
from pathlib import Path

from runner.jobs.recovery import mark_lost, process_start_time, staged_outputs
from runner.workspace.db import JobRecord, JobStatus, Workspace


def test_only_outputs_holding_files_are_reported_with_their_files(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    outputs = ws.job_dir("lost").outputs
    (outputs / "rw" / "mnt").mkdir(parents=True)  # an rw_mount's mountpoint: nothing staged
    (outputs / "up" / "sub").mkdir(parents=True)
    (outputs / "up" / "sub" / "b.txt").write_text("b")
    (outputs / "up" / "a.txt").write_text("a")
    record = ws.create_job(JobRecord(name="lost", status=JobStatus.RUNNING, runner_pid=1,
                                     job_dir=str(ws.job_dir("lost"))))
    assert staged_outputs(ws, record) == {outputs / "up": (2, ["a.txt", "sub/b.txt"])}
    ended = mark_lost(ws, record)
    assert ended.status is JobStatus.FAILED and ended.outputs_partial
    assert ended.error is not None
    assert f"staged outputs kept at: {outputs / 'up'} (2 files: a.txt, sub/b.txt)" in ended.error
    assert str(outputs / "rw") not in ended.error


def test_process_identity() -> None:
    mine = process_start_time(os.getpid())
    assert mine is not None and mine == process_start_time(os.getpid())
    assert process_start_time(2**22 + 12345) is None


def test_downloading_an_output_a_dead_runner_left_staged_says_where_it_is(tmp_path: Path) -> None:
    import pytest

    from runner.errors import JobError
    from runner.jobs.download import download_outputs

    ws = Workspace(tmp_path / "ws")
    outputs = ws.job_dir("killed").outputs
    (outputs / "out").mkdir(parents=True)
    (outputs / "out" / "model.bin").write_text("m")
    record = ws.create_job(JobRecord(name="killed", status=JobStatus.RUNNING, runner_pid=1,
                                     job_dir=str(ws.job_dir("killed")),
                                     outputs={"out": "azureml://datastores/workspaceblobstore/paths/azureml/killed/out/"}))
    ended = mark_lost(ws, record)
    with pytest.raises(JobError) as refused:
        download_outputs(ws, ended, ["out"], tmp_path / "dl")
    text = refused.value.render()
    assert "before writing it" not in text
    assert "never uploaded" in text and "runner process" in text and str(outputs / "out") in text
    assert f"cp -r {outputs / 'out'} DEST" in text
