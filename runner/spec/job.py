"""The command job specification: Azure ML CLI v2 ``commandJob`` fields as pydantic models.

    spec = runner.spec.load.load_job_spec("job.yml", overrides=["inputs.x.path=data/"])   # YAML
    spec = runner.spec.load.spec_from_data({...}, base_dir=Path.cwd())    # the Python builder

Structure and types are checked by pydantic; every problem becomes ONE ``SpecError`` naming
file:line:col and the field (``runner.spec.validation``). Then ``runner.spec.load`` checks what spans
fields (expressions in ``command``, inputs without a value) and lists the fields that mean nothing on one
machine (accepted, reported as warnings). The inputs and outputs (names, types, modes, literals) are in
``runner.spec.job_io``.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from runner.lazy_re import on_first_use
from runner.spec.image_ref import environment_reference
from runner.spec.job_io import (
    IoName,
    JobInput,
    LoadedSpec,
    OutputSpec,
    StrictModel,
)
from runner.spec.kinds import unsupported_job_type
from runner.spec.names import JOB_NAME_HINT, job_name_problem
from runner.spec.secret_fields import shown_env_name
from runner.spec.validation import runner_error


def _strings(value: Any) -> Any:
    """tags / properties / environment_variables: scalars become text (Azure renders str())."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {k: ("" if v is None else str(v) if isinstance(v, bool | int | float) else v)
                for k, v in value.items()}
    return value


_NAMES = ("a name holds any character but '=' and NUL; one a shell reads as $NAME is letters, digits "
          "and _, as MY_VAR")


def _env_name(name: str) -> str:
    """An ``environment_variables`` key: a name a process's environment can hold (``NAME=value``). A
    refused one is shown without what follows its first '=' (``shown_env_name``: a value written into the
    name, ``"A=hunter2": x``, is never echoed)."""
    if not name:
        raise runner_error("the environment variable's name is empty", f"give it a name: {_NAMES}")
    shown = shown_env_name(name)
    if "\0" in name:
        raise runner_error(f"environment variable name '{shown}' holds a NUL character, which no "
                           "environment can hold", f"remove it from the name: {_NAMES}")
    if "=" in name:
        raise runner_error(f"environment variable name '{shown}' holds '=', which ends a name in an "
                           f"environment (the job would get the variable '{shown.partition('=')[0]}' with "
                           "the rest as the start of its value; what follows the '=' is not shown)",
                           f"write the name without '=' (a value may hold it): {_NAMES}")
    return name


def _env_value(value: str) -> str:
    if "\0" in value:
        raise runner_error("the value holds a NUL character (\\0), which no environment can hold",
                           "remove the NUL from the value (an environment variable's value is text "
                           "without NUL)")
    return value


EnvironmentVariables = dict[Annotated[str, AfterValidator(_env_name)],
                            Annotated[str, AfterValidator(_env_value)]]


class BuildContext(StrictModel):
    path: str
    dockerfile_path: str = "Dockerfile"


class InlineEnvironment(StrictModel):
    """``environment: {image: ...}``, ``{build: {path: ...}}`` or ``{image, conda_file}``."""

    image: str | None = None
    build: BuildContext | None = None
    conda_file: str | dict[str, Any] | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    os_type: Literal["linux", "windows"] | None = None
    inference_config: dict[str, Any] | None = None  # ignored

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @field_validator("tags", mode="before")
    @classmethod
    def _text_tags(cls, value: Any) -> Any:
        return _strings(value)  # as the job's own tags: ``{a: 1}`` is {"a": "1"}

    @model_validator(mode="after")
    def _has_image(self) -> InlineEnvironment:
        if self.image is None and self.build is None:
            raise runner_error("an inline environment needs an image or a build context",
                        "add image: <docker image> (e.g. python:3.11) or build: {path: <folder>}")
        if self.image is not None and self.build is not None:
            raise runner_error("give either image or build, not both", "remove one of them")
        return self


def _environment_kind(value: Any) -> str:
    return "<ref>" if isinstance(value, str) else "<inline>"


EnvironmentField = Annotated[
    # a bare <name>@latest is azureml:<name>@latest, as in azure.ai.ml
    Annotated[str, AfterValidator(environment_reference), Tag("<ref>")]
    | Annotated[InlineEnvironment, Tag("<inline>")],
    Discriminator(_environment_kind),
]


_shm_re = on_first_use(r"^\d+[bkmgBKMG]?$")


def _no_docker_args() -> list[str]:
    """A new empty list: a Python factory, whose signature pydantic reads without tokenizing (``list``'s is
    parsed from its text, which compiles ``tokenize``'s patterns: ~14 M instructions of a cold validate)."""
    return []


