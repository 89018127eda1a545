"""Every timestamp the CLI prints has one form, ``2024-05-01T12:00:00.250000Z`` (as the records' own
``created_at``): also the ones stored as text (a job's ``extra.status_times``, a component's
``creation_context.created_at``), in every ``-o`` format and in ``job show``'s table."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import _common
from runner.cli.job import _as_json
from runner.cli.main import app
from runner.jobs.operations import as_job
from runner.workspace.components import ComponentRecord
from runner.workspace.db import JobRecord

AT = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
Z = "2024-05-01T12:00:00.250000Z"
OFFSET = re.compile(r"\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d")


def _job() -> dict[str, object]:
    record = JobRecord(name="j1", created_at=AT, started_at=AT, ended_at=AT,
                       extra={"status_times": {"Queued": AT.isoformat(), "Completed": AT.isoformat()}})
    return _as_json(as_job(record))


def _component() -> dict[str, object]:
    return ComponentRecord(name="c", version="1", spec={"command": "ls"}, created_at=AT).to_dict()


@pytest.mark.parametrize("output", ["json", "yaml", "tsv", "table"])
def test_every_printed_timestamp_ends_in_z(output: str, capsys: pytest.CaptureFixture[str]) -> None:
    for data in (_job(), _component()):
        _common.emit(data, output, [])
        printed = capsys.readouterr().out
        assert not OFFSET.search(printed), printed
        assert Z in printed or (output == "tsv" and "created_at" not in data), printed  # tsv: no nesting


def test_the_json_keeps_its_shape_with_the_z_form(capsys: pytest.CaptureFixture[str]) -> None:
    _common.emit(_job(), "json", [])
    job = json.loads(capsys.readouterr().out)
    assert job["created_at"] == job["extra"]["status_times"]["Queued"] == Z
    _common.emit([_component()], "json", [], "[].creation_context.created_at")
    assert json.loads(capsys.readouterr().out) == [Z]


def test_a_time_in_any_zone_is_shown_in_utc(capsys: pytest.CaptureFixture[str]) -> None:
    """A ``datetime`` in another zone is shown in UTC; text that is not a UTC time as runner writes one
    (a user's tag, a description) is printed as written."""
    paris = AT.astimezone(timezone(timedelta(hours=2)))
    kept = {"text": "2024-05-01T14:00:00.250000+02:00", "name": "not 12:00:00+00:00"}
    _common.emit({"at": paris, **kept}, "json", [])
    assert json.loads(capsys.readouterr().out) == {"at": Z, **kept}


def test_job_show_table_cells_use_the_same_form(capsys: pytest.CaptureFixture[str]) -> None:
    _common.print_table(("field", "value"), [("created", AT), ("ended", None)])
    assert Z in capsys.readouterr().out


STAMP = "2024-01-01T00:00:00+00:00"  # a user's value shaped like a UTC time: printed as stored


def test_user_data_shaped_like_a_time_is_printed_as_stored(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the runner's own time fields are put in the Z form; tags, properties, descriptions, literal
    input values and the spec (however a user named their keys) keep their text."""
    record = {"name": "m", "created_at": STAMP, "description": STAMP,
              "tags": {"stamp": STAMP, "created_at": STAMP}, "properties": {"ended_at": STAMP},
              "creation_context": {"created_at": STAMP, "last_modified_at": STAMP},
              "spec": {"inputs": {"when": STAMP}, "tags": {"status_times": {"Queued": STAMP}}},
              "extra": {"literals": {"when": STAMP}, "status_times": {"Queued": STAMP}}}
    for output in ("json", "yaml"):
        for data in (record, [record]):
            _common.emit(data, output, [])
            printed = capsys.readouterr().out
            assert printed.count(STAMP) == 7 and printed.count("2024-01-01T00:00:00Z") == 4, printed
    _common.emit(record, "tsv", [], "tags.stamp")
    assert capsys.readouterr().out == STAMP + "\n"
    _common.print_fields([("inputs.when", STAMP), ("tags", {"stamp": STAMP}), ("created", AT)])
    printed = capsys.readouterr().out
    assert printed.count(STAMP) == 2 and Z in printed, printed


def test_a_models_tag_shaped_like_a_time_is_shown_as_given(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path
    monkeypatch.setenv("RUNNER_WORKSPACE", str(folder / "ws"))
    (folder / "model.pkl").write_bytes(b"m")
    created = CliRunner().invoke(app, ["model", "create", "--name", "m", "--path", str(folder / "model.pkl"),
                                       "--tags", f"stamp={STAMP}", "-o", "json"])
    assert created.exit_code == 0, created.output
    shown = CliRunner().invoke(app, ["model", "show", "--name", "m", "--version", "1", "-o", "json"])
    assert json.loads(shown.stdout)["tags"] == {"stamp": STAMP}, shown.output
    queried = CliRunner().invoke(app, ["model", "show", "--name", "m", "--version", "1",
                                       "--query", "tags.stamp", "-o", "tsv"])
    assert queried.stdout == STAMP + "\n", queried.output
