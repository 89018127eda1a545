"""The pipeline job: Azure ML's ``pipelineJob`` YAML (``type: pipeline``) as pydantic models.

    spec = load_pipeline_spec("pipeline.yml", overrides=["settings.force_rerun=true"])

A pipeline has inputs and outputs of its own, ``settings`` and ``jobs``: named command steps, each
written inline (``command``, ``environment``, ...) or as a component (``component: ./train.yml``,
``component: azureml:train:1``, ``component: {inline mapping}``) with the step's values for the
component's inputs and outputs. The values may be bindings (``runner.spec.bindings``). Here only the
structure is checked; what the bindings name, the graph they make and each step as the command job it
becomes are checked by ``runner.pipelines.graph`` (it can read registered components).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from runner.errors import SpecError
from runner.spec.job import _strings
from runner.spec.job_io import IoName, JobInput, LoadedSpec, OutputSpec, StrictModel
from runner.spec.load import apply_overrides, refuse_undeclared_sets
from runner.spec.names import JOB_NAME_HINT, job_name_problem, step_name_problem
from runner.spec.validation import did_you_mean, from_validation_error, runner_error
from runner.spec.yamlio import YamlDoc, load_yaml

PIPELINE_SCHEMA = "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"
KNOWN_SETTINGS = ("default_compute", "default_datastore", "continue_on_step_failure", "force_rerun")
STEP_TYPES = ("command",)


def _step_name(value: str) -> str:
    if problem := step_name_problem(value):
        raise runner_error(*problem)
    return value


StepName = Annotated[str, AfterValidator(_step_name)]  # a key of jobs: (``runner.spec.names``)


class PipelineSettings(BaseModel):
    """``settings:`` (Azure accepts keys it does not know; so does this, with a warning)."""

    model_config = ConfigDict(extra="allow")

    default_compute: str | None = None
    default_datastore: str | None = None
    continue_on_step_failure: bool = False
    force_rerun: bool = False

    @property
    def unknown(self) -> list[str]:
        return sorted(self.model_extra or {})

    @property
    def datastore(self) -> str | None:
        """``default_datastore`` without Azure's ``azureml:`` prefix."""
        return self.default_datastore.removeprefix("azureml:") if self.default_datastore else None


class StepSpec(StrictModel):
    """One entry of ``jobs:``; its values are checked when the step is made a command job."""

    type: str = "command"
    component: str | dict[str, Any] | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    experiment_name: str | None = None
    comment: str | None = None
    compute: str | None = None
    command: str | None = None
    code: str | None = None
    environment: str | dict[str, Any] | None = None
    environment_variables: dict[str, Any] | None = None
    inputs: dict[IoName, Any] = Field(default_factory=dict)
    outputs: dict[IoName, Any] = Field(default_factory=dict)
    resources: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None
    distribution: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    services: dict[str, Any] | None = None
    queue_settings: dict[str, Any] | None = None

    @field_validator("tags", "properties", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="before")
    @classmethod
    def _kind_first(cls, data: Any) -> Any:
        """A step of another kind is checked for its ``type`` alone, so that it is said to be a sweep or a
        pipeline (by ``_step_type``), not reported as the unknown fields its kind brings (``trial``,
        ``jobs``)."""
        if isinstance(data, dict) and data.get("type", "command") not in STEP_TYPES:
            return {"type": data["type"]}
        return data

    @field_validator("type")
    @classmethod
    def _step_type(cls, value: str) -> str:
        if value == "pipeline":
            raise runner_error("a pipeline inside a pipeline (type: pipeline step) is not supported here",
                               "write its steps in this pipeline's jobs:")
        if value not in STEP_TYPES:
            raise runner_error(f"step type '{value}' is not supported here; steps are command jobs",
                               "set type: command (sweep, parallel, spark and data_transfer steps do not "
                               "run locally)")
        return value


class PipelineJobSpec(LoadedSpec):
    """A pipeline job, as Azure ML's ``pipelineJob`` YAML."""

    schema_: str | None = Field(default=None, alias="$schema")
    type: Literal["pipeline"]
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    compute: str | None = None
    settings: PipelineSettings = Field(default_factory=PipelineSettings)
    inputs: dict[IoName, JobInput] = Field(default_factory=dict)
    outputs: dict[IoName, OutputSpec] = Field(default_factory=dict)
    jobs: dict[StepName, StepSpec]
    identity: dict[str, Any] | None = None

    @field_validator("tags", "properties", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("inputs", "settings", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("outputs", mode="before")
    @classmethod
    def _bare_outputs(cls, value: Any) -> Any:
        if value is None:
            return {}
        return {k: ({} if v is None else v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("name")
    @classmethod
    def _job_name(cls, value: str | None) -> str | None:
        problem = None if value is None else job_name_problem(value)
        if problem:
            raise runner_error(problem, JOB_NAME_HINT)
        return value

    @field_validator("jobs")
    @classmethod
    def _some_jobs(cls, value: dict[str, StepSpec]) -> dict[str, StepSpec]:
        if not value:
            raise runner_error("a pipeline needs at least one step under jobs:",
                               "add jobs: <step name>: {type: command, component: ./component.yml}")
        return value

    # -- not part of the YAML (and LoadedSpec's base_dir, source, where, field_location) ----------------
    def settings_warnings(self) -> list[str]:
        return [f"{self.where('settings', key)}: settings.{key} is not a pipeline setting and is ignored"
                f"{did_you_mean(key, KNOWN_SETTINGS)}" for key in self.settings.unknown]


def pipeline_from_doc(doc: YamlDoc, overrides: Sequence[str] = (), *,
                      python: bool = False) -> PipelineJobSpec:
    """Validate a loaded pipeline YAML (after ``--set`` overrides; ``python``: given as ``load_job``'s
    ``params_override``, named so in messages)."""
    data = copy.deepcopy(doc.data) if overrides else doc.data
    if not isinstance(data, dict):
        raise SpecError("a pipeline file must be a mapping of fields", where=doc.where(()),
                        hint="start with 'type: pipeline' and 'jobs:'")
    refuse_undeclared_sets(data, overrides, python=python)
    applied = apply_overrides(data, overrides, python=python)
    try:
        spec = PipelineJobSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, root=PipelineJobSpec, data=data, doc=doc,
                                    overridden=applied) from exc
    spec._base_dir = doc.base_dir
    spec._doc = YamlDoc(data=data, file=doc.file, positions=doc.positions, lines=doc.lines)
    spec._overridden = applied
    return spec


def load_pipeline_spec(path: str | Path, overrides: Sequence[str] = ()) -> PipelineJobSpec:
    """Load a pipeline job YAML and check its structure (one ``SpecError`` with file:line:col)."""
    return pipeline_from_doc(load_yaml(path), overrides)


def pipeline_from_data(data: dict[str, Any], *, base_dir: Path | None = None) -> PipelineJobSpec:
    """Validate plain data (a pipeline built in Python)."""
    try:
        spec = PipelineJobSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, root=PipelineJobSpec, data=data, doc=None) from exc
    spec._base_dir = (base_dir or Path.cwd()).resolve()
    return spec