class ResourcesSpec(StrictModel):
    instance_count: int = Field(default=1, ge=1)
    instance_type: str | None = None  # ignored: runs on this machine
    shm_size: str | None = None
    docker_args: list[str] = Field(default_factory=_no_docker_args)
    gpu_count: int | Literal["all"] = 0  # runner extension: GPUs to give the container
    properties: dict[str, Any] | None = None  # ignored
    locations: list[str] | None = None  # ignored
    max_instance_count: int | None = None  # ignored

    @field_validator("docker_args", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("gpu_count")
    @classmethod
    def _gpus(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 0 <= value < 2**31:
            raise runner_error(f"gpu_count {value} is not a number of GPUs",
                               "write a count (0, 1, 2...) or all")
        return value

    @field_validator("shm_size")
    @classmethod
    def _shm(cls, value: str | None) -> str | None:
        if value is not None and not _shm_re().match(value):
            raise runner_error(f"shm_size '{value}' is not a size", "write a number with a unit: 2g, 512m")
        return value


# the longest limits.timeout (seconds, about 68 years): a signed 32-bit count, which every timer on the way
# takes (Python's waits, Docker's, a SAS lifetime); azure.ai.ml sets no bound
MAX_TIMEOUT_S = 2**31 - 1


class LimitsSpec(StrictModel):
    timeout: int | None = Field(default=None, gt=0)  # seconds

    @field_validator("timeout")
    @classmethod
    def _sane_timeout(cls, value: int | None) -> int | None:
        if value is not None and value > MAX_TIMEOUT_S:
            raise runner_error(f"{value} s is longer than the longest timeout, {MAX_TIMEOUT_S} s (about 68 "
                               "years)", "give the job's longest run in seconds (86400 is a day), "
                                                 "or leave limits.timeout out for no limit")
        return value


class CommandJobSpec(LoadedSpec):
    """A command job, as Azure ML's ``commandJob`` YAML."""

    schema_: str | None = Field(default=None, alias="$schema")
    type: Literal["command"] = "command"
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    code: str | None = None
    command: str
    environment: EnvironmentField
    environment_variables: EnvironmentVariables = Field(default_factory=dict)
    inputs: dict[IoName, JobInput] = Field(default_factory=dict)
    outputs: dict[IoName, OutputSpec] = Field(default_factory=dict)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    distribution: dict[str, Any] | None = None  # ignored: one machine
    compute: str | None = None  # ignored: runs on this machine
    identity: dict[str, Any] | None = None  # ignored
    services: dict[str, Any] | None = None  # ignored
    queue_settings: dict[str, Any] | None = None  # ignored
    parent_job_name: str | None = None  # the pipeline a step job belongs to

    # factories are lambdas (see LoadedSpec)
    _warnings: list[str] = PrivateAttr(default_factory=lambda: [])
    _ignored: list[str] = PrivateAttr(default_factory=lambda: [])

    @field_validator("tags", "properties", "environment_variables", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("inputs", mode="before")
    @classmethod
    def _no_inputs(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("outputs", mode="before")
    @classmethod
    def _bare_outputs(cls, value: Any) -> Any:
        """``outputs: {x: }`` is an output with every default."""
        if value is None:
            return {}
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("name")
    @classmethod
    def _job_name(cls, value: str | None) -> str | None:
        problem = None if value is None else job_name_problem(value)
        if problem:
            raise runner_error(problem, JOB_NAME_HINT)
        return value

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise runner_error("command is empty: there would be nothing to run",
                               "write the command the job runs, e.g. command: python train.py")
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _command_type(cls, value: Any) -> Any:
        if value not in (None, "command"):
            raise runner_error(*unsupported_job_type(str(value)))  # as the YAML's check says it
        return "command" if value is None else value

    # -- not part of the YAML (and LoadedSpec's base_dir, source, where, field_location) ----------------
    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @property
    def ignored_fields(self) -> list[str]:
        return list(self._ignored)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CommandJobSpec):
            return NotImplemented
        return self.to_yaml_dict() == other.to_yaml_dict()

    __hash__ = None  # type: ignore[assignment]


def validate_structure(data: Any) -> CommandJobSpec:
    """pydantic validation only (raises ``ValidationError``); ``runner.spec.load`` checks what spans
    fields."""
    if not isinstance(data, dict):
        raise ValidationError.from_exception_data("CommandJobSpec", [{
            "type": "model_type", "loc": (), "input": data,
            "ctx": {"class_name": "CommandJobSpec"}}])
    return CommandJobSpec.model_validate(data)
