"""An output that could not be made durable is named in its job's record as data, not only in its error's
text: ``extra["outputs_not_durable"]`` = {output: {"failed": files not made durable, "total": of how many
(when the transfer counted them), "staged": where its staged data is kept}}, written by the one status
write that records the failure. The counts come with the failure itself (``TransferFailed`` ->
``TransferError``), through the upload strategy's own error; a Ray node's result carries the field back.

Real runs of a local-process job (its upload to the local default datastore meeting a full disk after two
files: ``NoFollowFolders.move_in`` raising ENOSPC), an upload to an in-memory store that refuses one of
three files; everything in this test's tmp folder."""

from __future__ import annotations

import errno
import itertools
import json
import os
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from mounts.base import Target
from mounts.errors import TransferFailed
from mounts.transfer import nofollow
from mounts.upload import UploadStrategy
from runner import Output, command
from runner.errors import TransferError
from runner.jobs import operations as jobs
from runner.jobs.node import result_of
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow
from runner.workspace.transfers import translated
from runner.workspace.upload_state import NOT_DURABLE_KEY

FILES = 5
WRITE = f"for i in $(seq 1 {FILES}); do echo $i > ${{{{outputs.o}}}}/f$i.txt; done"


@pytest.fixture
def disk_full_after_two(monkeypatch: pytest.MonkeyPatch) -> None:
    real = nofollow.NoFollowFolders.move_in
    moves = itertools.count()

    def move_in(self: nofollow.NoFollowFolders, source: Path, rel: str) -> None:
        if next(moves) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(source))
        real(self, source, rel)

    monkeypatch.setattr(nofollow.NoFollowFolders, "move_in", move_in)


def test_a_failed_upload_is_recorded_as_data_in_the_write_that_ends_the_job(
        tmp_path: Path, disk_full_after_two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    writes: list[dict[str, Any]] = []
    real_update = Workspace.update_job

    def update_job(self: Workspace, name: str, **fields: Any) -> Any:
        writes.append({"status": fields.get("status"),  # the whole extra, or the keys merged into it
                       "extra": fields.get("extra") or fields.get("merge_extra") or {}})
        return real_update(self, name, **fields)

    monkeypatch.setattr(Workspace, "update_job", update_job)
    job = command(command=WRITE, outputs={"o": Output(type="uri_folder", mode="upload")},
                  environment="does-not-matter:1", compute="local-process")
    jobs.JobOperations(ws).create_or_update(job, name="nd1", stream=True, echo=lambda _chunk: None)
    record = ws.get_job("nd1")
    staged = ws.job_dir("nd1").outputs / "o"
    assert record.status is JobStatus.FAILED and "could not be made durable" in (record.error or "")
    assert record.extra[NOT_DURABLE_KEY] == {"o": {"failed": FILES - 2, "total": None, "staged": str(staged)}}
    [ending] = [w for w in writes if w.get("status") is JobStatus.FAILED]
    assert ending["extra"][NOT_DURABLE_KEY] == record.extra[NOT_DURABLE_KEY]  # in that write, not after
    assert writes[-1] is ending
    assert json.loads(json.dumps(record.extra[NOT_DURABLE_KEY])) == record.extra[NOT_DURABLE_KEY]


def test_a_job_whose_outputs_were_made_durable_records_none(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    job = command(command=f"{WRITE}; exit 3", outputs={"o": Output(type="uri_folder", mode="upload")},
                  environment="does-not-matter:1", compute="local-process")
    jobs.JobOperations(ws).create_or_update(job, name="nd2", stream=True, echo=lambda _chunk: None)
    record = ws.get_job("nd2")
    assert record.status is JobStatus.FAILED and NOT_DURABLE_KEY not in record.extra


class _Refusing(MemoryFileSystem):
    """The memory store; writes of ``bad.txt`` fail (not a connection error: not retried)."""

    def pipe_file(self, path: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        if Path(path).name == "bad.txt":
            raise PermissionError(errno.EACCES, "refused by the store", path)
        super().pipe_file(path, value, *args, **kwargs)


def test_an_uploads_counts_come_with_its_failure_through_the_strategy_and_the_boundary(
        tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    for name in ("a.txt", "bad.txt", "c.txt"):
        (staged / name).write_text(name)
    fs = _Refusing()
    root = f"/not-durable-{os.urandom(4).hex()}"
    try:
        with pytest.raises(TransferFailed) as caught:
            UploadStrategy(quiet=True).finalize(Target(fs=fs, path=root, url=f"memory://{root}"), staged)
    finally:
        if fsspec.filesystem("memory").exists(root):
            fsspec.filesystem("memory").rm(root, recursive=True)
    failure = caught.value
    assert (failure.failed, failure.total, failure.staged) == (["bad.txt"], 3, staged)
    with pytest.raises(TransferError) as crossed, translated("output 'o' (upload to memory://x)"):
        raise failure
    assert (crossed.value.failed, crossed.value.total, crossed.value.staged) == (["bad.txt"], 3, staged)


def test_a_ray_nodes_result_carries_the_record_back() -> None:
    field = {"o": {"failed": 2, "total": 7, "staged": "/node/ws/jobs/j1/outputs/o"}}
    result = result_of(JobRecord(name="j1", status=JobStatus.FAILED, exit_code=0, ended_at=utcnow(),
                                 error="outputs could not be made durable: ...",
                                 extra={NOT_DURABLE_KEY: field, "plan": {"secret": "stays on the node"}}))
    assert result["extra"][NOT_DURABLE_KEY] == field and "plan" not in result["extra"]
