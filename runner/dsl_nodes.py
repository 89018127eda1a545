"""The pieces a ``@pipeline`` function (``runner.dsl``) is written with, as in ``azure.ai.ml``: calling a
component makes a ``CommandNode`` (a step); ``node.outputs.<name>`` is a ``NodeOutput`` another step
takes as an input (or the pipeline returns as its output); the function's parameters arrive as
``PipelineInput`` objects. Each becomes the binding it stands for when the pipeline is built.

    node = train(data=pipeline_input, lr=0.1)
    node.compute = "local-process"
    node.outputs.model.mode = "upload"
    score(model=node.outputs.model)
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from runner.errors import SourceLocation, SpecError
from runner.inputs_outputs import Input, Output
from runner.spec.asset import azure_keywords
from runner.spec.job import CommandJobSpec, ResourcesSpec
from runner.spec.job_io import LiteralInput
from runner.spec.load import spec_from_data
from runner.sweep import sweep_not_supported

if TYPE_CHECKING:
    from runner.components import CommandComponent

# the steps made while a @pipeline function runs (a stack: a pipeline may be built inside another's call)
_BUILDING: list[list[CommandNode]] = []
_NODE_FIELDS = ("compute", "environment", "environment_variables", "resources", "limits", "display_name",
                "description", "tags", "distribution")
# a command component's fields its node keeps when submitted as a job (azure.ai.ml's Command node)
_STANDALONE_FIELDS = ("display_name", "description", "tags", "code", "command", "environment",
                      "environment_variables", "resources", "distribution", "queue_settings")


class PipelineInput:
    """A ``@pipeline`` function's parameter: what a step reads as ``${{parent.inputs.<name>}}``."""

    def __init__(self, name: str, value: Any) -> None:
        self._name = name
        self._value = value

    @property
    def name(self) -> str:
        return self._name

    @property
    def binding(self) -> str:
        return f"${{{{parent.inputs.{self._name}}}}}"

    def __repr__(self) -> str:
        return f"PipelineInput({self._name}={self._value!r})"


class NodeOutput:
    """Output ``name`` of a step; set ``mode``, ``type``, ``path`` (and ``name``/``version`` to register
    it) as on ``azure.ai.ml``'s node outputs."""

    def __init__(self, node: CommandNode, port: str) -> None:
        self._node = node
        self._port = port
        self.mode: str | None = None
        self.type: str | None = None
        self.path: str | None = None
        self.name: str | None = None
        self.version: str | None = None

    def settings(self) -> dict[str, Any]:
        fields = {"mode": self.mode, "type": self.type, "path": self.path, "name": self.name,
                  "version": self.version}
        return {k: v for k, v in fields.items() if v is not None}

    def binding(self, names: dict[int, str]) -> str:
        return f"${{{{parent.jobs.{names[id(self._node)]}.outputs.{self._port}}}}}"

    @property
    def node(self) -> CommandNode:
        return self._node

    @property
    def port(self) -> str:
        return self._port


class _Outputs:
    def __init__(self, node: CommandNode, declared: list[str]) -> None:
        object.__setattr__(self, "_ports", {name: NodeOutput(node, name) for name in declared})

    def __getattr__(self, name: str) -> NodeOutput:
        ports: dict[str, NodeOutput] = object.__getattribute__(self, "_ports")
        if name not in ports:
            raise AttributeError(f"the component has no output '{name}'; its outputs: {', '.join(ports)}")
        return ports[name]

    def __getitem__(self, name: str) -> NodeOutput:
        return self.__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        port = self.__getattr__(name)
        if isinstance(value, Output):
            port.mode, port.type, port.path = value.mode, value.type, value.path
            port.name, port.version = value.name, value.version
        else:
            raise SpecError(f"outputs.{name} takes an Output(...)", hint="or set outputs.<name>.mode")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(object.__getattribute__(self, "_ports").values())


