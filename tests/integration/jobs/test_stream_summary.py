"""``--stream`` in table mode prints the job's log and its Execution Summary on stdout, in that order (as
``az ml job create --stream`` does), so ``> job.log`` keeps the status lines; with ``-o json`` stdout is the
record alone and the log and summary go to stderr."""

from __future__ import annotations

import json
from pathlib import Path

from jobs_support import cli, write_job

JOB = """\
command: echo working; echo warned >&2
environment:
  image: runner/busybox:latest
"""


def test_the_summary_follows_the_log_on_stdout(workspace_dir: Path) -> None:
    job = write_job(workspace_dir.parent, JOB)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "s1", "--stream",
                 "--backend", "process")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("working") < out.index("Execution Summary") < out.index("RunId: s1") \
        < out.index("Status: Completed")
    assert "Execution Summary" not in result.stderr and "Status:" not in result.stderr
    streamed = cli(workspace_dir, "job", "stream", "--name", "s1")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout.startswith("RunId: s1\n") and "Status: Completed" in streamed.stdout
    assert streamed.stderr == ""


def test_with_json_stdout_is_the_record_alone(workspace_dir: Path) -> None:
    job = write_job(workspace_dir.parent, JOB)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "s2", "--stream",
                 "--backend", "process", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "Completed"
    assert "working" in result.stderr and "Status: Completed" in result.stderr
