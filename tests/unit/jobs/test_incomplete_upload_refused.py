"""An output whose upload did not finish (its store ran out of space or went away mid-upload, or the runner
was killed while it uploaded) is never downloaded nor registered as if it were whole: `job download` and a
registration of ``azureml://jobs/<job>/outputs/<o>`` refuse with one error that says it was not fully
uploaded, how many files are missing when the record says, where its data is kept and what to do. "Never
uploaded" is said only when nothing was. A Failed job whose output was uploaded whole (its command failed
after writing it) still downloads and registers, with the warning that it may be partial.

The records are the ones a real run writes: a local-process job whose upload to the (local) default
datastore meets a full disk after two files (``NoFollowFolders.move_in`` raising ENOSPC, as a full tmpfs
does), and a record a dead runner's recovery (``mark_lost``) ends. Everything in this test's tmp folder."""

from __future__ import annotations

import errno
import itertools
import logging
import os
from pathlib import Path

import pytest

from mounts.transfer import nofollow
from runner import Output, command
from runner.client import MLClient
from runner.errors import JobError, RegistryError
from runner.jobs import operations as jobs
from runner.jobs.download import download_outputs
from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, mark_lost
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus, Workspace

FILES = 5


def _run(ws: Workspace, name: str, script: str, *, upload_on_failure: bool = True) -> JobRecord:
    job = command(command=script, outputs={"o": Output(type="uri_folder", mode="upload")},
                  environment="does-not-matter:1", compute="local-process")
    jobs.JobOperations(ws).create_or_update(job, name=name, stream=True, echo=lambda _chunk: None,
                                            upload_on_failure=upload_on_failure)
    return ws.get_job(name)


WRITE = f"for i in $(seq 1 {FILES}); do echo $i > ${{{{outputs.o}}}}/f$i.txt; done"


@pytest.fixture
def disk_full_after_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """The datastore's disk fills up once two files are moved into place."""
    real = nofollow.NoFollowFolders.move_in
    moves = itertools.count()

    def move_in(self: nofollow.NoFollowFolders, source: Path, rel: str) -> None:
        if next(moves) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(source))
        real(self, source, rel)

    monkeypatch.setattr(nofollow.NoFollowFolders, "move_in", move_in)


def _register(ws: Workspace, path: str, kind: str) -> object:
    client = MLClient(workspace_dir=ws.root)
    if kind == "model":
        return client.models.create_or_update(Model(name="m", path=path))
    return client.data.create_or_update(Data(name="d", path=path, type="uri_folder"))


def test_an_upload_cut_short_by_a_full_disk_is_neither_downloaded_nor_registered(
        tmp_path: Path, disk_full_after_two: None) -> None:
    ws = Workspace(tmp_path / "ws")
    record = _run(ws, "full1", WRITE)
    staged = ws.job_dir("full1").outputs / "o"
    target = ws.default_datastore_root / "azureml" / "full1" / "o"
    assert record.status is JobStatus.FAILED and record.exit_code == 0
    assert sorted(p.name for p in target.iterdir()) == ["f1.txt", "f2.txt"]  # 2 of 5 reached it
    assert len(list(staged.iterdir())) == FILES - 2

    dl = tmp_path / "dl"
    with pytest.raises(JobError) as refused:
        download_outputs(ws, record, ["o"], dl)
    text = refused.value.render()
    assert "output 'o' was not fully uploaded" in text and "never uploaded" not in text
    assert f"({FILES - 2} files could not be uploaded)" in text
    assert str(staged) in text and str(target) in text
    assert "run the job again" in text and "\n  hint: " in text and "Traceback" not in text
    assert not (dl / "named-outputs").exists()  # not 2 of 5 files as if they were the output

    with pytest.raises(JobError) as all_refused:  # --all: what is whole is downloaded, o is named
        download_outputs(ws, record, ["artifacts", "o"], dl, every=True)
    text = all_refused.value.render()
    assert "output 'o' was not fully uploaded" in text and f"downloaded: {dl / 'artifacts'}" in text
    assert not (dl / "named-outputs").exists()

    for kind in ("model", "data"):
        with pytest.raises(RegistryError) as not_registered:
            _register(ws, "azureml://jobs/full1/outputs/o", kind)
        err = not_registered.value
        assert err.field == "path" and "output 'o' was not fully uploaded" in err.message
        assert str(staged) in err.message and "never uploaded" not in err.message
        assert "run the job again" in (err.hint or "")
    with pytest.raises(RegistryError, match="not fully uploaded"):  # a path inside it too
        _register(ws, "azureml://jobs/full1/outputs/o/paths/f1.txt", "model")


