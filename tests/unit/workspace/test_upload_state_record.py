"""How ``upload_state`` learns that an output's upload failed, how many of its files did not get there and
where its staged data is kept: from the record's ``extra["outputs_not_durable"]`` (what the runner writes
since it has one), whatever its error's wording; from the error's text only for a record written before
(no such key), as it always did. Records made by hand in this test's tmp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.upload_state import NOT_DURABLE_KEY, incomplete_outputs

TARGET = "azureml://datastores/workspaceblobstore/paths/azureml/{name}/o/"


def _record(ws: Workspace, name: str, error: str, extra: dict[str, Any] | None = None,
            staged_files: int = 3) -> tuple[JobRecord, Path]:
    """A Failed job whose upload output ``o`` (to the local default datastore) kept ``staged_files``
    staged, none at its target."""
    staged = ws.job_dir(name).outputs / "o"
    staged.mkdir(parents=True)
    for i in range(staged_files):
        (staged / f"f{i}.txt").write_text(str(i))
    record = ws.create_job(JobRecord(name=name, status=JobStatus.FAILED, job_dir=str(ws.job_dir(name)),
                                     error=error, outputs={"o": TARGET.format(name=name)},
                                     extra=extra or {}))
    return record, staged


def test_the_structured_record_is_read_whatever_the_error_says(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record, staged = _record(ws, "s1", "finalization went wrong (some new wording)", {
        NOT_DURABLE_KEY: {"o": {"failed": 3, "total": 5, "staged": str(ws.job_dir("s1").outputs / "o")}}})
    [(name, found)] = incomplete_outputs(ws, record).items()
    assert name == "o" and (found.missing, found.total, found.kept_at) == (3, 5, staged)
    assert found.reached is True  # 2 of 5 got there: the record says so, the target is not looked at
    assert found.why == "its upload failed (the job's error says why)"
    assert "(3 of 5 files could not be uploaded)" in found.sentence()


def test_the_structured_record_wins_over_the_errors_text(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    text = ("outputs could not be made durable:\noutput 'o' (upload to x): 9 of 9 file(s) could not be "
            "uploaded\n  staged data kept at: /nowhere")
    record, staged = _record(ws, "s2", text, {NOT_DURABLE_KEY: {"o": {"failed": 1, "total": None,
                                                                     "staged": str(tmp_path / "gone")}}})
    found = incomplete_outputs(ws, record)["o"]
    assert (found.missing, found.total) == (1, None)
    assert found.kept_at == staged  # the structured staging folder is not there: the job's own


def test_an_output_the_record_names_without_counts_is_still_incomplete(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record, staged = _record(ws, "s3", "failed", {NOT_DURABLE_KEY: {"o": {"failed": None, "total": None,
                                                                         "staged": None}}},
                             staged_files=0)
    found = incomplete_outputs(ws, record)["o"]
    assert found.missing is None and found.kept_at == staged and found.reached is False
    assert found.why == "its upload failed (the job's error says why)"


def test_a_record_written_before_is_read_from_its_errors_text(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    kept = ws.job_dir("old1").outputs / "o"
    text = ("the command exited with code 0\noutputs could not be made durable:\noutput 'o' (upload to "
            "azureml://x): 3 of 5 file(s) could not be uploaded (f2.txt: OSError: no space)\n"
            f"  staged data kept at: {kept}")
    record, staged = _record(ws, "old1", text)
    assert NOT_DURABLE_KEY not in record.extra
    found = incomplete_outputs(ws, record)["o"]
    assert (found.missing, found.total, found.kept_at, found.reached) == (3, 5, staged, True)


def test_a_malformed_structured_entry_says_nothing_rather_than_failing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record, staged = _record(ws, "bad1", "failed", {NOT_DURABLE_KEY: {"o": {"failed": "three", "total": True,
                                                                           "staged": 7}, "p": "x"}})
    found = incomplete_outputs(ws, record)
    assert sorted(found) == ["o", "p"]
    assert (found["o"].missing, found["o"].total, found["o"].kept_at) == (None, None, staged)
