"""``runner job show`` shows the job's tags, as Azure's job show does: a ``tags`` row in the table
(``key=value, ...``, as ``model show`` prints an asset's); ``-o json`` stays the record (tags in its
``spec``)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli.main import app
from runner.workspace.db import JobRecord, JobStatus, Workspace


def _run(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), "job", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _fields(output: str) -> dict[str, str]:
    rows = [line.split(None, 1) for line in output.splitlines()[1:] if line.strip()]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    Workspace(ws).create_job(JobRecord(name="tagged", status=JobStatus.COMPLETED,
                                       spec={"command": "echo", "tags": {"team": "vision", "run": "7"}}))
    Workspace(ws).create_job(JobRecord(name="plain", status=JobStatus.COMPLETED, spec={"command": "echo"}))
    return ws


def test_show_has_a_tags_row(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert _fields(_run(ws, "show", "--name", "tagged"))["tags"] == "team=vision, run=7"
    assert _fields(_run(ws, "show", "--name", "plain"))["tags"] == ""


def test_show_json_stays_the_record(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    shown = json.loads(_run(ws, "show", "--name", "tagged", "-o", "json"))
    assert shown["spec"]["tags"] == {"team": "vision", "run": "7"} and "tags" not in shown
