"""A settled step row (Completed, Failed, Canceled, Skipped) of an ended pipeline is never put back to an
unsettled one by a reader that read the step before it ended: two readers of the pipeline (``job show``,
``job list``, the web UI) interleaved by hand, the stale one writing last. The rows are merged in the
write's own transaction against the stored ones (``update_job``'s ``merge_extra`` given a function of
the stored value), and what the stale reader is handed back is the settled row too.

Deterministic: reader A's read of the step jobs is made to happen, then the step ends and reader B
settles the row, then A writes. Everything in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.pipelines import step_rows
from runner.pipelines.operations import PipelineJobOperations
from runner.pipelines.step_rows import follow_all_steps, follow_steps, keep_settled
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "echo w", "environment": {"image": "unused:1"}},
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}


def ended_while_w_ran(ws: Workspace, base: Path) -> None:
    """Pipeline p Canceled while its step w Running (w's job runs on) and v not started."""
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=base), name="p")
    steps = {"w": {"job": "p-w", "status": "Running"}, "v": {"job": "p-v", "status": "NotStarted"}}
    ws.create_job(JobRecord(name="p-w", status=JobStatus.RUNNING, spec={"parent_job_name": "p"}))
    ws.update_job("p", status=JobStatus.CANCELED, error="canceled", merge_extra={"steps": steps})


def stale_reader(ws: Workspace, monkeypatch: pytest.MonkeyPatch, other_reader: Any) -> None:
    """The next read of the step jobs is a stale one: right after it, w's job ends Failed and
    ``other_reader`` (a whole read of the pipeline, by another reader) settles w's row."""
    read = step_rows.step_jobs

    def read_then_overtaken(ws_: Workspace, names: Any) -> dict[str, step_rows.StepJob]:
        seen = read(ws_, names)
        monkeypatch.setattr(step_rows, "step_jobs", read)
        ws.update_job("p-w", status=JobStatus.FAILED, error="the command exited with code 3")
        other_reader()
        assert ws.get_job("p").extra["steps"]["w"]["status"] == "Failed"  # settled by the other reader
        return seen

    monkeypatch.setattr(step_rows, "step_jobs", read_then_overtaken)


def rows(record: Any) -> dict[str, str]:
    return {step: state["status"] for step, state in record.extra["steps"].items()}


def test_a_stale_show_does_not_put_a_settled_row_back(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    ended_while_w_ran(ws, tmp_path)
    stale_reader(ws, monkeypatch, lambda: follow_steps(ws, ws.get_job("p")))
    returned = follow_steps(ws, ws.get_job("p"))  # reader A: read w Running, writes last
    stored = ws.get_job("p")
    assert rows(stored) == {"w": "Failed", "v": "Skipped"}, "a settled row was put back"
    assert stored.extra["steps"]["w"]["error"] == "the command exited with code 3"
    assert rows(returned) == rows(stored)


def test_a_stale_list_does_not_put_a_settled_row_back(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    ended_while_w_ran(ws, tmp_path)
    stale_reader(ws, monkeypatch, lambda: PipelineJobOperations(ws).get("p"))
    listed = follow_all_steps(ws, [ws.get_job("p")])  # reader A, as `job list` reads a page
    assert rows(ws.get_job("p")) == {"w": "Failed", "v": "Skipped"}, "a settled row was put back"
    assert rows(listed[0]) == {"w": "Failed", "v": "Skipped"}


def test_the_merge_keeps_settled_rows_and_takes_every_other_change() -> None:
    stored = {"a": {"job": "p-a", "status": "Completed"},
              "b": {"job": "p-b", "status": "Skipped", "note": "n"},
              "c": {"job": "p-c", "status": "Running"}, "d": {"job": "p-d", "status": "Failed", "error": "e"}}
    incoming = {"a": {"job": "p-a", "status": "Running"}, "b": {"job": "p-b", "status": "NotStarted"},
                "c": {"job": "p-c", "status": "Canceled", "error": "x"},
                "d": {"job": "p-d", "status": "Failed", "error": "e"},
                "e": {"job": "p-e", "status": "Queued"}}
    assert keep_settled(incoming)(stored) == {
        "a": stored["a"], "b": stored["b"], "c": incoming["c"], "d": incoming["d"], "e": incoming["e"]}
    assert keep_settled(incoming)(None) == incoming  # nothing stored (an older record): as written
    assert keep_settled(incoming)("junk") == incoming


def test_update_job_merges_a_function_of_the_stored_value_in_its_transaction(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="j", extra={"n": 1, "kept": True}))
    written = ws.update_job("j", merge_extra={"n": lambda stored: stored + 1,
                                              "new": lambda stored: stored})
    assert written is not None and written.extra == {"n": 2, "kept": True, "new": None}
    assert ws.get_job("j").extra == written.extra
