"""``runner.jobs.finalize_later``'s decisions (pure: which jobs and outputs may be finalized, the status once
they are durable) and its refusals on records made in this test's tmp folder: a job that has not ended, a
Ray job whose staged data is not in this workspace, and a second finalize that waited for the first one's
lock (it reads the record again under the lock and finds nothing left to do)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from runner import Output, command
from runner.errors import JobError
from runner.jobs import finalize_later
from runner.jobs.finalize_later import (
    choose_outputs,
    finalize_outputs,
    mount_cut,
    refuse_reason,
    status_once_durable,
    without,
)
from runner.jobs.operations import JobOperations, _as_spec
from runner.jobs.recovery import job_lock
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.upload_state import NOT_DURABLE, NOT_DURABLE_KEY

NOT_DURABLE_ERROR = f"{NOT_DURABLE}\noutput 'o' (upload to x): 1 of 2 file(s) could not be uploaded"


def _record(status: JobStatus = JobStatus.FAILED, **fields: Any) -> JobRecord:
    return JobRecord(name="j", status=status, **fields)


def test_only_an_ended_command_job_is_finalized() -> None:
    for status in (JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING):
        why = refuse_reason(_record(status))
        assert why is not None and f"is {status.value}" in why
    assert "is a pipeline" in str(refuse_reason(_record(spec={"type": "pipeline"})))
    assert refuse_reason(_record()) is None and refuse_reason(_record(JobStatus.CANCELED)) is None


def test_the_outputs_chosen_and_what_is_said_when_there_are_none() -> None:
    assert choose_outputs(_record(), ["a", "o"], None) == ["a", "o"]
    assert choose_outputs(_record(), ["a", "o"], ["o", "o"]) == ["o"]
    with pytest.raises(JobError, match="nothing to finalize for output\\(s\\) x: the output\\(s\\) it can "
                                       "finalize: a, o") as err:
        choose_outputs(_record(), ["a", "o"], ["o", "x"])
    assert err.value.field == "--output-name"
    with pytest.raises(JobError, match="no output to finalize: it completed"):
        choose_outputs(_record(JobStatus.COMPLETED), [], None)
    with pytest.raises(JobError, match="no output to finalize: every output it has reached its location"):
        choose_outputs(_record(), [], ["o"])


def test_a_job_that_failed_only_at_making_its_outputs_durable_completes_once_they_are() -> None:
    only = _record(exit_code=0, error=NOT_DURABLE_ERROR)
    assert status_once_durable(only, set()) is JobStatus.COMPLETED
    assert status_once_durable(only, {"other"}) is JobStatus.FAILED  # not all durable yet
    # its command failed, or something else failed first, or it held outputs back: it stays as it is
    assert status_once_durable(_record(exit_code=1, error=NOT_DURABLE_ERROR), set()) is JobStatus.FAILED
    assert status_once_durable(_record(exit_code=None, error=NOT_DURABLE_ERROR), set()) is JobStatus.FAILED
    timed_out = _record(exit_code=0, error=f"the job timed out after 5 s\n{NOT_DURABLE_ERROR}")
    assert status_once_durable(timed_out, set()) is JobStatus.FAILED
    held = _record(exit_code=0, error=NOT_DURABLE_ERROR, extra={"held_back_outputs": {"o": "/x"}})
    assert status_once_durable(held, set()) is JobStatus.FAILED
    canceled = _record(JobStatus.CANCELED, exit_code=0, error=NOT_DURABLE_ERROR)
    assert status_once_durable(canceled, set()) is JobStatus.CANCELED


def test_a_remote_mount_that_ended_under_the_job_is_not_finalized() -> None:
    cut = ("outputs could not be made durable:\noutput 'r' (rw_mount to x): the mount of abfs://c/r ended "
           "while the job still had files open; 1 file(s) still open then were not uploaded")
    assert mount_cut(_record(error=cut), "abfs://c/r")
    assert not mount_cut(_record(error=cut), "abfs://c/other") and not mount_cut(_record(), "abfs://c/r")


def test_finalized_outputs_leave_the_records_lists() -> None:
    extra = {NOT_DURABLE_KEY: {"a": {}, "o": {}}, "held_back_outputs": ["not", "a", "dict"]}
    assert without(extra, NOT_DURABLE_KEY, {"o"}) == {"a": {}}
    assert without(extra, "held_back_outputs", {"o"}) == {} and without(extra, "absent", {"o"}) == {}


def _held_back_job(ws: Workspace, name: str, *, files: int = 1, **extra: Any) -> JobRecord:
    """A submitted job made to look Failed with its upload output ``o`` held back (``files`` staged)."""
    job = command(command="exit 1", outputs={"o": Output(type="uri_folder", mode="upload")},
                  environment="not-used:1", compute="local-process")
    JobOperations(ws).submit(_as_spec(job), name=name)
    staged = ws.job_dir(name).outputs / "o"
    staged.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (staged / f"f{i}.txt").write_text(str(i))
    return ws.update_job(name, status=JobStatus.FAILED, exit_code=1, error="the command exited with code 1",
                         merge_extra={"held_back_outputs": {"o": str(staged)}, **extra})


def test_a_job_that_has_not_ended_is_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _held_back_job(ws, "r1")
    ws.update_job("r1", status=JobStatus.RUNNING)
    with pytest.raises(JobError, match="cannot finalize: job 'r1' is Running") as err:
        finalize_outputs(ws, "r1")
    assert "runner job stream --name r1" in str(err.value.hint)
    assert "held_back_outputs" in ws.get_job("r1").extra and (ws.job_dir("r1").outputs / "o").is_dir()


def test_a_ray_jobs_output_whose_staged_data_is_not_here_is_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _held_back_job(ws, "ray1", files=0, ray={"job_id": "raysubmit_x"})
    result = finalize_outputs(ws, "ray1")
    assert result.done == [] and list(result.failed) == ["o"]
    assert "ran on a Ray cluster" in result.failed["o"].message
    record = ws.get_job("ray1")
    assert record.status is JobStatus.FAILED and "o" in record.extra["held_back_outputs"]
    assert record.extra["finalized"][-1]["failed"] == ["o"]


def test_a_second_finalize_waits_for_the_lock_and_finds_nothing_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    record = _held_back_job(ws, "l1")
    first_read = threading.Event()
    real_get = Workspace.get_job

    def get_job(self: Workspace, name: str) -> JobRecord:
        first_read.set()
        return real_get(self, name)

    errors: list[BaseException] = []

    def second() -> None:
        try:
            finalize_outputs(Workspace(ws.root), "l1")
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    with job_lock(ws, record):  # the first finalize holds the job
        monkeypatch.setattr(Workspace, "get_job", get_job)
        thread = threading.Thread(target=second)
        thread.start()
        first_read.wait()  # the second read the record before the lock: it waits for it now
        monkeypatch.setattr(Workspace, "get_job", real_get)
        ws.update_job("l1", extra={**record.extra, "held_back_outputs": {}})  # the first one's end
        for path in (ws.job_dir("l1").outputs / "o").iterdir():
            path.unlink()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], JobError), errors
    assert "job 'l1' has no output to finalize" in errors[0].message
    assert finalize_later.FINALIZED not in ws.get_job("l1").extra
