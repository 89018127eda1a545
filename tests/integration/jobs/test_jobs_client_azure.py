"""``ml_client.jobs`` behaves as azure.ai.ml's where a ported script depends on it: ``stream`` raises on a
failed job, ``create_or_update`` takes Azure's keywords for a command job, ``begin_cancel`` exists, and
settings written on a built job after ``command(...)`` reach the job that runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner import MLClient, Output, command
from runner.errors import JobError
from runner.exceptions import JobException

pytestmark = pytest.mark.docker
IMAGE = "runner/busybox:latest"


def test_stream_raises_on_a_failed_job_and_returns_a_completed_one(workspace_dir: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    ml_client.jobs.create_or_update(command(command="echo oops; exit 3", environment=IMAGE, name="bad1"))
    chunks: list[bytes] = []
    with pytest.raises(JobException) as raised:
        ml_client.jobs.stream("bad1", echo=chunks.append)
    assert isinstance(raised.value, JobError)  # one error hierarchy
    text = str(raised.value)
    assert "bad1" in text and "Failed" in text and "`ml_client.jobs.stream('bad1')`" in text  # Python's words
    assert "runner job" not in text and "runner job stream --name bad1" in raised.value.render()  # the CLI's
    assert b"oops" in b"".join(chunks)  # the log was still shown first
    assert ml_client.jobs.get("bad1").status.value == "Failed"

    ml_client.jobs.create_or_update(command(command="echo fine", environment=IMAGE, name="good1"))
    assert ml_client.jobs.stream("good1", echo=lambda _: None).status.value == "Completed"


def test_create_or_update_takes_azure_keywords_for_a_command_job(workspace_dir: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    job = command(command="echo hi", environment=IMAGE, name="kw1")
    returned = ml_client.jobs.create_or_update(job, experiment_name="exp-a", description="about it",
                                               tags={"team": "x"}, skip_validation=True)
    assert returned.experiment_name == "exp-a"
    assert returned.spec["description"] == "about it" and returned.spec["tags"] == {"team": "x"}
    ml_client.jobs.stream("kw1", echo=lambda _: None)

    other = command(command="echo hi", environment=IMAGE, name="kw2")
    returned = ml_client.create_or_update(other, experiment_name="exp-b", compute="local-process")
    assert returned.experiment_name == "exp-b" and returned.backend == "process"
    ml_client.jobs.stream("kw2", echo=lambda _: None)


def test_begin_cancel_is_azures_name_for_cancel(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    ml_client = MLClient(workspace_dir=workspace_dir)
    ml_client.jobs.create_or_update(command(command="echo started; sleep 120", environment=IMAGE,
                                            name="slow1"))
    log = workspace_dir / "jobs" / "slow1" / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 120
    while not (log.exists() and "started" in log.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    poller = ml_client.jobs.begin_cancel("slow1")
    assert poller.done() and poller.result().status.value == "Canceled"
    assert ml_client.jobs.get("slow1").status.value == "Canceled"


def test_settings_written_after_command_reach_the_job(workspace_dir: Path, tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.txt").write_text("from tables\n")
    (tmp_path / "other").mkdir()
    job = command(command="cat ${{inputs.d}}/t.txt; echo var=$GREETING; echo o > ${{outputs.o}}/f.txt",
                  inputs={"d": {"type": "uri_folder", "path": str(tmp_path / "other"), "mode": "download"}},
                  outputs={"o": Output(type="uri_folder")}, environment=IMAGE, name="set1")
    job.display_name = "shown"
    job.experiment_name = "exp-set"
    job.tags = {"k": "v"}
    job.environment_variables = {"GREETING": "hello"}
    job.inputs["d"].path = str(tmp_path / "tables")
    job.outputs.o.mode = "upload"
    returned = ml_client.jobs.create_or_update(job)
    assert returned.display_name == "shown" and returned.experiment_name == "exp-set"
    assert returned.spec["tags"] == {"k": "v"}
    assert returned.spec["outputs"]["o"]["mode"] == "upload"
    chunks: list[bytes] = []
    ml_client.jobs.stream("set1", echo=chunks.append)
    log = b"".join(chunks)
    assert b"from tables" in log and b"var=hello" in log
