"""``runner job cancel`` says what it did when the job is still active at its end: the cancel is recorded
in the job, and the runner that holds it (named by pid) stops it at its next check; a job still Finalizing
says its outputs are being made durable. Exit 0 either way; ``-o json`` keeps stdout for the record.

Staged by hand: the job's runner (a stand-in process) exits on the cancel's SIGTERM, and before the
cancel ends the job another stand-in takes it (as a new runner would); the cancel gets one round
(``CANCEL_ROUNDS``), so it leaves the job to that runner. Everything in this test's tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.jobs import operations
from runner.jobs.cancel_request import CANCEL_REQUESTED, still_active
from runner.jobs.recovery import process_start_time
from runner.workspace.db import JobRecord, JobStatus, Workspace

WAITS = "import time; print('ready', flush=True); time.sleep(120)"  # ends on SIGTERM


def _stand_in() -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", WAITS], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return proc


@pytest.fixture
def runners() -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    first, second = _stand_in(), _stand_in()
    try:
        yield first, second
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_cancel_that_leaves_the_job_to_a_new_runner_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str,
        runners: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]) -> None:
    first, second = runners
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="j", status=JobStatus.PREPARING, runner_pid=first.pid, backend="process",
                            job_dir=str(ws.job_dir("j").root),
                            extra={"runner_start": process_start_time(first.pid)}))

    def taken_by_the_second(_ws: Workspace, _record: JobRecord) -> bool:
        ws.update_job("j", only_from={JobStatus.PREPARING}, status=JobStatus.RUNNING, runner_pid=second.pid,
                      merge_extra={"runner_start": process_start_time(second.pid)})
        return False

    monkeypatch.setattr(operations, "watchdog_follows", taken_by_the_second)
    monkeypatch.setattr(operations, "CANCEL_ROUNDS", 1)
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "job", "cancel", "--name", "j",
                                      "-o", output])
    assert result.exit_code == 0, result.output
    said = (f"j: cancel requested and recorded in the job; still Running: its runner (pid {second.pid}) "
            "stops it at its next check and records it Canceled: `runner job stream --name j`")
    if output == "json":
        assert json.loads(result.stdout)["status"] == "Running" and said in result.stderr
    else:
        assert result.output.strip() == said
    assert first.wait(30) is not None and second.poll() is None  # the first was signalled, not the second
    assert CANCEL_REQUESTED in ws.get_job("j").extra


def test_a_job_still_finalizing_is_said_to_make_its_outputs_durable() -> None:
    said = still_active(JobRecord(name="f", status=JobStatus.FINALIZING, runner_pid=7))
    assert said == ("cancel requested; still Finalizing (its outputs are being made durable), it records its "
                    "end when done")
