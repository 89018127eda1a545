"""The command job specification: Azure ML CLI v2 ``commandJob`` fields as pydantic models.

    spec = load_job_spec("job.yml", overrides=["inputs.x.path=data/"])   # YAML
    spec = spec_from_dict({...}, base_dir=Path.cwd())                     # Python builder

Structure and types are checked by pydantic; every problem becomes ONE ``SpecError`` naming
file:line:col and the field (``runner.spec_errors``). Then ``runner.spec_checks`` checks what spans
fields (expressions in ``command``, inputs without a value) and lists the fields that mean nothing on one
machine (accepted, reported as warnings).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from runner.errors import ModeError, SourceLocation
from runner.modes import AssetType, Direction, Mode, allowed_modes, check_mode
from runner.names import JOB_NAME_PATTERN
from runner.spec_errors import RUNNER_ERROR, RUNNER_MODE_ERROR, did_you_mean, field_location

NAME_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
LITERAL_TYPES = ("string", "integer", "number", "boolean")
INPUT_TYPES = tuple(t.value for t in AssetType) + LITERAL_TYPES
OUTPUT_TYPES = tuple(t.value for t in AssetType)

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


def _fail(message: str, hint: str | None = None) -> PydanticCustomError:
    return PydanticCustomError(RUNNER_ERROR, message, {"hint": hint} if hint else {})


def _io_name(value: str) -> str:
    if not NAME_PATTERN.match(value):
        raise _fail(f"'{value}' is not a valid input/output name",
                    "names must match ^[a-zA-Z_][a-zA-Z0-9_]*$ (letters, digits, underscores; "
                    "no dashes or dots)")
    return value


IoName = Annotated[str, AfterValidator(_io_name)]


def _strings(value: Any) -> Any:
    """tags / properties / environment_variables: scalars become text (Azure renders str())."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {k: ("" if v is None else str(v) if isinstance(v, bool | int | float) else v)
                for k, v in value.items()}
    return value


def _parse_mode(value: Any, asset_type: Any, direction: Direction) -> Mode | None:
    """A mode string checked against the matrix for this type and direction (path kind not known yet)."""
    if value is None:
        return None
    known = isinstance(asset_type, AssetType)
    allowed = [m.value for m in Mode if m in allowed_modes(asset_type, direction)] if known else [
        m.value for m in Mode]
    what = f"a {asset_type.value} {direction.value}" if known else f"an {direction.value}"
    if value == "mount":  # Azure's generic mount
        value = Mode.RO_MOUNT if direction is Direction.INPUT else Mode.RW_MOUNT
    try:
        mode = Mode(str(value))
    except ValueError:
        raise PydanticCustomError(
            RUNNER_MODE_ERROR, f"'{value}' is not a mode{did_you_mean(str(value), allowed)}; "
            f"allowed for {what}: {', '.join(allowed)}", {"hint": f"set mode to one of: {', '.join(allowed)}"}
        ) from None
    if known:
        try:
            check_mode(asset_type, direction, mode)
        except ModeError as err:
            raise PydanticCustomError(RUNNER_MODE_ERROR, err.message,
                                      {"hint": err.hint} if err.hint else {}) from None
    return mode


def _parse_type(value: Any, allowed: tuple[str, ...], direction: Direction) -> AssetType:
    if value is None:
        return AssetType.URI_FOLDER
    if isinstance(value, AssetType):
        return value
    if str(value) in allowed and str(value) in OUTPUT_TYPES:
        return AssetType(str(value))
    raise _fail(f"'{value}' is not an {direction.value} type{did_you_mean(str(value), allowed)}",
                "use one of: " + ", ".join(allowed))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AssetInput(_Strict):
    """A model or data input: ``{type, path, mode}``."""

    type: AssetType = AssetType.URI_FOLDER
    path: str | None = None
    mode: Mode | None = None
    description: str | None = None
    optional: bool = False
    datastore: str | None = None  # ignored: local paths are used where they are
    path_on_compute: str | None = None  # ignored

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> AssetType:
        return _parse_type(value, INPUT_TYPES, Direction.INPUT)

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any, info: ValidationInfo) -> Mode | None:
        return _parse_mode(value, info.data.get("type"), Direction.INPUT)

    @property
    def has_value(self) -> bool:
        return self.path is not None