class CommandNode:
    """One step of a pipeline being built: a component called with its inputs."""

    def __init__(self, component: CommandComponent, inputs: dict[str, Any]) -> None:
        self.component = component
        self.name: str | None = None  # a step name set by hand; else the variable's name
        self.compute: str | None = None
        self.environment: Any = None
        self.environment_variables: dict[str, str] | None = None
        self.resources: dict[str, Any] | None = None
        self.limits: dict[str, Any] | None = None
        self.display_name: str | None = None
        self.description: str | None = None
        self.tags: dict[str, str] | None = None
        self.distribution: dict[str, Any] | None = None
        self.outputs = _Outputs(self, list(component.spec.outputs))
        declared = component.spec.inputs
        unknown = [k for k in inputs if k not in declared]
        if unknown:
            raise SpecError(f"component '{component.spec.name}' has no input '{unknown[0]}'",
                            field=unknown[0], hint=f"its inputs: {', '.join(declared) or 'none'}")
        self.inputs = {k: only_output(k, v) if isinstance(v, CommandNode) else v for k, v in inputs.items()}
        if _BUILDING:
            _BUILDING[-1].append(self)

    # -- azure.ai.ml's setters of a node, as a built job's (``runner.entities.Command``) ---------------------
    def set_limits(self, *, timeout: int | None = None, **kwargs: Any) -> None:
        """``limits.timeout`` (seconds), as azure.ai.ml's ``Command.set_limits``."""
        azure_keywords("set_limits", kwargs, ("timeout",))
        self.limits = {**(_plain(self.limits) or {}), "timeout": timeout}

    def set_resources(self, **resources: Any) -> None:
        """The given ``resources`` fields, the others kept, as azure.ai.ml's ``Command.set_resources``."""
        given = azure_keywords("set_resources", resources, tuple(ResourcesSpec.model_fields))
        given = {k: v for k, v in given.items() if v is not None}
        self.resources = {**(_plain(self.resources) or {}), **given}

    def sweep(self, *_: Any, **__: Any) -> NoReturn:
        """azure.ai.ml's ``node.sweep(...)``: one error, sweep jobs do not run here."""
        raise sweep_not_supported("<step>.sweep(...)")

    def _to_spec(self) -> CommandJobSpec:
        """The step submitted on its own (``ml_client.jobs.create_or_update(train(data=...))``): the command
        job azure.ai.ml submits for a command node (see ``_standalone_data``)."""
        return spec_from_data(_standalone_data(self), base_dir=self.component.spec.base_dir,
                              require_values=False)

    def entry(self, names: dict[int, str], returned: dict[int, str]) -> dict[str, Any]:
        """The step as a pipeline YAML ``jobs:`` entry (``returned``: this node's outputs the pipeline
        returns, by ``id(NodeOutput)`` -> the pipeline output's name)."""
        entry: dict[str, Any] = {"type": "command", "component": self.component.reference}
        entry["inputs"] = {k: _input_value(v, names) for k, v in self.inputs.items() if v is not None}
        outputs: dict[str, Any] = {}
        for port in self.outputs:
            if id(port) in returned:
                outputs[port.port] = f"${{{{parent.outputs.{returned[id(port)]}}}}}"
            elif port.settings():
                outputs[port.port] = port.settings()
        entry["outputs"] = outputs
        for field in _NODE_FIELDS:
            value = getattr(self, field)
            if value is not None:
                entry[field] = _plain(value)
        return entry


def _standalone_data(node: CommandNode) -> dict[str, Any]:
    """A command node as a command job's data: the component's command, code, environment and settings
    (its relative paths read from its folder: the job's base folder), each input's declaration with the
    value given (else its default), each output's with the settings given, then the node's settings
    (``resources`` and ``tags`` laid over the component's, the others replacing them), ``name`` the job's."""
    component = node.component.spec
    data = {k: v for k, v in component.to_yaml_dict().items() if k in _STANDALONE_FIELDS}
    declared = component.to_yaml_dict().get("inputs", {})
    data["inputs"] = {name: _standalone_input(node, name, decl) for name, decl in declared.items()}
    data["outputs"] = {port.port: {**component.outputs[port.port].model_dump(mode="json", exclude_none=True,
                                                                            exclude_defaults=True),
                                   **_local_absolute(port.settings())} for port in node.outputs}
    for field in _NODE_FIELDS:
        value = _plain(getattr(node, field))
        if value is not None:
            data[field] = {**data.get(field, {}), **value} if field in ("resources", "tags") else value
    if node.name:
        data["name"] = node.name
    return data


