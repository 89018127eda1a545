"""The inputs and outputs of a command job: names, types, modes (checked against the supported-modes
matrix) and literal values, as pydantic models. ``runner.spec.job.CommandJobSpec`` holds them by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from runner.constants import AZURE_ONLY_MODES
from runner.errors import ModeError, SourceLocation
from runner.modes import AssetType, Direction, Mode, allowed_modes, check_mode
from runner.spec.names import VERSION_HINT, asset_name_re, version_problem, version_text
from runner.spec.secret_fields import literal_secret
from runner.spec.validation import RUNNER_MODE_ERROR, did_you_mean, field_location, runner_error

if TYPE_CHECKING:
    from runner.spec.yamlio import YamlDoc

# azure-ai-ml's load_job accepts dashes (the seed's output ``trained-model``); its job submission refuses
# them ("Key name ... must be composed letters, numbers, and underscore"); runner accepts and runs them
NAME_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")
LITERAL_TYPES = ("string", "integer", "number", "boolean")
INPUT_TYPES = tuple(t.value for t in AssetType) + LITERAL_TYPES
OUTPUT_TYPES = tuple(t.value for t in AssetType)

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


MAX_IO_NAME = 255  # a folder name on the host (inputs/<name>, outputs/<name>)


def _io_name(value: str) -> str:
    if not NAME_PATTERN.match(value):
        raise runner_error(f"'{value}' is not a valid input/output name",
                    "names are letters, digits, '_' and '-', starting with a letter or '_' (no dots or "
                    "spaces)")
    if len(value) > MAX_IO_NAME:
        raise runner_error(f"an input/output name is {len(value)} characters long",
                           f"use at most {MAX_IO_NAME} characters (the name is a folder name)")
    return value


IoName = Annotated[str, AfterValidator(_io_name)]


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
    if str(value) in AZURE_ONLY_MODES:
        raise _azure_only_mode(str(value), direction, asset_type if known else None)
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


# what a job gets from an input of each type in ro_mount or download (the hint for Azure's eval modes)
_GETS = {AssetType.MLTABLE: "the MLTable folder, which mltable.load() reads", AssetType.URI_FILE: "the file",
         AssetType.URI_FOLDER: "the folder"}


def _azure_only_mode(value: str, direction: Direction, asset_type: AssetType | None) -> PydanticCustomError:
    """Azure's ``eval_mount`` / ``eval_download``: named as Azure's, with the mode to use instead."""
    use, other = AZURE_ONLY_MODES[value] if direction is Direction.INPUT else (Mode.RW_MOUNT, Mode.UPLOAD)
    why = "it evaluates v1 mltable datasets on the cloud" + (
        "" if direction is Direction.INPUT else ", for inputs")
    if direction is Direction.INPUT and asset_type not in (None, AssetType.MLTABLE):
        why = "Azure takes it for mltable inputs only"
    gets = _GETS.get(asset_type, "the model's files") if asset_type else "its files"
    return PydanticCustomError(
        RUNNER_MODE_ERROR, f"Azure's {value} is not supported here ({why}); use {use} (or {other})",
        {"hint": f"set mode: {use} (or {other})" + (f": the job gets {gets}" if direction is Direction.INPUT
                                                    else "")})


def _parse_type(value: Any, allowed: tuple[str, ...], direction: Direction) -> AssetType:
    if value is None:
        return AssetType.URI_FOLDER
    if isinstance(value, AssetType):
        return value
    if str(value) in allowed and str(value) in OUTPUT_TYPES:
        return AssetType(str(value))
    raise runner_error(f"'{value}' is not an {direction.value} type{did_you_mean(str(value), allowed)}",
                "use one of: " + ", ".join(allowed))


class StrictModel(BaseModel):
    """A spec model: unknown fields are errors; fields can be given by name or alias."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class LoadedSpec(StrictModel):
    """A whole spec (command job, component, pipeline), loaded from YAML or built in Python: the folder
    its relative paths are relative to, the document it came from, and where each field was written."""

    # factories are lambdas: pydantic inspects each factory's signature on every instance, and for a
    # builtin (list, dict) that means parsing its text signature (~0.6 ms each)
    _base_dir: Path = PrivateAttr(default_factory=lambda: Path.cwd())
    _doc: Any = PrivateAttr(default=None)  # the YamlDoc it was loaded from, for plan-time locations
    _overridden: dict[str, str] = PrivateAttr(default_factory=lambda: {})  # --set key -> its set_label

    @property
    def base_dir(self) -> Path:
        """The folder relative paths (code, local inputs, components, build.path) are relative to: the
        YAML's, or the working directory for a spec built in Python."""
        return self._base_dir

    @property
    def source(self) -> Path | None:
        """The YAML file this spec was loaded from (None when built in Python)."""
        return self._doc.file if self._doc is not None else None

    @property
    def doc(self) -> YamlDoc | None:
        return self._doc  # type: ignore[no-any-return]

    def where(self, *field_path: str | int) -> SourceLocation:
        """Where a field was written (file:line:col), or ``<python>`` for a spec built in Python."""
        return self._doc.where(field_path) if self._doc is not None else SourceLocation(None)

    def field_name(self, *field_path: str | int) -> str:
        """The dotted field as the user wrote it: ``outputs.o.version``, and for a pipeline step
        ``jobs.<step>.outputs.o.version`` (as the step's other errors name it)."""
        field = ".".join(str(part) for part in field_path)
        step = getattr(self._doc, "step", None)  # a StepDoc's (runner.spec.step_doc: not imported here)
        if step and field_path:
            return str(self._doc.field_name(tuple(field_path)))  # type: ignore[union-attr]
        return f"jobs.{step}" if step else field

    def field_location(self, *field_path: str | int) -> tuple[str, SourceLocation | None]:
        """The dotted field (``field_name``) and where it was written, for an error about its value; a
        value given with ``--set`` is named as such (``inputs.x.path (from --set inputs.x.path=...)``)."""
        return field_location(self.field_name(*field_path), self.where(*field_path), self._overridden)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The spec as YAML-ready plain data (defaults left out, ``$schema`` spelled as in Azure)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)


