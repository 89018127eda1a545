"""Where a step may hold a binding: a ``${{parent...}}`` expression is read in a step input's ``path:`` or
``value:`` (or as the whole input), and a step output is bound as a whole (``${{parent.outputs.<name>}}``).
One written in another field of a step's input or output (``mode:``, ``type:``, ``datastore:``,
``optional:``, an output's ``name:``) is one ``SpecError`` at its line, naming the field and what it
takes (for a mode, the modes the input's or output's type allows), before the binding is checked or
substituted: it is never passed on as text, and never turned into a mode by substitution.

Azure ML binds no such field: its pipeline node schema loads the text, but the job it submits maps a
step input's or output's mode through a fixed table of modes (a binding is no key of it) and builds the
input's class from its type, so such a step fails there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runner.errors import SpecError
from runner.modes import AssetType, Direction, Mode, allowed_modes
from runner.pipelines.steps import output_type
from runner.spec.bindings import has_binding, whole_binding
from runner.spec.component import CommandComponentSpec, normalize_input_value
from runner.spec.job_io import INPUT_TYPES, LITERAL_TYPES, OUTPUT_TYPES, AssetInput, LiteralInput, OutputSpec
from runner.spec.pipeline import PipelineJobSpec

# the fields a binding is read in (an output's path: holds ${{name}}, ...; its other bindings are refused
# where paths are checked: runner.pipelines.graph, runner.spec.expressions)
_READ = {"inputs": ("path", "value"), "outputs": ("path",)}
_WHY = {"inputs": "a binding is read in an input's path: or value: only",
        "outputs": "a step output is bound as a whole: {name}: ${{{{parent.outputs.<name>}}}}"}
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_FIELDS = {"inputs": {*AssetInput.model_fields, *LiteralInput.model_fields},
           "outputs": set(OutputSpec.model_fields)}


def refuse_bound_settings(spec: PipelineJobSpec, step: str,
                          components: Mapping[str, CommandComponentSpec | None]) -> None:
    """One ``SpecError`` at the first field of ``step``'s inputs and outputs that holds a binding where
    none is read (see the module docstring). A field the models do not know is left to their error."""
    entry = spec.jobs[step]
    for group, values in (("inputs", entry.inputs), ("outputs", entry.outputs)):
        for name, value in values.items():
            if not isinstance(value, dict):
                continue
            for key, text in value.items():
                if key in _READ[group] or key not in _FIELDS[group] or not has_binding(text):
                    continue
                field, where = spec.field_location("jobs", step, group, name, key)
                why = _WHY[group].format(name=name)
                bound = _EXPRESSION.search(text)
                raise SpecError(f"step '{step}' {group[:-1]} '{name}' has the binding "
                                f"'{bound.group(0) if bound else text}' "
                                f"in {key}:, which cannot be bound ({why})", field=field, where=where,
                                hint=_takes(key, group, _type(spec, step, group, name, value, components)))


def _takes(key: str, group: str, kind: str) -> str:
    """What ``key`` takes instead, as the hint says it."""
    if key == "type":
        return "write the type itself, one of: " + ", ".join(INPUT_TYPES if group == "inputs"
                                                             else OUTPUT_TYPES)
    if key != "mode":
        return f"write {key} itself, or leave it out"
    if kind in LITERAL_TYPES:
        return f"leave mode out: a {kind} input has none"
    direction = Direction.INPUT if group == "inputs" else Direction.OUTPUT
    modes = [m.value for m in Mode if m in allowed_modes(AssetType(kind), direction)]
    return f"write the mode itself, one of: {', '.join(modes)} (allowed for a {kind} {direction.value})"


def _type(spec: PipelineJobSpec, step: str, group: str, name: str, value: dict[str, Any],
          components: Mapping[str, CommandComponentSpec | None]) -> str:
    """The type the step's input or output gets, as the step builder gives it: its own ``type:``, else
    the one its component writes, else (an input bound to a path) the type of what it reads."""
    written = normalize_input_value({"type": value["type"]}).get("type") if "type" in value else None
    if isinstance(written, str) and written in (INPUT_TYPES if group == "inputs" else OUTPUT_TYPES):
        return written
    component = components.get(step)
    declared = getattr(component, group).get(name) if component is not None else None
    if isinstance(declared, LiteralInput):
        return declared.type or "string"
    if isinstance(declared, AssetInput | OutputSpec) and "type" in declared.model_fields_set:
        return declared.type.value
    binding = whole_binding(value.get("path")) if group == "inputs" else None
    if binding is not None and binding.kind == "step_output" and binding.step in spec.jobs:
        return output_type(spec, binding.step, binding.name, components.get(binding.step))
    source = spec.inputs.get(binding.name) if binding is not None and binding.kind == "input" else None
    if isinstance(source, AssetInput):
        return source.type.value
    if isinstance(declared, AssetInput | OutputSpec):
        return declared.type.value
    return AssetType.URI_FOLDER.value
