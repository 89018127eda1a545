"""The Python client: ``ml_client.jobs`` create_or_update / stream / get / list / cancel / download with a
job built by ``command(...)``, as the seeds' snippets use it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers

from runner import MLClient, Output, command
from runner.errors import JobError

pytestmark = pytest.mark.docker


def test_client_job_lifecycle(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    ml_client = MLClient(workspace_dir=workspace_dir)
    job = command(command="echo value=${{inputs.n}} && echo saved > ${{outputs.result}}/f.txt",
                  inputs={"n": 3}, outputs={"result": Output(type="uri_folder", mode="upload")},
                  environment="runner/busybox:latest", name="client1")
    submitted = ml_client.create_or_update(job)  # the seed's generic form, as ml_client.jobs...
    assert submitted.name == "client1" and submitted.status.value in ("Queued", "Preparing", "Running")
    assert submitted.services["Studio"].endpoint == "runner job show --name client1"
    chunks: list[bytes] = []
    finished = ml_client.jobs.stream("client1", echo=chunks.append)
    assert finished.status.value == "Completed"
    assert b"value=3" in b"".join(chunks)
    assert ml_client.jobs.get("client1").exit_code == 0
    assert [j.name for j in ml_client.jobs.list()] == ["client1"]
    written = ml_client.jobs.download("client1", download_path=tmp_path / "dl", output_name="result")
    assert (written[0] / "f.txt").read_text() == "saved\n"

    slow = command(command="echo started; sleep 120", environment="runner/busybox:latest", name="client2")
    ml_client.jobs.create_or_update(slow)
    log = workspace_dir / "jobs" / "client2" / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 120
    while not (log.exists() and "started" in log.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert ml_client.jobs.cancel("client2").status.value == "Canceled"
    with pytest.raises(JobError, match="already Canceled"):
        ml_client.jobs.cancel("client2")
    assert_no_leftovers(docker_client, workspace_dir, "client2")
