"""A runner that died in the middle of a folder input's download (SIGKILL: no cleanup of its own ran)
left the download's resume state in the job folder: ``inputs/<name>/state/`` with its ``*.part`` files,
beside ``inputs/<name>/data/``. Recovery removes all of it, and no link planted there is followed."""

from __future__ import annotations

from pathlib import Path

from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, release_resources
from runner.workspace.db import JobRecord, JobStatus, Workspace


def test_recovery_removes_a_dead_runners_partial_download_state(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    job_dir = ws.job_dir("dl1")
    scratch = job_dir.inputs / "d"
    (scratch / "state" / "tmp").mkdir(parents=True)
    (scratch / "state" / "parts").mkdir()
    (scratch / "state" / "tmp" / "0123abcd.part").write_bytes(b"\0" * 4096)
    (scratch / "state" / "parts" / "0123abcd.json").write_text("{}")
    (scratch / "state" / "done.jsonl").write_text("")
    (scratch / "data" / "small").mkdir(parents=True)
    (scratch / "data" / "small" / "00.bin").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the job's")
    (scratch / "state" / "tmp" / "escape").symlink_to(outside, target_is_directory=True)
    record = ws.create_job(JobRecord(name="dl1", status=JobStatus.PREPARING, runner_pid=1,
                                     job_dir=str(job_dir), backend="process",
                                     extra={NO_UPLOAD_ON_FAILURE: False}))
    done = release_resources(ws, record)
    assert f"removed input scratch {job_dir.inputs}" in done
    assert not job_dir.inputs.exists()
    assert (outside / "keep.txt").read_text() == "not the job's"
