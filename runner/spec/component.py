"""The command component: Azure ML's ``commandComponent`` YAML (``az ml component create --file``, a
pipeline step's ``component: ./train.yml``) as a pydantic model.

    spec = load_component_spec("train.yml", overrides=["version=2"])
    spec = component_from_data({...}, base_dir=Path.cwd())       # an inline ``component:`` mapping

A component declares its inputs and outputs (types, defaults, modes) and holds the command, code and
environment; a job (a pipeline step) gives the values. Inputs and outputs use the job's models
(``runner.spec.job_io``): a component input has no ``path``; ``type: float`` is Azure's spelling of
``number``; literal defaults written as text (``default: "3"`` on an integer) are read as Azure reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from runner.errors import SourceLocation, SpecError
from runner.spec.creation_context import READ_ONLY_YAML_FIELDS
from runner.spec.expressions import find_references, validate_command
from runner.spec.job import CommandJobSpec, EnvironmentField, ResourcesSpec, _strings
from runner.spec.job_io import LITERAL_TYPES, AssetInput, IoName, JobInput, LoadedSpec, OutputSpec
from runner.spec.load import apply_overrides
from runner.spec.names import asset_name_re, asset_version_re
from runner.spec.validation import from_validation_error, runner_error
from runner.spec.yamlio import YamlDoc, load_yaml

COMPONENT_SCHEMA = "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json"
_TYPE_ALIASES = {"float": "number", "int": "integer", "str": "string", "bool": "boolean"}
# the name azure.ai.ml gives a component made from a command job built without a name
ANONYMOUS_COMPONENT_NAME = "azureml_anonymous"
# the command job fields its component keeps as they are (the rest are the step's settings)
# what `component show` prints besides the component's own fields: a file holding them is accepted, as
# Azure's read-only fields are (``id``, ``creation_context``), and they are ignored
SHOWN_ONLY_FIELDS = (*READ_ONLY_YAML_FIELDS, "source")
_JOB_FIELDS_KEPT = ("display_name", "description", "tags", "code", "command", "environment",
                    "environment_variables", "distribution")


def _literal_value(kind: str, value: Any) -> Any:
    """A literal written as text read as its type (``"3"`` -> 3 for an integer), as Azure does."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return value
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value


def normalize_input_value(value: Any) -> Any:
    """Azure's type aliases (``float``) and literals written as text, in the job input models' terms."""
    if not isinstance(value, dict):
        return value
    data = dict(value)
    kind = _TYPE_ALIASES.get(str(data.get("type")), data.get("type"))
    if kind is not None:
        data["type"] = kind
    if kind in LITERAL_TYPES:
        for key in ("default", "value", "min", "max"):
            if key in data:
                data[key] = _literal_value(str(kind), data[key])
    return data


def normalize_input_decl(value: Any) -> Any:
    """A component input declaration in the job input models' terms (see the module docstring)."""
    data = normalize_input_value(value)
    if not isinstance(data, dict):
        return data
    if "path" in data:
        raise runner_error("a component input declares a type, not a path",
                           "remove path: here and give the path where the component is used (the "
                           "pipeline step's inputs)")
    if data.get("type") not in LITERAL_TYPES and "default" in data:  # an asset port's default is a path
        data["path"] = data.pop("default")
    return data


