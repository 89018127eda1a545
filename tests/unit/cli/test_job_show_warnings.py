"""``runner job show`` as a table lists every warning of the job's record (``extra.warnings``: the plan's,
then what its outputs could not keep), one ``warning`` row each, after the other fields, as ``-o json``
holds them. A warning naming a file a job chose is shown on one line with its control characters escaped:
it cannot move the cursor, colour the terminal or forge a row."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli.main import app
from runner.workspace.db import JobRecord, JobStatus, Workspace

PLAN = "job.yml:3: resources.instance_count=2 is ignored (one container runs)"
LEFT = "outputs.u: 1 entry not uploaded: fifo (a FIFO)"
HOSTILE = "outputs.d: 1 entry stays in its folder: a\x1b[2J\x1b[31mred\nwarning  forged\r (a FIFO)"


def _show(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), "job", "show", "--name", "j", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _workspace(tmp_path: Path, warnings: list[str]) -> Path:
    ws = tmp_path / "ws"
    Workspace(ws).create_job(JobRecord(name="j", status=JobStatus.COMPLETED, backend="process", exit_code=0,
                                       outputs={"u": "azureml://datastores/workspaceblobstore/paths/u"},
                                       extra={"warnings": warnings, "links_not_followed": ["code/x"]}))
    return ws


def test_every_warning_is_one_row_after_the_fields(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, [PLAN, LEFT])
    lines = _show(ws).splitlines()
    rows = [(line.split(None, 1) + [""])[:2] for line in lines[1:]]
    assert [key for key, _ in rows][-2:] == ["warning", "warning"]
    assert [value for key, value in rows if key == "warning"] == [PLAN, LEFT]
    assert [key for key, _ in rows].index("warning") > [key for key, _ in rows].index("link_not_followed")
    assert json.loads(_show(ws, "-o", "json"))["extra"]["warnings"] == [PLAN, LEFT]  # as it was


def test_a_warning_with_control_characters_is_one_escaped_line(tmp_path: Path) -> None:
    output = _show(_workspace(tmp_path, [HOSTILE, LEFT]))
    assert "\x1b" not in output and "\r" not in output
    warning_rows = [line for line in output.splitlines() if line.split()[:1] == ["warning"]]
    assert len(warning_rows) == 2 and not any(line.startswith(" warning  forged") for line in
                                              output.splitlines()[1:] if line not in warning_rows)
    assert warning_rows[0].split(None, 1)[1] == (
        "outputs.d: 1 entry stays in its folder: a\\x1b[2J\\x1b[31mred\\nwarning  forged\\r (a FIFO)")


def test_no_warning_no_row(tmp_path: Path) -> None:
    output = _show(_workspace(tmp_path, []))
    assert not [line for line in output.splitlines() if line.split()[:1] == ["warning"]]