def _standalone_input(node: CommandNode, name: str, decl: Any) -> Any:
    """Input ``name`` of a node submitted alone: its declaration with the value given; none given, the
    declaration (its default); a required one with neither, one ``SpecError`` naming the call's keyword."""
    value = node.inputs.get(name)
    declared = node.component.spec.inputs[name]
    literal = isinstance(declared, LiteralInput)
    decl = decl if isinstance(decl, dict) else {"value": decl}
    if value is None:
        if not declared.optional and not declared.has_value:
            raise SpecError(f"component '{node.component.spec.name}' is submitted as a job without a value "
                            f"for its input '{name}'", field=f"inputs.{name}",
                            hint=f"give it in the call: {node.component.spec.name or 'component'}({name}="
                                 f"{'...' if literal else 'Input(path=...)'}) (or declare it optional)")
        return decl
    if isinstance(value, NodeOutput | PipelineInput):
        raise SpecError(f"input '{name}' of a step submitted as a job is another step's output or a pipeline "
                        "input: those bind only inside a @pipeline", field=f"inputs.{name}",
                        hint="give it a value (Input(path=...), a literal), or submit the @pipeline")
    given = _input_value(value, {})
    if isinstance(given, dict):
        return {**decl, **given}
    return {**decl, "value": given} if literal else {**decl, "path": given}


def _local_absolute(settings: dict[str, Any]) -> dict[str, Any]:
    """An output's settings with a local relative path made absolute from the current folder (where the
    script runs: the job's base folder is its component's)."""
    path = settings.get("path")
    if isinstance(path, str) and "://" not in path and not path.startswith(("azureml:", "runs:")):
        return {**settings, "path": str(Path(path).expanduser().resolve())}
    return settings


def only_output(name: str, node: CommandNode, returned: bool = False) -> NodeOutput:
    """A step given as an input (or returned as pipeline output ``name``): its only output (as azure.ai.ml
    takes it)."""
    ports = list(node.outputs)
    if len(ports) == 1:
        return ports[0]
    listed = ", ".join(p.port for p in ports) or "none"
    port = ports[0].port if ports else "<output>"
    role = "pipeline output" if returned else "input"
    example = f'return {{"{name}": <step>.outputs.{port}}}' if returned else f"{name}=<step>.outputs.{port}"
    raise SpecError(f"{role} '{name}' is given a step (component '{node.component.spec.name}') with "
                    f"{len(ports)} outputs: {listed}; a step stands for its output only when it has one",
                    field=name, where=_call_site()[0], hint=f"pass the output meant, e.g. {example}")


def _call_site() -> tuple[SourceLocation | None, str | None, str | None]:
    """Where the user's code (the first frame outside runner) made the call being checked: the location,
    the variable the result is assigned to, the function it is in."""
    package = Path(__file__).resolve().parent
    frames = inspect.stack(context=1)[1:]
    call = next((f for f in frames if package not in Path(f.filename).resolve().parents), None)
    if call is None:
        return None, None, None
    assigned = re.match(r"\s*([A-Za-z_]\w*)\s*=[^=]", (call.code_context or [""])[0])
    return SourceLocation(Path(call.filename), call.lineno), assigned[1] if assigned else None, call.function


def nested_pipeline_error(sub_pipeline: str) -> SpecError:
    """A ``@pipeline`` function called while another is being built: at the call, naming the step (the
    variable it is assigned to) and the pipeline it is in."""
    where, assigned, outer = _call_site()
    step = f"step '{assigned}'" if assigned else "a step"
    return SpecError(f"nested pipelines are not supported: {step}"
                     f"{f' of @pipeline {outer!r}' if outer else ''} calls the @pipeline function "
                     f"'{sub_pipeline}'", where=where,
                     hint=f"call the components of '{sub_pipeline}' in this pipeline function instead (its "
                          "steps become this pipeline's), or run it as its own job and pass its outputs "
                          "in with Input(path='azureml://jobs/<job>/outputs/<output>')")


def _plain(value: Any) -> Any:
    to_data = getattr(value, "_to_data", None)
    return to_data() if callable(to_data) else value


def _input_value(value: Any, names: dict[int, str]) -> Any:
    if isinstance(value, NodeOutput):
        return value.binding(names)
    if isinstance(value, PipelineInput):
        return value.binding
    if isinstance(value, Input):
        data = value._to_data()
        path = data.get("path")
        if isinstance(path, str) and "://" not in path and not path.startswith(("azureml:", "runs:")):
            data["path"] = str(Path(path).expanduser().resolve())  # relative to where it was built
        return data
    if isinstance(value, os.PathLike):
        return str(Path(value).resolve())
    return value
