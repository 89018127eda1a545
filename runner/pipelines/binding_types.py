"""A step's bindings checked against the types its component declares, as Azure ML checks them when a
pipeline is submitted: what a ``${{parent...}}`` binding gives must suit the input it is given to.

- a literal (a pipeline input: string, integer, ...) suits a literal input of the same type, a
  ``number`` input when it is an integer, any ``string`` input, and any literal input when it is a
  string that reads as that type (``"3"`` for an integer);
- a path (a step's output, an asset pipeline input) suits any asset input (uri_folder, uri_file, mltable,
  custom_model, mlflow_model, triton_model): Azure connects any data or model output to any data or
  model input.

Anything else (a folder where an integer is declared, a string where a uri_folder is) is one
``SpecError`` at the binding, before anything runs.
"""

from __future__ import annotations

from typing import Any

from runner.errors import SpecError
from runner.modes import AssetType
from runner.pipelines.steps import output_type
from runner.spec.bindings import Binding, whole_binding
from runner.spec.component import CommandComponentSpec, normalize_input_value
from runner.spec.job_io import LITERAL_TYPES, AssetInput, LiteralInput
from runner.spec.pipeline import PipelineJobSpec, StepSpec

_ASSET_HINT = "uri_folder, uri_file, mltable, custom_model, mlflow_model or triton_model"


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "integer" if isinstance(value, int) else "number" if isinstance(value, float) else "string"


def _declared_type(entry: StepSpec, name: str, component: CommandComponentSpec | None) -> str | None:
    if component is not None and name in component.inputs:
        decl = component.inputs[name]
        if isinstance(decl, AssetInput):
            return decl.type.value
        return decl.type or (_literal_type(decl.effective) if decl.effective is not None else None)
    value = entry.inputs.get(name)
    if not isinstance(value, dict):
        return None  # a bare value or binding: the step's input is whatever it gives
    kind = normalize_input_value(value).get("type")
    if kind is None and ("path" in value or not ("value" in value or "default" in value)):
        return AssetType.URI_FOLDER.value  # {path:, mode:} without type: a job input's default type
    return str(kind) if kind is not None else None


def _literal_fits(value: Any, given: str, declared: str) -> bool:
    if given == declared or declared == "string" or (given, declared) == ("integer", "number"):
        return True
    if given != "string":
        return False
    read = normalize_input_value({"type": declared, "value": value})["value"]
    return _literal_type(read) == declared or (declared == "number" and _literal_type(read) == "integer")


def _given(spec: PipelineJobSpec, binding: Binding, components: dict[str, CommandComponentSpec | None]
           ) -> tuple[str, Any] | None:
    """(the type the binding gives, its literal value) or None when it gives nothing to check."""
    if binding.kind == "step_output":
        return output_type(spec, binding.step, binding.name, components.get(binding.step)), None
    source = spec.inputs.get(binding.name) if binding.kind == "input" else None
    if isinstance(source, AssetInput):
        return source.type.value, None
    if isinstance(source, LiteralInput) and source.effective is not None:
        return source.type or _literal_type(source.effective), source.effective
    return None  # an unset optional literal: nothing is passed


def _what(kind: str) -> str:
    return f"a path ({kind})" if kind not in LITERAL_TYPES else f"a{'n' if kind[0] in 'ai' else ''} {kind}"


def check_binding_types(spec: PipelineJobSpec, step: str, component: CommandComponentSpec | None,
                        components: dict[str, CommandComponentSpec | None]) -> None:
    """One ``SpecError`` (file:line of the binding) for the first input of ``step`` whose whole-value
    binding gives a type its declaration does not accept (the table above)."""
    entry = spec.jobs[step]
    for name, value in entry.inputs.items():
        place: tuple[str, ...] = (name,)
        binding = whole_binding(value)
        if binding is None and isinstance(value, dict):
            binding, place = whole_binding(value.get("path")), (name, "path")
            if binding is None:
                binding, place = whole_binding(value.get("value")), (name, "value")
        declared = _declared_type(entry, name, component)
        given = _given(spec, binding, components) if binding is not None else None
        if binding is None or declared is None or given is None:
            continue
        kind, literal = given
        if declared in LITERAL_TYPES and kind in LITERAL_TYPES:
            if _literal_fits(literal, kind, declared):
                continue
        elif (declared in LITERAL_TYPES) == (kind in LITERAL_TYPES):
            continue  # asset to asset: Azure connects any data or model type
        field_name, where = spec.field_location("jobs", step, "inputs", *place)
        owner = "its component" if component is not None and name in component.inputs else "the step"
        allowed = (f"a path of any asset type ({_ASSET_HINT}): a step's output or an asset pipeline input"
                   if declared not in LITERAL_TYPES else
                   f"{_what(declared)} literal or pipeline input" + (
                       " (an integer is accepted too)" if declared == "number" else "") +
                   (" (any literal is passed as text)" if declared == "string" else ""))
        raise SpecError(f"step '{step}' input '{name}': {binding.text} gives {_what(kind)}, but {owner} "
                        f"declares '{name}' as {declared}", field=field_name, where=where,
                        hint=f"'{name}' takes {allowed}; bind it to one, or give a value of that type")


def check_unset_optionals(spec: PipelineJobSpec, step: str, component: CommandComponentSpec | None) -> None:
    """An optional pipeline input left unset gives nothing: the component input it is bound to must be
    optional or have a default (Azure then runs the step with it unset or at its default)."""
    if component is None:
        return
    place: tuple[str, ...]
    for name, value in spec.jobs[step].inputs.items():
        binding, place = whole_binding(value), (name,)
        for key in ("path", "value") if binding is None and isinstance(value, dict) else ():
            binding, place = whole_binding(value.get(key)), (name, key)  # {path: ${{parent.inputs.o}}}
            if binding is not None:
                break
        source = spec.inputs.get(binding.name) if binding is not None and binding.kind == "input" else None
        decl = component.inputs.get(name)
        if source is None or decl is None or source.has_value or decl.optional or decl.has_value:
            continue
        assert binding is not None
        field_name, where = spec.field_location("jobs", step, "inputs", *place)
        asset = isinstance(source, AssetInput)
        give = f"path:, or --set inputs.{binding.name}.path=..." if asset else \
            f"default:, or --set inputs.{binding.name}=..."
        python = f"job.inputs['{binding.name}'] = " + ("Input(path=...)" if asset else "<value>")
        if spec.doc is not None:  # a YAML (load_job's, in Python)
            key = f"'inputs.{binding.name}.path': ..." if asset else f"'inputs.{binding.name}': ..."
            python = f"{'path:' if asset else 'default:'} in the YAML, load_job(..., params_override=" \
                     f"[{{{key}}}]), or {python}"
        lead = f"give pipeline input '{binding.name}' a value ("
        end = f"), or bind '{name}' to something with a value"
        raise SpecError(f"step '{step}' input '{name}' is bound to pipeline input '{binding.name}', which "
                        f"is optional and has no value, but its component requires '{name}'",
                        field=field_name, where=where, hint=lead + give + end,
                        python_hint=lead + python + end)
