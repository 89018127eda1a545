"""An unexpected error after the job's command ran: its outputs are not uploaded (they may be incomplete)
and stay staged, and the record says which and where, so `job show` and `job download` can tell."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Output, command
from runner.errors import JobError
from runner.jobs import operations as jobs
from runner.jobs import run as run_module
from runner.jobs.download import download_outputs
from runner.workspace.db import JobStatus, Workspace


def test_an_error_after_the_command_records_the_outputs_it_left_staged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[str]:
        raise RuntimeError("collecting broke")

    monkeypatch.setattr(run_module, "collect_artifacts", broken)
    ws = Workspace(tmp_path / "ws")
    job = command(command="echo result > ${{outputs.o}}/r.txt", outputs={"o": Output(type="uri_folder",
                                                                                      mode="upload")},
                  environment="does-not-matter:1", compute="local-process")
    with pytest.raises(RuntimeError, match="collecting broke"):
        jobs.JobOperations(ws).create_or_update(job, name="err1", stream=True, echo=lambda _chunk: None)
    record = ws.get_job("err1")
    staged = ws.job_dir("err1").outputs / "o"
    assert record.status is JobStatus.FAILED and "collecting broke" in (record.error or "")
    assert (staged / "r.txt").read_text() == "result\n"
    assert record.extra["held_back_outputs"] == {"o": str(staged)}
    assert record.outputs_partial
    with pytest.raises(JobError) as refused:
        download_outputs(ws, record, ["o"], tmp_path / "dl")
    assert f"never uploaded and stayed staged (o in {staged})" in refused.value.render()
