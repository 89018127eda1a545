"""``runner job show`` as a table lists ``display_name`` and ``experiment_name`` (as ``-o json`` does),
and ``archived`` once the job is archived; ``runner job archive`` / ``restore`` (az ml job's verbs) and
``job list --archived-only`` / ``--include-archived`` work on the records."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import ResolveError
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
    Workspace(ws).create_job(JobRecord(name="j1", display_name="nightly train", experiment_name="exp-a",
                                       status=JobStatus.COMPLETED, backend="process", exit_code=0))
    Workspace(ws).create_job(JobRecord(name="j2", status=JobStatus.COMPLETED, backend="process"))
    return ws


def test_show_lists_display_name_and_experiment_name(tmp_path: Path) -> None:
    fields = _fields(_run(_workspace(tmp_path), "show", "--name", "j1"))
    assert fields["display_name"] == "nightly train" and fields["experiment_name"] == "exp-a"
    assert list(fields)[:4] == ["name", "display_name", "experiment_name", "status"]
    assert "archived" not in fields


def test_archive_restore_and_the_list_views(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert "j1" in _run(ws, "archive", "--name", "j1")
    assert _fields(_run(ws, "show", "--name", "j1"))["archived"] == "True"
    assert json.loads(_run(ws, "show", "--name", "j1", "-o", "json"))["archived"] is True
    listed = [r["name"] for r in json.loads(_run(ws, "list", "-o", "json"))]
    assert listed == ["j2"]
    only = [r["name"] for r in json.loads(_run(ws, "list", "--archived-only", "-o", "json"))]
    assert only == ["j1"]
    every = _run(ws, "list", "--include-archived")
    assert "archived" in every.splitlines()[0] and "j1" in every and "j2" in every
    assert "j1" in _run(ws, "restore", "-n", "j1")
    assert sorted(r["name"] for r in json.loads(_run(ws, "list", "-o", "json"))) == ["j1", "j2"]


def test_an_unknown_job_is_one_error(tmp_path: Path) -> None:
    """The one ``RunnerError`` ``runner.cli.main`` prints as ``error: ...`` (no traceback)."""
    ws = str(_workspace(tmp_path))
    for verb in ("archive", "restore"):
        result = CliRunner().invoke(app, ["--workspace", ws, "job", verb, "-n", "nope"])
        assert isinstance(result.exception, ResolveError) and result.exit_code != 0
        assert "unknown job 'nope'" in result.exception.message and result.exception.hint
