"""What a pipeline's record says about its steps, from the steps' own records: a failed step's whole
reason (every line of it: where staged data is kept), the models and data assets its steps registered,
and ``RUNNER_PIPELINE_MAX_PARALLEL`` refused when it is not a number of steps, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.operations import PipelineJobOperations
from runner.pipelines.orchestrate import MAX_PARALLEL_ENV, Orchestrator, _LogTail, max_parallel
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import pipeline_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace

PIPELINE = {"type": "pipeline", "settings": {"default_compute": "local-process"}, "jobs": {
    "w": {"command": "echo hi > ${{outputs.o}}/x", "environment": {"image": "unused:1"},
          "outputs": {"o": {"mode": "upload"}}},
    "r": {"command": "ls ${{inputs.i}}", "environment": {"image": "unused:1"},
          "inputs": {"i": {"path": "${{parent.jobs.w.outputs.o}}", "mode": "download"}}},
    "v": {"command": "echo v", "environment": {"image": "unused:1"}}}}


@pytest.fixture
def orchestrator(tmp_path: Path) -> Orchestrator:
    ws = Workspace(tmp_path / "ws")
    submit_pipeline(ws, pipeline_from_data(PIPELINE, base_dir=tmp_path), name="p")
    return Orchestrator(ws, "p")


def _step_job(orch: Orchestrator, step: str, status: JobStatus, **fields: object) -> None:
    orch.ws.create_job(JobRecord(name=f"p-{step}", status=status, spec={"parent_job_name": "p"},
                                 **fields))  # type: ignore[arg-type]


def test_the_pipeline_error_carries_each_failed_steps_whole_reason(orchestrator: Orchestrator) -> None:
    orch = orchestrator
    reason = ("outputs could not be made durable:\n  o: HTTP 404 ContainerNotFound; the staged data is kept "
              "in /ws/jobs/p-w/outputs/o")
    for name, error in (("w", reason), ("v", "the command exited with code 3")):
        step = orch.steps[name]
        step.status, step.error = JobStatus.FAILED.value, error
    orch._failed(orch.steps["w"])
    record = orch._finish()
    assert record.status is JobStatus.FAILED
    assert record.error is not None
    assert "step w failed: outputs could not be made durable:" in record.error
    assert "HTTP 404 ContainerNotFound; the staged data is kept in /ws/jobs/p-w/outputs/o" in record.error
    assert "step v failed: the command exited with code 3" in record.error
    assert "skipped: r" in record.error


def test_registered_models_and_data_reach_the_pipeline_record(orchestrator: Orchestrator) -> None:
    orch = orchestrator
    _step_job(orch, "w", JobStatus.COMPLETED, registered_models=["azureml:my-pipe-model:1"],
              registered_data=["azureml:my-pipe-data:1"])
    orch.steps["w"].status = JobStatus.COMPLETED.value
    orch._completed(orch.steps["w"])
    record = orch.ws.get_job("p")
    assert record.registered_models == ["azureml:my-pipe-model:1"]
    assert record.registered_data == ["azureml:my-pipe-data:1"]
    for step in ("r", "v"):
        orch.steps[step].status = JobStatus.COMPLETED.value
    assert orch._finish().registered_data == ["azureml:my-pipe-data:1"]


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_a_bad_max_parallel_is_one_clear_error(value: str, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv(MAX_PARALLEL_ENV, value)
    with pytest.raises(SpecError) as raised:
        max_parallel()
    assert MAX_PARALLEL_ENV in raised.value.message and repr(value) in raised.value.message
    assert "an integer >= 1" in raised.value.render()
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(SpecError, match=MAX_PARALLEL_ENV):  # before anything is submitted
        PipelineJobOperations(ws).create_or_update(pipeline_from_data(PIPELINE, base_dir=tmp_path), name="q")
    assert not ws.job_exists("q")


def test_max_parallel_default_and_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_PARALLEL_ENV, raising=False)
    assert max_parallel() == 4
    monkeypatch.setenv(MAX_PARALLEL_ENV, " 2 ")
    assert max_parallel() == 2


def test_a_returned_pipeline_names_its_registered_versions_and_its_steps(orchestrator: Orchestrator) -> None:
    orch = orchestrator
    _step_job(orch, "w", JobStatus.COMPLETED, registered_data=["azureml:sdk-reg-data:1"],
              outputs={"o": "azureml://datastores/workspaceblobstore/paths/azureml/p-w/o/"})
    spec = {**orch.ws.get_job("p").spec, "outputs": {"res": {"type": "uri_folder", "name": "sdk-reg-data"}}}
    orch.ws.update_job("p", spec=spec)
    orch.outputs["res"] = "azureml://datastores/workspaceblobstore/paths/x/"
    orch.registered_data = ["azureml:sdk-reg-data:1"]
    orch._save(outputs=True)
    job = PipelineJobOperations(orch.ws).get("p")
    assert job.outputs.res.name == "sdk-reg-data" and job.outputs.res.version == "1"
    assert sorted(job.jobs) == ["r", "v", "w"]
    assert job.jobs["w"].name == "p-w" and job.jobs["w"].outputs.o.path.endswith("/p-w/o/")
    assert job.jobs["r"] is None  # not started: no job yet


def test_after_the_orchestrator_died_the_pipeline_follows_its_steps(orchestrator: Orchestrator) -> None:
    orch = orchestrator
    ws = orch.ws
    for step in ("w", "v"):
        orch.steps[step].status = JobStatus.RUNNING.value
        _step_job(orch, step, JobStatus.RUNNING)
    orch._save()
    died = "the runner process (pid 123) died while the job was Running"
    ws.update_job("p", status=JobStatus.FAILED, error=died)  # what recovery writes; the steps' rows stay
    ws.update_job("p-w", status=JobStatus.CANCELED, error="canceled")  # `job cancel --name p-w`
    ws.update_job("p-v", status=JobStatus.COMPLETED)
    job = PipelineJobOperations(ws).get("p")
    steps = job.extra["steps"]
    assert {s: v["status"] for s, v in steps.items()} == {"w": "Canceled", "r": "Skipped", "v": "Completed"}
    note = steps["r"]["note"]
    assert "the pipeline failed before this step could start" in note and died in note
    assert ws.get_job("p").extra["steps"] == steps  # recorded, not only shown
    assert job.status is JobStatus.FAILED and job.error == died


def test_a_step_that_could_not_start_is_streamed_as_such(orchestrator: Orchestrator) -> None:
    orch = orchestrator
    lines: list[bytes] = []
    orch.echo = lines.append
    reason = "image 'runner/nope:0' is not available locally (pulling is disabled)"
    _step_job(orch, "w", JobStatus.FAILED, error=reason, extra={"not_started": True})  # as runner.jobs.run
    orch.steps["w"].status = JobStatus.QUEUED.value
    orch.steps["w"].tail = _LogTail(orch.ws.job_dir("p-w").std_log)
    orch._poll()
    said = b"".join(lines).decode()
    assert "[pipeline] step w: could not start\n" in said and "step w: Failed" not in said
    assert "[pipeline] step r: skipped (step w could not start)" in said
    assert "(step w could not start (settings.continue_on_step_failure is off))" in said  # v
    record = orch._finish()
    assert record.status is JobStatus.FAILED and record.extra["not_started"] is True
    assert record.error is not None and record.error.startswith(f"step w could not start: {reason}")
    state = record.extra["steps"]["w"]
    assert state["status"] == "Failed" and state["note"].startswith("could not start")
    assert "[pipeline] Failed (step w could not start: " in b"".join(lines).decode()
