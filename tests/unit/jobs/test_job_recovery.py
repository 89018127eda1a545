"""What a dead runner's record says it left behind: only outputs that still hold files, named."""

from __future__ import annotations

import os
from pathlib import Path

from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, mark_lost, process_start_time, staged_outputs
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


ARTIFACTS_AT = Path("datastores") / "workspaceblobstore" / "ExperimentRun"


def _killed_container_job(ws: Workspace, name: str, **extra: object) -> tuple[JobRecord, Path]:
    """A container job whose runner was killed while it ran: its artifacts (MLflow's artifact location)
    and its upload output ``o`` staged in its folder, each holding a file; the record and the outputs."""
    outputs = ws.job_dir(name).outputs
    (outputs / "artifacts" / "m").mkdir(parents=True)
    (outputs / "artifacts" / "m" / "a.txt").write_text("art")
    (outputs / "o").mkdir()
    (outputs / "o" / "r.txt").write_text("result")
    record = ws.create_job(JobRecord(
        name=name, status=JobStatus.RUNNING, runner_pid=1, job_dir=str(ws.job_dir(name)),
        extra={NO_UPLOAD_ON_FAILURE: False, **extra},  # as a runner writes it: the flag said either way
        outputs={"artifacts": f"azureml://datastores/workspaceblobstore/paths/ExperimentRun/dcid.{name}/",
                 "o": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/o/"}))
    return record, outputs


def test_a_dead_runners_staged_artifacts_are_moved_into_place(tmp_path: Path) -> None:
    """Recovery (a runner command, or the job's watchdog) does what the runner would have: the artifacts
    reach their place, so `job download` finds them; the named output stays staged, held back, named."""
    ws = Workspace(tmp_path / "ws")
    record, outputs = _killed_container_job(ws, "lost2")
    ended = mark_lost(ws, record)
    assert (ws.root / ARTIFACTS_AT / "dcid.lost2" / "m" / "a.txt").read_text() == "art"
    assert ended.extra["held_back_outputs"] == {"o": str(outputs / "o")}
    assert ended.error is not None and str(outputs / "artifacts") not in ended.error
    assert f"staged outputs kept at: {outputs / 'o'} (1 file: r.txt)" in ended.error
    assert (outputs / "o" / "r.txt").read_text() == "result"


def test_a_dead_runners_artifacts_stay_staged_when_it_held_back_on_failure(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record, outputs = _killed_container_job(ws, "lost3", **{NO_UPLOAD_ON_FAILURE: True})
    ended = mark_lost(ws, record)
    assert not (ws.root / ARTIFACTS_AT / "dcid.lost3").exists()
    assert ended.extra["held_back_outputs"] == {"artifacts": str(outputs / "artifacts"),
                                                "o": str(outputs / "o")}


def test_recovery_moves_no_artifact_through_a_link_the_job_planted(tmp_path: Path) -> None:
    """A link where the artifacts go is not followed: they stay staged, and the record says where."""
    ws = Workspace(tmp_path / "ws")
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    record, outputs = _killed_container_job(ws, "lost4")
    (ws.root / ARTIFACTS_AT).mkdir(parents=True)
    (ws.root / ARTIFACTS_AT / "dcid.lost4").symlink_to(decoy)
    ended = mark_lost(ws, record)
    assert list(decoy.iterdir()) == []
    assert (outputs / "artifacts" / "m" / "a.txt").read_text() == "art"
    assert ended.extra["held_back_outputs"] == {"artifacts": str(outputs / "artifacts"),
                                                "o": str(outputs / "o")}
    assert ended.error is not None and f"staged outputs kept at: {outputs / 'artifacts'}" in ended.error


def test_download_all_gets_every_output_it_can_and_names_the_held_back_ones(tmp_path: Path) -> None:
    """`job download --all` of a job whose runner died: the artifacts (moved into place) are downloaded;
    the output that stayed staged is named with where it is, in one error after the rest is done."""
    import pytest

    from runner.errors import JobError
    from runner.jobs.download import download_outputs

    ws = Workspace(tmp_path / "ws")
    record, outputs = _killed_container_job(ws, "lost5")
    ended = mark_lost(ws, record)
    dl = tmp_path / "dl"
    with pytest.raises(JobError) as refused:
        download_outputs(ws, ended, ["artifacts", "o"], dl, every=True)
    assert (dl / "artifacts" / "m" / "a.txt").read_text() == "art"
    assert not (dl / "named-outputs").exists()
    text = refused.value.render()
    assert f"never uploaded and stayed staged (o in {outputs / 'o'})" in text
    assert f"downloaded: {dl / 'artifacts'}" in text and f"cp -r {outputs / 'o'} DEST" in text
