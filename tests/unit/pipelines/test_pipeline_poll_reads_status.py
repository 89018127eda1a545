"""The orchestrator's per-poll check of its own record reads only its status (not the whole record with
every step's plan), and a poll whose read the storage refuses (busy, full disk) is skipped, not an
internal error that fails the pipeline. Everything in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.errors import StorageError
from runner.pipelines.orchestrate import Orchestrator
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobStatus, Workspace

ONE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "a": {"command": "echo a", "environment": {"image": "unused:1"}}}}


def _orchestrator(tmp_path: Path) -> Orchestrator:
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, pipeline_from_data(ONE, base_dir=tmp_path), name="p")
    return Orchestrator(ws, "p")


def test_the_poll_reads_the_status_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    orch = _orchestrator(tmp_path)

    def whole_record(*_: Any, **__: Any) -> None:
        raise AssertionError("the poll read the whole record")

    monkeypatch.setattr(orch.ws, "get_job", whole_record)
    orch._check_record()
    assert orch.tracker.ended_elsewhere is None and not orch.cancel.requested.is_set()


def test_a_status_read_the_storage_refuses_skips_that_poll(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    orch = _orchestrator(tmp_path)

    def busy(_name: str) -> JobStatus:
        raise StorageError("database is locked")

    monkeypatch.setattr(orch.ws, "job_status", busy)
    orch._check_record()  # no error: tried again at the next poll
    assert not orch.cancel.requested.is_set()
    monkeypatch.undo()
    assert orch.ws.job_status("p") is JobStatus.QUEUED and orch.ws.job_status("nope") is None
