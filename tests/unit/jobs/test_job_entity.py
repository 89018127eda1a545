"""The job ``ml_client.jobs`` returns has azure.ai.ml's attributes, read from its record: inputs and
outputs by attribute and by key, description, tags, type, compute, environment, command, properties, id
and creation_context; its JSON (``runner job show -o json``) keeps the record's shape."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

import pytest

from runner.jobs.operations import as_job
from runner.workspace.db import JobRecord

CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ENDED = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)


def _record(**spec: object) -> JobRecord:
    full_spec = {"type": "command", "command": "python train.py", "environment": "azureml:sk@latest",
                 "compute": "azureml:cpu", "description": "trains", "tags": {"team": "x"},
                 "properties": {"p": "1"}, **spec}
    return JobRecord(name="job1", created_at=CREATED, ended_at=ENDED, spec=full_spec,
                     inputs={"data": "azureml://datastores/workspaceblobstore/paths/d/"},
                     outputs={"result": "azureml://datastores/workspaceblobstore/paths/azureml/job1/result/"})


def test_outputs_and_inputs_are_attribute_accessible_and_still_dicts() -> None:
    job = as_job(_record())
    assert job.outputs.result == job.outputs["result"] == \
        "azureml://datastores/workspaceblobstore/paths/azureml/job1/result/"
    assert job.outputs.artifacts.endswith("ExperimentRun/dcid.job1/")
    assert job.inputs.data == job.inputs["data"]
    assert isinstance(job.outputs, dict) and sorted(job.outputs) == ["artifacts", "result"]
    assert dict(job.outputs.items())["result"] == job.outputs.result
    with pytest.raises(AttributeError, match="no output 'nope'.*artifacts, result"):
        _ = job.outputs.nope
    with pytest.raises(AttributeError, match="no input 'nope'.*data"):
        _ = job.inputs.nope
    assert not hasattr(job.outputs, "_private")
    assert pickle.loads(pickle.dumps(job)).outputs.result == job.outputs.result
    assert copy.deepcopy(job).inputs.data == job.inputs.data


def test_azure_job_attributes_are_read_from_the_record() -> None:
    job = as_job(_record())
    assert job.description == "trains" and job.tags == {"team": "x"} and job.properties == {"p": "1"}
    assert job.type == "command" and job.command == "python train.py"
    assert job.environment == "azureml:sk@latest" and job.compute == "azureml:cpu"
    assert job.id == "azureml://jobs/job1"
    assert job.creation_context.created_at == CREATED
    assert job.creation_context.last_modified_at == ENDED
    assert job.creation_context.created_by is None


def test_a_minimal_spec_gives_azures_empty_values() -> None:
    job = as_job(JobRecord(name="p1", created_at=CREATED, spec={"type": "pipeline", "jobs": {}}))
    assert (job.type, job.description, job.compute, job.environment, job.command) == \
        ("pipeline", None, None, None, None)
    assert job.tags == {} and job.properties == {}
    assert job.creation_context.last_modified_at == CREATED
    assert job.inputs == {} and list(job.outputs) == ["artifacts"]


def test_the_json_shape_is_the_records() -> None:
    record = _record()
    job = as_job(record)
    assert job.model_dump(mode="json") == record.model_dump(mode="json")
    assert type(job.model_dump()["outputs"]) is dict
    assert job.model_dump_json() == record.model_dump_json()