class AssetInput(StrictModel):
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


class LiteralInput(StrictModel):
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
        for given in (self.value, self.default, *(self.enum or ())):
            if refused := literal_secret(given):  # kept in the record as written: never a secret
                raise runner_error(*refused)
        for name in ("value", "default"):
            given = getattr(self, name)
            if given is None or self.type is None:
                continue
            ok = {"integer": isinstance(given, int) and not isinstance(given, bool),
                  "number": isinstance(given, int | float) and not isinstance(given, bool),
                  "boolean": isinstance(given, bool), "string": True}[self.type]
            if not ok:
                article = "an" if self.type == "integer" else "a"
                raise runner_error(f"{name} {given!r} is not {article} {self.type}",
                            f"give {article} {self.type} {name}, or change type")
        self._check_range()
        return self

    def _check_range(self) -> None:
        value = self.effective
        if value is None:
            return
        if isinstance(value, int | float) and not isinstance(value, bool) and (
                (self.min is not None and value < self.min) or (self.max is not None and value > self.max)):
            which = "the value" if self.value is not None else "the default"
            below = self.min is not None and value < self.min
            side, bound = ("below min", self.min) if below else ("above max", self.max)
            allowed = (f"from {self.min} to {self.max}" if self.min is not None and self.max is not None
                       else f"of at least {self.min}" if self.min is not None else f"of at most {self.max}")
            raise runner_error(f"{which} {value!r} is {side} {bound}",
                               f"give a {which[4:]} {allowed}, or change min/max")
        if self.enum is not None and value not in self.enum:
            raise runner_error(f"{value!r} is not one of {self.enum}", "give one of the enum values")

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


class OutputSpec(StrictModel):
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
        try:
            return version_text(value)
        except ValueError as exc:
            raise runner_error(str(exc), VERSION_HINT) from exc

    @field_validator("version")
    @classmethod
    def _version_rule(cls, value: str | None) -> str | None:
        problem = None if value is None else version_problem(value)
        if problem:  # the model is registered when the job completes: refused now, not then
            raise runner_error(problem, VERSION_HINT)
        return value

    @field_validator("name")
    @classmethod
    def _name_rule(cls, value: str | None) -> str | None:
        if value is not None and not asset_name_re().match(value):
            raise runner_error(f"invalid model name {value!r}",
                               "use letters, digits, '-', '_' and '.', starting with a letter or digit")
        return value

    @model_validator(mode="after")
    def _registration(self) -> OutputSpec:
        if self.version is not None and self.name is None:
            raise runner_error("an output with a version needs a name",
                        "add name: <model name> (the output is registered as that model on completion)")
        return self