class LiteralInput(_Strict):
    """A literal value: a plain scalar, ``{value: x}`` or ``{type: integer, default: 3}``."""

    type: Literal["string", "integer", "number", "boolean"] | None = None
    value: Scalar | None = None
    default: Scalar | None = None
    optional: bool = False
    description: str | None = None
    min: StrictInt | StrictFloat | None = None
    max: StrictInt | StrictFloat | None = None
    enum: list[Scalar] | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar(cls, data: Any) -> Any:
        return data if isinstance(data, dict) else {"value": data}

    @model_validator(mode="after")
    def _typed(self) -> LiteralInput:
        for name in ("value", "default"):
            given = getattr(self, name)
            if given is None or self.type is None:
                continue
            ok = {"integer": isinstance(given, int) and not isinstance(given, bool),
                  "number": isinstance(given, int | float) and not isinstance(given, bool),
                  "boolean": isinstance(given, bool), "string": True}[self.type]
            if not ok:
                article = "an" if self.type == "integer" else "a"
                raise _fail(f"{name} {given!r} is not {article} {self.type}",
                            f"give {article} {self.type} {name}, or change type")
        self._check_range()
        return self

    def _check_range(self) -> None:
        value = self.effective
        if value is None:
            return
        if isinstance(value, int | float) and not isinstance(value, bool) and (
                (self.min is not None and value < self.min) or (self.max is not None and value > self.max)):
            raise _fail(f"{value!r} is outside [{self.min}, {self.max}]", "give a value in range")
        if self.enum is not None and value not in self.enum:
            raise _fail(f"{value!r} is not one of {self.enum}", "give one of the enum values")

    @model_serializer(mode="wrap")
    def _as_scalar(self, handler: SerializerFunctionWrapHandler) -> Any:
        """A literal with only a value is written back as the plain scalar (``n: 3``)."""
        data = handler(self)
        if self.value is not None and set(self.model_fields_set) <= {"value"}:
            return data["value"] if isinstance(data, dict) and "value" in data else data
        return data

    @property
    def effective(self) -> Scalar | None:
        return self.value if self.value is not None else self.default

    @property
    def has_value(self) -> bool:
        return self.effective is not None

    def rendered(self) -> str | None:
        """As Azure passes it to the command: Python ``str()`` (``True`` -> ``"True"``)."""
        value = self.effective
        return None if value is None else str(value)


def _input_kind(value: Any) -> str:
    if isinstance(value, AssetInput):
        return "<asset>"
    if not isinstance(value, dict):
        return "<literal>"
    if value.get("type") in LITERAL_TYPES or ("path" not in value and (
            "value" in value or "default" in value)):
        return "<literal>"
    return "<asset>"


JobInput = Annotated[
    Annotated[AssetInput, Tag("<asset>")] | Annotated[LiteralInput, Tag("<literal>")],
    Discriminator(_input_kind),
]


class OutputSpec(_Strict):
    """An output: ``{type, path, mode, name, version}``; ``name``+``version`` registers a model."""

    type: AssetType = AssetType.URI_FOLDER
    path: str | None = None
    mode: Mode | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> AssetType:
        return _parse_type(value, OUTPUT_TYPES, Direction.OUTPUT)

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any, info: ValidationInfo) -> Mode | None:
        return _parse_mode(value, info.data.get("type"), Direction.OUTPUT)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _registration(self) -> OutputSpec:
        if self.version is not None and self.name is None:
            raise _fail("an output with a version needs a name",
                        "add name: <model name> (the output is registered as that model on completion)")
        return self


class BuildContext(_Strict):
    path: str
    dockerfile_path: str = "Dockerfile"


class InlineEnvironment(_Strict):
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

    @model_validator(mode="after")
    def _has_image(self) -> InlineEnvironment:
        if self.image is None and self.build is None:
            raise _fail("an inline environment needs an image or a build context",
                        "add image: <docker image> (e.g. python:3.11) or build: {path: <folder>}")
        if self.image is not None and self.build is not None:
            raise _fail("give either image or build, not both", "remove one of them")
        return self


def _environment_kind(value: Any) -> str:
    return "<ref>" if isinstance(value, str) else "<inline>"


EnvironmentField = Annotated[
    Annotated[str, Tag("<ref>")] | Annotated[InlineEnvironment, Tag("<inline>")],
    Discriminator(_environment_kind),
]

_SHM = re.compile(r"^\d+[bkmgBKMG]?$")


