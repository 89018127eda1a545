"""A container job whose runner was SIGKILLed: whoever ends it (the job's watchdog, or the next runner
command when the watchdog died too) collects its ./outputs, ./logs and user_logs into its artifacts as the
runner would have, so `job download` gets them; the originals stay in the job's folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, cli, datastore_file, show, wait_for_status, write_job

pytestmark = pytest.mark.docker

WRITES_OUTPUTS = """
    command: >-
      echo result > ./outputs/result.txt && echo epoch > ./logs/train.log &&
      ln -s /etc/hostname ./outputs/planted && echo started && sleep {sleep}
    environment:
      image: runner/busybox:latest
    """


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    return workspace_dir


def start(ws: Path, tmp_path: Path, name: str, sleep: int) -> dict[str, Any]:
    job = write_job(tmp_path, WRITES_OUTPUTS.format(sleep=sleep), name=f"{name}.yml")
    cli(ws, "job", "create", "--file", str(job), "--name", name, check=True)
    record = wait_for_status(ws, name, {"Running"})
    log = ws / "jobs" / name / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 120
    while not (log.exists() and "started" in log.read_text()):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.2)
    return record


def watchdog_pids(ws: Path, name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if any(b"runner.jobs.watchdog" in arg for arg in argv) and str(ws).encode() in argv and \
                    name.encode() in argv:
                found.append(int(entry))
    return found


def db_status(ws: Path, name: str) -> dict[str, Any]:
    """The job's record read from the database: no runner command, so no recovery races the watchdog."""
    with contextlib.closing(sqlite3.connect(f"file:{ws / 'runner.db'}?mode=ro", uri=True)) as db:
        return json.loads(db.execute("SELECT record FROM jobs WHERE name = ?", (name,)).fetchone()[0])


def assert_collected(ws: Path, tmp_path: Path, name: str, final: dict[str, Any]) -> None:
    assert final["extra"]["no_upload_on_failure"] is False  # the run says it, either way
    dl = tmp_path / f"dl-{name}"
    download = cli(ws, "job", "download", "--name", name, "--all", "--download-path", str(dl))
    assert download.returncode == 0, download.stderr
    assert (dl / "artifacts" / "outputs" / "result.txt").read_text() == "result\n"
    assert (dl / "artifacts" / "logs" / "train.log").read_text() == "epoch\n"
    assert "started" in (dl / "artifacts" / "user_logs" / "std_log.txt").read_text()
    assert not (dl / "artifacts" / "outputs" / "planted").exists()  # a link the job planted: not followed
    assert not datastore_file(ws, f"ExperimentRun/dcid.{name}/outputs/planted").exists()
    assert any("planted" in note for note in final["extra"]["links_not_followed"])
    assert (ws / "jobs" / name / "code" / "outputs" / "result.txt").read_text() == "result\n"  # kept


def test_the_next_command_collects_a_dead_runners_outputs_into_the_artifacts(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    record = start(ws, tmp_path, "gone1", sleep=600)
    for pid in (*watchdog_pids(ws, "gone1"), record["runner_pid"]):
        os.kill(pid, signal.SIGKILL)
    final = show(ws, "gone1")  # the runner command recovers the job
    assert final["status"] == "Failed" and "died while the job was Running" in final["error"]
    assert_collected(ws, tmp_path, "gone1", final)
    assert_no_leftovers(docker_client, ws, "gone1")


def test_the_watchdog_collects_a_dead_runners_outputs_into_the_artifacts(
        ws: Path, tmp_path: Path, docker_client: Any) -> None:
    record = start(ws, tmp_path, "gone2", sleep=3)
    os.kill(record["runner_pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while (final := db_status(ws, "gone2"))["status"] != "Failed":
        assert time.monotonic() < deadline, f"the watchdog did not end the job: {final['status']}"
        time.sleep(0.2)
    assert "its command ran on and exited with code 0" in final["error"], final["error"]
    assert_collected(ws, tmp_path, "gone2", final)
    assert_no_leftovers(docker_client, ws, "gone2")