def _killed_while_uploading(ws: Workspace, name: str, *, reached: int) -> tuple[JobRecord, Path, Path]:
    """A job whose runner was killed while it moved its upload output ``o`` into place: ``reached`` of
    its files are at the target, the others still staged; its end as recovery records it."""
    staged = ws.job_dir(name).outputs / "o"
    target = ws.default_datastore_root / "azureml" / name / "o"
    for folder in (staged, target):
        folder.mkdir(parents=True)
    for i in range(FILES):
        ((target if i < reached else staged) / f"f{i}.txt").write_text(str(i))
    record = ws.create_job(JobRecord(
        name=name, status=JobStatus.FINALIZING, runner_pid=1, job_dir=str(ws.job_dir(name)),
        extra={NO_UPLOAD_ON_FAILURE: False},
        outputs={"o": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/o/"}))
    return mark_lost(ws, record), staged, target


def test_a_runner_killed_mid_upload_says_not_fully_uploaded_and_is_not_registered(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ended, staged, target = _killed_while_uploading(ws, "killed1", reached=2)
    with pytest.raises(JobError) as refused:
        download_outputs(ws, ended, ["o"], tmp_path / "dl")
    text = refused.value.render()
    assert "output 'o' was not fully uploaded" in text and "never uploaded" not in text
    assert "runner process (pid 1) died" in text and str(staged) in text and str(target) in text
    assert not (tmp_path / "dl" / "named-outputs").exists()
    with pytest.raises(RegistryError) as not_registered:
        _register(ws, "azureml://jobs/killed1/outputs/o", "model")
    assert "output 'o' was not fully uploaded" in not_registered.value.message
    assert str(staged) in not_registered.value.message


def test_a_runner_killed_before_uploading_anything_says_never_uploaded(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ended, staged, _target = _killed_while_uploading(ws, "killed2", reached=0)
    with pytest.raises(JobError) as refused:
        download_outputs(ws, ended, ["o"], tmp_path / "dl")
    assert f"never uploaded and stayed staged (o in {staged})" in refused.value.render()
    with pytest.raises(RegistryError) as not_registered:
        _register(ws, "azureml://jobs/killed2/outputs/o", "data")
    assert "output 'o' was never uploaded" in not_registered.value.message
    assert str(staged) in not_registered.value.message


def test_a_held_back_output_is_not_registered_and_says_never_uploaded(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = _run(ws, "held1", f"{WRITE}; exit 3", upload_on_failure=False)
    staged = ws.job_dir("held1").outputs / "o"
    assert record.status is JobStatus.FAILED and record.extra["held_back_outputs"]["o"] == str(staged)
    with pytest.raises(RegistryError) as not_registered:
        _register(ws, "azureml://jobs/held1/outputs/o", "model")
    err = not_registered.value
    assert "output 'o' was never uploaded" in err.message and "--no-upload-on-failure" in err.message
    assert str(staged) in err.message and "before its output" not in err.message


def test_a_failed_command_whose_output_was_uploaded_whole_still_downloads_and_registers(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace(tmp_path / "ws")
    record = _run(ws, "cmdfail1", f"{WRITE}; exit 3")
    assert record.status is JobStatus.FAILED and record.exit_code == 3
    [got] = download_outputs(ws, record, ["o"], tmp_path / "dl")
    assert sorted(p.name for p in got.iterdir()) == [f"f{i}.txt" for i in range(1, FILES + 1)]
    with caplog.at_level(logging.WARNING, logger="runner.workspace.job_output_state"):
        model = _register(ws, "azureml://jobs/cmdfail1/outputs/o", "model")
    assert getattr(model, "job_name", None) == "cmdfail1"
    assert "may be partial (what it wrote before it ended)" in caplog.text
