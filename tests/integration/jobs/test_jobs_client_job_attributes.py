"""The job that ``ml_client.jobs.create_or_update`` / ``get`` / ``stream`` return has azure.ai.ml's
attributes (``returned_job.outputs.result.path`` / ``.mode``, ``description``, ``tags``,
``creation_context`` ...), and ``runner job show -o json`` keeps the record's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli

from runner import MLClient, Output, command

pytestmark = pytest.mark.docker
IMAGE = "runner/busybox:latest"


def test_returned_jobs_have_azures_attributes(workspace_dir: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    job = command(command="echo saved > ${{outputs.result}}/f.txt", environment=IMAGE, name="attrs1",
                  outputs={"result": Output(type="uri_folder", mode="upload")}, inputs={"n": 3},
                  properties={"p": "1"})
    submitted = ml_client.jobs.create_or_update(job, description="about it", tags={"team": "x"})
    streamed = ml_client.jobs.stream("attrs1", echo=lambda _: None)
    fetched = ml_client.jobs.get("attrs1")
    for returned in (submitted, streamed, fetched):
        result = returned.outputs.result
        assert result is returned.outputs["result"]
        assert result.path.rstrip("/").endswith("/azureml/attrs1/result")
        assert (result.type, result.mode, result.name, result.version) == ("uri_folder", "upload", None, None)
        assert returned.inputs.n == 3
        assert returned.description == "about it" and returned.tags == {"team": "x"}
        assert returned.properties == {"p": "1"}
        assert returned.type == "command" and "${{outputs.result}}" in (returned.command or "")
        assert returned.environment is not None and returned.compute is None
        assert returned.id == "azureml://jobs/attrs1"
        assert returned.creation_context.created_at == returned.created_at
    assert fetched.creation_context.last_modified_at == fetched.ended_at

    shown = cli(workspace_dir, "job", "show", "--name", "attrs1", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert set(data) == set(fetched.model_dump()) | {"duration_s"}
    assert data["outputs"] == {name: output.path for name, output in fetched.outputs.items()}
    assert data["inputs"] == {}  # a literal input is in the spec, not among the record's paths
