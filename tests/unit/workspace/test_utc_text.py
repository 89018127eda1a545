"""Times stored as text in records (a job's ``extra.status_times``, a component's ``creation_context``)
are in the one form every output shows (``runner.workspace.db.utc_text``: ISO 8601 in UTC ending in ``Z``,
as pydantic writes a record's ``created_at``), from Python too, not only through the CLI; records an older
runner wrote with ``+00:00`` still read, and the web UI renders both forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from runner.jobs.operations import as_job
from runner.jobs.recovery import mark_lost
from runner.jobs.run import StatusTracker
from runner.spec.component import load_component_spec
from runner.ui.render import json_time, when
from runner.workspace.components import ComponentRecord, ComponentStore
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text

AT = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def _is_z(text: object) -> bool:
    return isinstance(text, str) and text.endswith("Z") and "+" not in text \
        and datetime.fromisoformat(text).utcoffset() == timedelta(0)


def test_utc_text_is_the_form_pydantic_and_the_ui_write() -> None:
    assert utc_text(AT) == "2026-01-02T03:04:05.123456Z" == json_time(AT)
    assert utc_text(AT.replace(microsecond=0)) == JobRecord(name="j", created_at=AT.replace(microsecond=0)) \
        .model_dump(mode="json")["created_at"] == "2026-01-02T03:04:05Z"
    assert utc_text(AT.astimezone(timezone(timedelta(hours=2)))) == utc_text(AT)  # another offset: in UTC
    assert datetime.fromisoformat(utc_text(AT)) == AT


def test_a_job_records_status_times_are_z_from_python(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = ws.create_job(JobRecord(name="j1"))
    tracker = StatusTracker(ws, record)
    tracker.set(JobStatus.PREPARING)
    updated = tracker.set(JobStatus.RUNNING)
    lost = mark_lost(ws, updated, reason="gone")  # recovery's writer
    times = as_job(ws.get_job("j1")).model_dump()["extra"]["status_times"]
    assert list(times) == ["Preparing", "Running", "Failed"] and all(_is_z(t) for t in times.values()), times
    assert lost.extra["status_times"] == times


def test_a_components_created_at_is_z_from_python(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "train.yml").write_text("name: train\ncommand: echo hi\nenvironment:\n"
                                              "  image: python:3.11-slim\n")
    store = ComponentStore(Workspace(tmp_path / "ws"))
    created = store.create(load_component_spec(tmp_path / "c" / "train.yml"))
    for record in (created, store.get("train")):
        assert _is_z(record.to_dict()["creation_context"]["created_at"])
    assert ComponentRecord(name="t", version="1", spec={}, created_at=AT).to_dict()["creation_context"] == \
        {"created_at": "2026-01-02T03:04:05.123456Z"}


def test_records_written_with_plus_00_00_still_read_and_render(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    old = AT.isoformat()  # what an older runner stored
    ws.create_job(JobRecord(name="old", extra={"status_times": {"Queued": old}}))
    tracker = StatusTracker(ws, ws.get_job("old"))
    times = tracker.set(JobStatus.RUNNING).extra["status_times"]
    assert times["Queued"] == old and _is_z(times["Running"])  # kept as written, the new one in Z
    with ws.transaction() as conn:  # a component row an older runner wrote
        conn.execute("INSERT INTO components (name, version, version_num, spec, archived, created_at) "
                     "VALUES ('c', '1', 1, '{}', 0, ?)", (old,))
    assert ComponentStore(ws).get("c").to_dict()["creation_context"]["created_at"] == utc_text(AT)
    assert when(old) == when(utc_text(AT)) == when(AT) == "2026-01-02 03:04:05"  # the UI: both forms
