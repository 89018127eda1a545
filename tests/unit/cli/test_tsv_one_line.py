"""``-o tsv`` keeps its promise of one entity a line and one value a column: a newline, tab, carriage
return or backslash in a value is escaped (``\\n``, ``\\t``, ``\\r``, ``\\\\``), so a failed job's error
("...\\n  hint: ...") stays on its job's line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runner.cli import _common
from runner.cli.main import app
from runner.workspace.db import JobRecord, JobStatus, Workspace

ERROR = "the command exited 1\n  hint: see\tthe log C:\\jobs\\j\r"


def test_a_value_with_newlines_tabs_and_backslashes_stays_one_field() -> None:
    assert _common.tsv_lines([{"name": "a", "error": ERROR}, {"name": "b", "error": None}]) == [
        "a\tthe command exited 1\\n  hint: see\\tthe log C:\\\\jobs\\\\j\\r", "b\t"]
    assert _common.tsv_lines(["x\ny", ["p\tq", "r"]]) == ["x\\ny", "p\\tq\tr"]
    assert _common.tsv_lines("plain value") == ["plain value"]  # nothing else changes


def test_job_list_tsv_prints_one_line_per_job_with_a_failed_jobs_error(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    workspace.create_job(JobRecord(name="failed", status=JobStatus.FAILED, backend="process", exit_code=1,
                                   error=ERROR))
    workspace.create_job(JobRecord(name="done", status=JobStatus.COMPLETED, backend="process", exit_code=0))
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "job", "list", "-o", "tsv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert sorted(line.split("\t")[0] for line in lines) == ["done", "failed"]
    failed = next(line for line in lines if line.startswith("failed\t"))
    assert "the command exited 1\\n  hint: see\\tthe log C:\\\\jobs\\\\j\\r" in failed.split("\t")
