"""`runner job finalize` of a pipeline's step job: a pipeline whose only failed step failed because its upload
did not reach the storage (its datastore's container was deleted while the step ran: a container missing
from the start fails the step before it runs, with nothing to finalize) becomes Completed once that step is
finalized, with the rule the pipeline ended with; its output bound to the step's and the data version
the step registers are recorded as at a normal end, the change noted in its record and its log. Steps run
as host processes (``compute: local-process``), the storage is the shared Azurite. Finalized while its
pipeline still runs, the verb says the pipeline counts the step when it ends, and it does."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, wait_for_status, write_job

from runner.workspace.db import Workspace

pytestmark = [pytest.mark.azure]

PIPELINE = """
type: pipeline
outputs:
  final:
    type: uri_folder
    mode: upload
    path: azureml://datastores/later/paths/made
    name: step-finalized-data
    version: "1"
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: >-
      touch STARTED && while [ ! -e DELETED ]; do sleep 0.1; done &&
      echo one > ${{outputs.out}}/one.txt && echo made
    environment: {image: unused:1}
    outputs:
      out: ${{parent.outputs.final}}
"""


@pytest.fixture
def later(workspace_dir: Path, tmp_path: Path, azure_container: Any) -> Any:
    """A datastore ``later`` on a container of the shared Azurite that exists when the step starts and is
    deleted while it runs (``deleting``: every upload there fails until the test creates it again); removed
    at the end."""
    from azure.storage.blob import BlobServiceClient

    azurite = azure_container.azurite
    name = f"t{uuid.uuid4().hex[:20]}"
    create_azure_datastore(workspace_dir, tmp_path, SimpleNamespace(azurite=azurite, name=name), name="later")
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(name)
    started, deleted = tmp_path / "started", tmp_path / "deleted"

    def delete_once_started() -> None:
        deadline = time.monotonic() + 180
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(Exception):  # the step never started: its test fails on its own
            service.delete_container(name)
        deleted.touch()

    deleting = threading.Thread(target=delete_once_started, daemon=True)
    yield SimpleNamespace(create=lambda: service.create_container(name), deleting=deleting,
                          client=lambda: service.get_container_client(name),
                          pipeline=lambda text: text.replace("STARTED", str(started)).replace(
                              "DELETED", str(deleted)))
    deleted.touch()  # a step still waiting ends
    with contextlib.suppress(Exception):  # deleted and not created again: nothing to remove
        service.delete_container(name)


def test_finalizing_the_failed_step_completes_its_pipeline(workspace_dir: Path, tmp_path: Path, later: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace_dir
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")  # the retries give up in seconds, not minutes
    yml = write_job(tmp_path, later.pipeline(PIPELINE), "pipeline.yml")
    later.deleting.start()
    result = cli(ws, "job", "create", "--file", str(yml), "--name", "pf", "--stream", timeout=240)
    assert result.returncode != 0, result.stdout + result.stderr
    pipeline, step = show(ws, "pf"), show(ws, "pf-make")
    assert pipeline["status"] == "Failed" and step["status"] == "Failed" and step["exit_code"] == 0
    assert "`runner job finalize --name pf-make` uploads it" in step["error"], step["error"]

    later.create()
    done = cli(ws, "job", "finalize", "--name", "pf-make")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pf-make: Completed" in done.stdout and "pf: Completed (the pipeline of step job pf-make)" in \
        done.stdout, done.stdout
    blobs = {b.name: later.client().download_blob(b.name).readall() for b in later.client().list_blobs()}
    assert blobs == {"made/one.txt": b"one\n"}
    pipeline = show(ws, "pf")
    assert pipeline["status"] == "Completed" and pipeline["error"] is None, pipeline["error"]
    assert pipeline["registered_data"] == ["azureml:step-finalized-data:1"]
    assert pipeline["outputs"]["final"] == show(ws, "pf-make")["outputs"]["out"]
    assert pipeline["extra"]["steps"]["make"]["status"] == "Completed"
    assert "error" not in pipeline["extra"]["steps"]["make"]
    assert "Completed" in pipeline["extra"]["status_times"]
    note = pipeline["extra"]["steps_finalized"][-1]
    assert note["step"] == "make" and note["job"] == "pf-make"
    assert note["status_before"] == "Failed" and note["status"] == "Completed"
    assert "step make failed" in note["error_before"]
    log = (ws / "jobs" / "pf" / "user_logs" / "std_log.txt").read_text()
    assert "[pipeline] step make (job pf-make) finalized later by `runner job finalize`" in log, log
    assert "the pipeline is Completed" in log
    again = cli(ws, "job", "finalize", "--name", "pf-make")  # nothing left: one error, the pipeline as it is
    assert again.returncode != 0 and "has no output to finalize" in again.stderr, again.stderr
    assert show(ws, "pf")["status"] == "Completed"


WAITING = PIPELINE.replace("settings:\n", "settings:\n  continue_on_step_failure: true\n") + """
  wait:
    type: command
    command: while [ ! -e GO ]; do sleep 0.2; done; echo went
    environment: {image: unused:1}
"""


def test_finalizing_a_step_while_its_pipeline_runs_says_the_pipeline_counts_it(
        workspace_dir: Path, tmp_path: Path, later: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, go = workspace_dir, tmp_path / "go"
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")
    yml = write_job(tmp_path, later.pipeline(WAITING).replace("GO", str(go)), "pipeline.yml")
    later.deleting.start()
    cli(ws, "job", "create", "--file", str(yml), "--name", "pw", check=True)
    try:
        deadline = time.monotonic() + 120
        while not Workspace(ws).job_exists("pw-make"):  # the orchestrator creates the step's job
            assert time.monotonic() < deadline, show(ws, "pw")
            time.sleep(0.3)
        step = wait_for_status(ws, "pw-make", {"Completed", "Failed", "Canceled"}, timeout=180)
        assert step["status"] == "Failed", step
        assert show(ws, "pw")["status"] == "Running"  # its step `wait` waits for the file `go`
        later.create()
        done = cli(ws, "job", "finalize", "--name", "pw-make")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "pw-make: Completed" in done.stdout
        said = ("pw: still Running (the pipeline of step job pw-make): it counts this step as Completed "
                "when it ends")
        assert said in done.stdout, done.stdout
    finally:
        go.touch()  # the step `wait` ends, and its pipeline, even when an assertion failed
    pipeline = wait_for_status(ws, "pw", {"Completed", "Failed", "Canceled"}, timeout=120)
    assert pipeline["status"] == "Completed", pipeline["error"]
    assert pipeline["registered_data"] == ["azureml:step-finalized-data:1"]
    assert {s: v["status"] for s, v in pipeline["extra"]["steps"].items()} == {"make": "Completed",
                                                                                "wait": "Completed"}