class ResourcesSpec(_Strict):
    instance_count: int = Field(default=1, ge=1)
    instance_type: str | None = None  # ignored: runs on this machine
    shm_size: str | None = None
    docker_args: list[str] = Field(default_factory=list)
    gpu_count: int | Literal["all"] = 0  # runner extension: GPUs to give the container
    properties: dict[str, Any] | None = None  # ignored
    locations: list[str] | None = None  # ignored
    max_instance_count: int | None = None  # ignored

    @field_validator("docker_args", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("shm_size")
    @classmethod
    def _shm(cls, value: str | None) -> str | None:
        if value is not None and not _SHM.match(value):
            raise _fail(f"shm_size '{value}' is not a size", "write a number with a unit: 2g, 512m")
        return value


class LimitsSpec(_Strict):
    timeout: int | None = Field(default=None, gt=0)  # seconds


class CommandJobSpec(_Strict):
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
    environment_variables: dict[str, str] = Field(default_factory=dict)
    inputs: dict[IoName, JobInput] = Field(default_factory=dict)
    outputs: dict[IoName, OutputSpec] = Field(default_factory=dict)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    distribution: dict[str, Any] | None = None  # ignored: one machine
    compute: str | None = None  # ignored: runs on this machine
    identity: dict[str, Any] | None = None  # ignored
    services: dict[str, Any] | None = None  # ignored
    queue_settings: dict[str, Any] | None = None  # ignored
    parent_job_name: str | None = None  # ignored

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: Path | None = PrivateAttr(default=None)
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _ignored: list[str] = PrivateAttr(default_factory=list)
    _doc: Any = PrivateAttr(default=None)  # the YamlDoc it was loaded from, for plan-time locations
    _overridden: dict[str, str] = PrivateAttr(default_factory=dict)  # --set key -> raw value

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
        if value is not None and not JOB_NAME_PATTERN.match(value):
            raise _fail(f"'{value}' is not a valid job name",
                        "use letters, digits, '-' and '_', starting with a letter or digit")
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _command_type(cls, value: Any) -> Any:
        if value not in (None, "command"):
            raise _fail(f"job type '{value}' is not supported; only command jobs run locally",
                        "set type: command (or remove it)")
        return "command" if value is None else value

    # -- not part of the YAML -------------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        """The folder relative paths (code, local inputs, build.path) are relative to."""
        return self._base_dir

    @property
    def source(self) -> Path | None:
        """The YAML file this spec was loaded from (None when built in Python)."""
        return self._source

    def where(self, *field_path: str | int) -> SourceLocation:
        """Where a field was written (file:line:col), or ``<python>`` for a job built in Python."""
        return self._doc.where(field_path) if self._doc is not None else SourceLocation(None)

    def field_location(self, *field_path: str | int) -> tuple[str, SourceLocation | None]:
        """The dotted field and where it was written, for an error about its value; a value given
        with ``--set`` is named as such (``inputs.x.path (from --set inputs.x.path=...)``)."""
        field = ".".join(str(part) for part in field_path)
        return field_location(field, self.where(*field_path), self._overridden)

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @property
    def ignored_fields(self) -> list[str]:
        return list(self._ignored)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The spec as YAML-ready plain data (defaults left out, ``$schema`` spelled as in Azure)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CommandJobSpec):
            return NotImplemented
        return self.to_yaml_dict() == other.to_yaml_dict()

    __hash__ = None  # type: ignore[assignment]


def validate_structure(data: Any) -> CommandJobSpec:
    """pydantic validation only (raises ``ValidationError``); see ``runner.spec_checks``."""
    if not isinstance(data, dict):
        raise ValidationError.from_exception_data("CommandJobSpec", [{
            "type": "model_type", "loc": (), "input": data,
            "ctx": {"class_name": "CommandJobSpec"}}])
    return CommandJobSpec.model_validate(data)


def load_job_spec(path: str | Path, overrides: Sequence[str] = ()) -> CommandJobSpec:
    """Load and fully check a job YAML (see ``runner.spec_load.load_job_spec``)."""
    from runner.spec_load import load_job_spec as load

    return load(path, overrides)


def spec_from_dict(data: dict[str, Any], *, base_dir: Path | None = None) -> CommandJobSpec:
    """Check a job given as plain data (the Python builder; see ``runner.spec_load``)."""
    from runner.spec_load import spec_from_data

    return spec_from_data(data, base_dir=base_dir)