class CommandComponentSpec(LoadedSpec):
    """A command component, as Azure ML's ``commandComponent`` YAML."""

    schema_: str | None = Field(default=None, alias="$schema")
    type: Literal["command"] = "command"
    name: str | None = None
    version: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    is_deterministic: bool = True
    inputs: dict[IoName, JobInput] = Field(default_factory=dict)
    outputs: dict[IoName, OutputSpec] = Field(default_factory=dict)
    command: str
    code: str | None = None
    environment: EnvironmentField
    environment_variables: dict[str, str] = Field(default_factory=dict)
    resources: ResourcesSpec | None = None
    distribution: dict[str, Any] | None = None
    queue_settings: dict[str, Any] | None = None
    additional_includes: list[str] | None = None

    @field_validator("tags", "properties", "environment_variables", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("type", mode="before")
    @classmethod
    def _command_type(cls, value: Any) -> Any:
        if value not in (None, "command"):
            raise runner_error(f"component type '{value}' is not supported; only command components run "
                               "here", "set type: command")
        return "command"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not asset_name_re().match(value):
            raise runner_error(f"invalid component name {value!r}",
                               "use letters, digits, '-', '_' and '.', starting with a letter or digit")
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not asset_version_re().match(value):
            raise runner_error(f"invalid component version {value!r}", "use a number such as 1")
        return value

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        if value is None:
            return {}
        return {k: normalize_input_decl(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("outputs", mode="before")
    @classmethod
    def _outputs(cls, value: Any) -> Any:
        if value is None:
            return {}
        return {k: ({} if v is None else v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("additional_includes")
    @classmethod
    def _includes(cls, value: list[str] | None) -> list[str] | None:
        if value:
            raise runner_error("additional_includes is not supported here",
                               "copy the files into the component's code folder")
        return value

    @property
    def reference(self) -> str:
        return f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}"


def _no_input_paths(data: dict[str, Any], doc: YamlDoc | None) -> None:
    """A component input with a ``path`` is refused where it was written (before the model, which can
    only name the ``inputs`` mapping)."""
    inputs = data.get("inputs")
    for name, value in (inputs.items() if isinstance(inputs, dict) else ()):
        if isinstance(value, dict) and "path" in value:
            raise SpecError("a component input declares a type, not a path", field=f"inputs.{name}.path",
                            where=doc.where(("inputs", name, "path")) if doc is not None else None,
                            hint="remove path: here and give the path where the component is used (the "
                                 "pipeline step's inputs)")


def _check(spec: CommandComponentSpec, doc: YamlDoc | None) -> None:
    """Every ``${{inputs.x}}`` / ``${{outputs.y}}`` of the command is declared."""
    command_at = doc.where(("command",)) if doc is not None else SourceLocation(None)

    def locate(text: str) -> SourceLocation:
        return (doc.find(text, after=command_at) if doc is not None else None) or command_at

    for ref in find_references(spec.command, locate=locate):  # declared here, not in a job
        declared: Collection[str] = spec.inputs if ref.kind == "inputs" else spec.outputs
        if ref.kind in ("inputs", "outputs") and ref.name not in declared:
            listed = ", ".join(sorted(declared)) or "none"
            raise SpecError(f"{ref.kind.capitalize()} to job does not contain '{ref.name}' referenced in "
                            "command", field="command", where=locate(ref.text),
                            hint=f"add '{ref.name}' under {ref.kind}: in the component, or fix the name "
                                 f"(defined {ref.kind}: {listed})")
    validate_command(spec.command, inputs={name: True for name in spec.inputs}, outputs=spec.outputs.keys(),
                     locate=locate)


def component_from_doc(doc: YamlDoc, overrides: Sequence[str] = (), *,
                       python: bool = False) -> CommandComponentSpec:
    """Validate a loaded component YAML (after ``--set`` overrides). ``python``: the overrides were given
    as ``load_component``'s ``params_override``, which its messages name (not ``--set``)."""
    data = copy.deepcopy(doc.data) if overrides else doc.data
    if not isinstance(data, dict):
        raise SpecError("a component file must be a mapping of fields (name, command, environment, ...)",
                        where=doc.where(()), hint="start with 'name: <component name>' and 'command: ...'")
    data = {k: v for k, v in data.items() if k not in SHOWN_ONLY_FIELDS}  # `component show`'s: ignored
    applied = apply_overrides(data, overrides, python=python)
    if data.get("type") == "pipeline":  # before its fields (jobs:...) are named as unknown ones
        raise SpecError("a pipeline component (type: pipeline) is not supported here; only command "
                        "components run", where=doc.where(("type",)), field="type",
                        hint="run its steps as a pipeline job (a job YAML with type: pipeline and the same "
                             "jobs:, or a @dsl.pipeline function), each step a command component")
    _no_input_paths(data, doc)
    try:
        spec = CommandComponentSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, root=CommandComponentSpec, data=data, doc=doc,
                                    overridden=applied) from exc
    spec._base_dir = doc.base_dir
    spec._doc = doc
    _check(spec, doc)
    return spec


def load_component_spec(path: str | Path, overrides: Sequence[str] = (), *,
                        python: bool = False) -> CommandComponentSpec:
    """Load and check a command component YAML; one ``SpecError`` (file:line:col) when it is not one."""
    return component_from_doc(load_yaml(path), overrides, python=python)


def component_from_data(data: dict[str, Any], *, base_dir: Path | None = None,
                        doc: YamlDoc | None = None) -> CommandComponentSpec:
    """Validate plain data: an inline ``component:`` mapping (``doc`` locates its fields) or Python."""
    _no_input_paths(data, doc)
    try:
        spec = CommandComponentSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, root=CommandComponentSpec, data=data, doc=doc) from exc
    spec._base_dir = (base_dir or Path.cwd()).resolve()
    spec._doc = doc
    _check(spec, doc)
    return spec


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "integer" if isinstance(value, int) else "number" if isinstance(value, float) else "string"


def _input_decl(value: JobInput) -> dict[str, Any]:
    """A job input as a component input: its type and mode (a path is the step's value, a literal's
    value the input's default)."""
    if isinstance(value, AssetInput):
        fields: dict[str, Any] = {"type": value.type.value, "mode": value.mode.value if value.mode else None}
    else:
        fields = {"type": value.type or _literal_type(value.effective), "default": value.effective,
                  "min": value.min, "max": value.max, "enum": value.enum}
    fields.update(optional=value.optional or None, description=value.description)
    return {k: v for k, v in fields.items() if v is not None}


def component_from_job(job: CommandJobSpec) -> CommandComponentSpec:
    """The component of a command job built in Python (azure.ai.ml's ``command(...).component``): the
    job's command, code and environment, its inputs and outputs declared, named after the job (else
    ``azureml_anonymous``, as in Azure) with no version (registering gives the next one)."""
    data = job.to_yaml_dict()
    kept = {key: data[key] for key in _JOB_FIELDS_KEPT if key in data}
    outputs = {name: {k: v for k, v in (("type", out.type.value), ("description", out.description),
                                        ("mode", out.mode.value if out.mode else None)) if v is not None}
               for name, out in job.outputs.items()}
    return component_from_data({**kept, "name": job.name or ANONYMOUS_COMPONENT_NAME,
                                "inputs": {name: _input_decl(value) for name, value in job.inputs.items()},
                                "outputs": outputs}, base_dir=job.base_dir)
