"""``command(...)`` and ``load_job(...)``, with the signatures of ``azure.ai.ml``.

    from runner import Input, Output, command
    job = command(code="./src", command="python train.py --data ${{inputs.data}}",
                  inputs={"data": Input(type="uri_folder", path="./data")},
                  environment="python:3.11")

Both return a checked ``runner.entities.Command``; bad arguments raise one ``SpecError`` naming the field.
As in azure.ai.ml, ``command(...)`` accepts an input without a path (a component input: call the job in a
``@dsl.pipeline``); submitting the job with it is the error.
Relative paths (code, local inputs) are relative to the current directory when the job is built.
A registered environment, model or data asset object (``ml_client.environments.get(...)``,
``ml_client.data.get(...)``) is taken as azure.ai.ml takes it: by its id (``azureml:<name>:<version>``),
a model or data asset given as an input with its type.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.dsl import PipelineJob
from runner.entities import Command, Environment
from runner.errors import SpecError
from runner.inputs_outputs import Input, Output
from runner.inputs_outputs import _plain as _as_data
from runner.spec.asset import AssetBase, asset_reference
from runner.spec.load import is_pipeline_data, params_override_sets, spec_from_data, spec_from_doc
from runner.spec.pipeline import pipeline_from_doc
from runner.spec.validation import did_you_mean
from runner.spec.yamlio import load_yaml
from runner.workspace.environment_record import EnvironmentRecord

# azure.ai.ml.command() arguments with no local meaning that are accepted and dropped
_DROPPED = ("is_deterministic",)
_QUEUE_ARGS = ("job_tier", "priority")  # the job's queue_settings, as azure.ai.ml's set_queue_settings
_RESOURCE_ARGS = ("instance_count", "instance_type", "locations", "docker_args", "shm_size", "gpu_count")
_ARGS = ("name", "description", "tags", "properties", "display_name", "command", "experiment_name",
         "environment", "environment_variables", "distribution", "compute", "inputs", "outputs", "timeout",
         "code", "identity", "services", "parent_job_name", "resources", "limits", "queue_settings",
         *_RESOURCE_ARGS, *_QUEUE_ARGS, *_DROPPED)
_FIRST = ("command", "environment", "inputs", "outputs", "code")  # command()'s own parameters
_MISSING_HINTS = {  # a command job's required fields, given to command()
    "command": 'give command(command="python train.py", ...) the shell command the job runs',
    "environment": 'give command(..., environment=...) an image (environment="python:3.11"), an '
                   'Environment(image=...) or Environment(build=BuildContext(path="docker/")), or a '
                   'reference (environment="azureml:<name>@latest")',
}


def _outputs(outputs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if outputs is None:
        return None
    return {k: ({} if v is None else _as_data(v)) for k, v in outputs.items()}


def _input(key: str, value: Any) -> Any:
    """An input's spec data; a model or data asset object is its type at its id (azure.ai.ml's
    ``_data_to_input``), one not registered one ``SpecError`` at ``inputs.<key>``."""
    if isinstance(value, AssetBase):
        return {"type": value.type, "path": asset_reference(value, field=f"inputs.{key}")}
    return _as_data(value)


def _merged(given: Any, kwargs: dict[str, Any], keys: Sequence[str]) -> dict[str, Any] | None:
    """``resources`` / ``limits`` / ``queue_settings`` as given, with the keyword arguments that set
    their fields."""
    data: dict[str, Any] = dict(_as_data(given) or {})
    data.update({key: kwargs[key] for key in keys if kwargs.get(key) is not None})
    return data or None


def command(*, command: str | None = None, environment: str | Environment | EnvironmentRecord | None = None,
            inputs: Mapping[str, Input | Any] | None = None,
            outputs: Mapping[str, Output | None] | None = None,
            code: str | os.PathLike[str] | None = None, **kwargs: Any) -> Command:
    """Build a command job, like ``azure.ai.ml.command`` (see the module docstring)."""
    for key in kwargs:
        if key not in _ARGS:
            raise SpecError(f"command() got an unknown argument '{key}'{did_you_mean(key, _ARGS)}",
                            field=key, hint="arguments: " + ", ".join(
                                [*_FIRST, *(a for a in _ARGS if a not in _FIRST)]))
    for field, value, entity in (("inputs", inputs, "Input"), ("outputs", outputs, "Output")):
        if value is not None and not isinstance(value, Mapping):
            raise SpecError(f"{field} must be a mapping of name to {entity}, not a {type(value).__name__}",
                            field=field, hint=f'write {field}={{"data": {entity}(type="uri_folder", ...)}} '
                                              f"(each {field[:-1]} is named by its key)")
    data: dict[str, Any] = {
        "name": kwargs.get("name"), "display_name": kwargs.get("display_name"),
        "experiment_name": kwargs.get("experiment_name"), "description": kwargs.get("description"),
        "tags": kwargs.get("tags"), "properties": kwargs.get("properties"),
        "code": None if code is None else os.fspath(code), "command": command,
        "environment": _as_data(environment), "environment_variables": kwargs.get("environment_variables"),
        "inputs": None if inputs is None else {k: _input(k, v) for k, v in inputs.items()},
        "outputs": _outputs(outputs), "resources": _merged(kwargs.get("resources"), kwargs, _RESOURCE_ARGS),
        "limits": _merged(kwargs.get("limits"), kwargs, ("timeout",)),
        "distribution": _as_data(kwargs.get("distribution")),
        "compute": kwargs.get("compute"), "identity": _as_data(kwargs.get("identity")),
        "services": _as_data(kwargs.get("services")),
        "queue_settings": _merged(kwargs.get("queue_settings"), kwargs, _QUEUE_ARGS),
        "parent_job_name": kwargs.get("parent_job_name"),
    }
    try:  # an input may have no path yet: a component input (``job(text=...)`` in a @dsl.pipeline)
        return Command(spec_from_data({k: v for k, v in data.items() if v is not None}, require_values=False))
    except SpecError as err:
        if err.field in _MISSING_HINTS and data.get(err.field) is None:  # the YAML's hint, as a keyword
            err.python_hint = _MISSING_HINTS[err.field]
        raise


def load_job(source: str | os.PathLike[str], *, relative_origin: str | None = None,
             params_override: Sequence[Mapping[str, Any]] | None = None,
             overrides: Sequence[str] = ()) -> Command | PipelineJob:
    """Load a job YAML, like ``azure.ai.ml.load_job``: a command job, or a pipeline job
    (``type: pipeline``, see ``runner.dsl``).

    ``overrides`` are ``--set``-style ``"inputs.x.path=data/"`` strings; ``params_override`` is Azure's
    ``[{"inputs.x.path": "data/"}]`` form. ``relative_origin`` is accepted for compatibility.
    """
    del relative_origin
    sets = [*overrides, *params_override_sets(params_override)]
    doc = load_yaml(Path(source))
    if is_pipeline_data(doc.data):
        return PipelineJob(pipeline_from_doc(doc, sets, python=True))
    return Command(spec_from_doc(doc, sets, python=True))
