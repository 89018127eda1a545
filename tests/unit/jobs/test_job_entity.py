"""The job ``ml_client.jobs`` returns has azure.ai.ml's attributes, read from its record: inputs and
outputs by attribute and by key, description, tags, type, compute, environment, command, properties, id
and creation_context; its JSON (``runner job show -o json``) keeps the record's shape."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

import pytest

from runner.jobs.operations import Job, as_job
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
    assert job.outputs.result is job.outputs["result"]
    assert job.outputs.result.path == "azureml://datastores/workspaceblobstore/paths/azureml/job1/result/"
    assert job.outputs.artifacts.path.endswith("ExperimentRun/dcid.job1/")
    assert job.inputs.data is job.inputs["data"]
    assert job.inputs.data.path == "azureml://datastores/workspaceblobstore/paths/d/"
    assert isinstance(job.outputs, dict) and sorted(job.outputs) == ["artifacts", "result"]
    assert dict(job.outputs.items())["result"] is job.outputs.result
    with pytest.raises(AttributeError, match="no output 'nope'.*artifacts, result"):
        _ = job.outputs.nope
    with pytest.raises(AttributeError, match="no input 'nope'.*data"):
        _ = job.inputs.nope
    assert not hasattr(job.outputs, "_private")
    assert pickle.loads(pickle.dumps(job)).outputs.result == job.outputs.result
    assert copy.deepcopy(job).inputs.data == job.inputs.data


def test_outputs_are_output_like_with_the_settings_as_submitted() -> None:
    """As azure.ai.ml's returned job: ``outputs.<o>.path`` / ``.mode`` / ``.type`` (and ``.name`` /
    ``.version`` of an output that registers one); a setting left out is the one the job ran with."""
    job = as_job(_record(outputs={"result": {"type": "custom_model", "mode": "upload", "name": "m",
                                             "version": "3", "description": "the model"}}))
    result = job.outputs.result
    assert (result.type, result.mode, result.name, result.version, result.description) == \
        ("custom_model", "upload", "m", "3", "the model")
    plain = as_job(_record(outputs={"result": {}})).outputs.result
    assert (plain.type, plain.mode, plain.name, plain.version) == ("uri_folder", "rw_mount", None, None)
    artifacts = job.outputs.artifacts
    assert (artifacts.type, artifacts.mode, artifacts.name) == ("uri_folder", "upload", None)
    with pytest.raises(AttributeError):
        result.mode = "download"  # type: ignore[misc]  # a returned job is a read-only view


def test_the_plan_gives_the_modes_and_types_the_job_ran_with() -> None:
    record = _record(inputs={"data": {"path": "./d"}}, outputs={"result": {"type": "uri_file"}})
    plan = {"inputs": [{"name": "data", "type": "uri_folder", "mode": "download"}],
            "outputs": [{"name": "result", "type": "uri_file", "mode": "upload",
                         "registered_as": {"kind": "data", "name": "r", "version": None}}]}
    job = as_job(record.model_copy(update={"extra": {"plan": plan}}))
    assert (job.inputs.data.type, job.inputs.data.mode) == ("uri_folder", "download")
    assert (job.outputs.result.type, job.outputs.result.mode) == ("uri_file", "upload")
    assert (job.outputs.result.name, job.outputs.result.version) == ("r", None)


def test_literal_inputs_are_their_values() -> None:
    job = as_job(_record(inputs={"data": {"type": "uri_folder", "path": "./d"}, "lr": 0.1,
                                 "epochs": {"type": "integer", "default": 3}}))
    assert job.inputs.lr == 0.1 and job.inputs["epochs"] == 3
    assert (job.inputs.data.type, job.inputs.data.mode) == ("uri_folder", "ro_mount")
    assert job.model_dump()["inputs"] == {"data": "azureml://datastores/workspaceblobstore/paths/d/"}


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
    assert as_job(job) is job and JobRecord.model_validate(job.model_dump()) == record
    assert Job.model_validate(job.model_dump()).outputs.result.path == job.outputs.result.path


def test_a_returned_output_reads_as_its_uri_where_a_path_is_taken() -> None:
    """Where the URI string was used before outputs had settings (another job's input, an f-string), the
    output still gives its path."""
    from runner import Input, command

    job = as_job(_record(outputs={"result": {"type": "custom_model", "mode": "upload"}}))
    uri = "azureml://datastores/workspaceblobstore/paths/azureml/job1/result/"
    chained = command(command="ls ${{inputs.m}}", environment="img", inputs={"m": job.outputs.result})
    taken = chained.inputs.m
    assert (taken.path, taken.type, taken.mode) == (uri, "custom_model", None)
    assert Input(type="custom_model", path=job.outputs.result).path == uri
    assert f"{job.outputs.result}" == uri and str(job.inputs.data) == job.inputs.data.path


def test_setting_an_undeclared_input_or_output_of_a_returned_job_is_one_error() -> None:
    """``returned.outputs.foo = x`` is refused, naming the job's outputs (never a silent attribute that
    ``returned.outputs["foo"]`` does not see); a declared one is set as its entry."""
    from runner.errors import SpecError

    job = as_job(_record())
    with pytest.raises(SpecError) as raised:
        job.outputs.foo = "x"
    assert raised.value.message == "the job has no output 'foo'; its outputs: artifacts, result"
    assert raised.value.field == "outputs.foo" and raised.value.hint
    with pytest.raises(SpecError, match="no input 'dta' \\(did you mean 'data'\\?\\); its inputs: data"):
        job.inputs.dta = "x"
    assert "foo" not in job.outputs and "dta" not in job.inputs
    with pytest.raises(AttributeError):
        _ = job.outputs.foo
    job.outputs.result = "y"
    assert job.outputs.result == job.outputs["result"] == "y"
