"""The CLI and the Python API read an older record's ``+00:00`` status times by one rule,
``runner.workspace.job_records.z_status_times``: what ``-o json`` prints is what ``ml_client.jobs`` gives,
whatever the stored text is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.cli import _common
from runner.jobs.operations import as_job
from runner.workspace import job_records
from runner.workspace.db import JobRecord

TIMES: dict[str, Any] = {
    "Queued": "2026-01-02T03:04:05.123456+00:00", "Preparing": "2026-01-02T03:04:06+00:00",
    "Running": "2026-01-02T03:04:07Z", "Finalizing": "2026-01-02T05:04:05+02:00", "Completed": "yesterday",
    "Failed": None, "Canceled": "2026-01-02T03:04:05+00:00 ", "extra": 5,
}


def test_the_cli_prints_status_times_as_the_python_api_reads_them(capsys: pytest.CaptureFixture[str]) -> None:
    record = JobRecord(name="old", extra={"status_times": dict(TIMES), "note": TIMES["Queued"]})
    _common.emit(record.model_dump(mode="json"), "json", [])
    printed = json.loads(capsys.readouterr().out)["extra"]
    assert printed == as_job(record).extra == job_records.z_status_times(record.extra)
    assert printed["status_times"]["Queued"] == "2026-01-02T03:04:05.123456Z"
    assert printed["note"] == TIMES["Queued"]


def test_the_cli_applies_the_records_own_function(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[dict[str, Any]] = []

    def spy(extra: dict[str, Any]) -> dict[str, Any]:
        seen.append(extra)
        return {**extra, "status_times": {"Queued": "by the one rule"}}

    monkeypatch.setattr(job_records, "z_status_times", spy)
    extra = {"status_times": {"Queued": TIMES["Queued"]}}
    _common.emit([{"name": "a", "extra": extra}], "json", [])
    printed = json.loads(capsys.readouterr().out)
    assert printed == [{"name": "a", "extra": {"status_times": {"Queued": "by the one rule"}}}]
    assert seen == [extra]
