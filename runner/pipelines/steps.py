"""One pipeline step as the command job it becomes: its entry in ``jobs:`` laid over its component (the
declarations: types, defaults, modes; the command, code, environment), its bindings replaced by what
they name. Pure (no I/O): the graph (``runner.pipelines.graph``) has checked that every binding names
something that exists.

| the step's value                          | the step job's input                                   |
|-------------------------------------------|--------------------------------------------------------|
| ``3``, ``"text"``                         | a literal of the declared type                         |
| ``${{parent.inputs.x}}`` (x a literal)    | x's value, as a literal of the declared type           |
| ``${{parent.inputs.x}}`` (x a path)       | x's path, with the step's (or declared, or x's) mode   |
| ``${{parent.inputs.x}}`` (x unset)        | not given: the component's declaration, as in Azure ML |
| ``${{parent.jobs.s.outputs.o}}``          | ``azureml://jobs/<s's job>/outputs/o``, of o's type*   |
| ``{type, path, mode}`` (path may bind)    | that asset input                                       |

*an input with no type of its own (none written on the step, none declared by its component) takes the
type of the output it is bound to, as in Azure ML (``output_type``); a declared type is kept.

An output bound to ``${{parent.outputs.y}}`` takes y's settings (mode, path, type, name/version); an
output with no path goes to the default datastore (``settings.default_datastore``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.errors import RunnerError, SpecError
from runner.file_urls import file_path, is_file_form
from runner.spec.bindings import Binding, find_bindings, has_binding, substitute_literals, whole_binding
from runner.spec.component import CommandComponentSpec, normalize_input_value
from runner.spec.job_io import LITERAL_TYPES, AssetInput, LiteralInput
from runner.spec.pipeline import PipelineJobSpec, StepSpec
from runner.workspace.db import DEFAULT_DATASTORE

# fields of a step entry that override (or add to) the component's
_STEP_FIELDS = ("compute", "environment", "environment_variables", "limits", "distribution", "identity",
                "services", "queue_settings", "description")
_COMPONENT_FIELDS = ("command", "code", "environment", "environment_variables", "resources", "distribution",
                     "queue_settings", "description")


def _absolute(base: Path, path: str) -> str:
    """A local path of the component made absolute (the step job is relative to the pipeline file), its
    ``file:`` forms read as a job's (``runner.file_urls``); a URL, or a file URL naming another host (the
    step's check refuses it at its line), as written."""
    if path.startswith("azureml:") or ("://" in path and not is_file_form(path)):
        return path
    try:
        local = file_path(path, None)
    except SpecError:
        return path
    return str((base / local).resolve())


def _component_fields(component: CommandComponentSpec) -> dict[str, Any]:
    data = component.to_yaml_dict()
    fields = {key: data[key] for key in _COMPONENT_FIELDS if key in data}
    if "code" in fields:
        fields["code"] = _absolute(component.base_dir, fields["code"])
    environment = fields.get("environment")
    if isinstance(environment, dict):
        environment = dict(environment)
        if isinstance(environment.get("build"), dict):
            environment["build"] = {**environment["build"],
                                    "path": _absolute(component.base_dir, environment["build"]["path"])}
        if isinstance(environment.get("conda_file"), str):
            environment["conda_file"] = _absolute(component.base_dir, environment["conda_file"])
        fields["environment"] = environment
    elif isinstance(environment, str) and is_file_form(environment):  # an environment YAML by the component
        fields["environment"] = "file:" + _absolute(component.base_dir, environment)
    if component.tags:
        fields["tags"] = dict(component.tags)
    return fields


class StepBuilder:
    """Builds the command-job data of the steps of one pipeline."""

    def __init__(self, spec: PipelineJobSpec, pipeline_name: str,
                 components: Mapping[str, CommandComponentSpec | None] | None = None) -> None:
        self.spec = spec
        self.pipeline_name = pipeline_name
        self.components = components or {}  # each step's component (an upstream output's declaration)
        self.literals: dict[str, str] = {}
        for name, value in spec.inputs.items():
            text = value.rendered() if isinstance(value, LiteralInput) else None
            if text is not None:
                self.literals[name] = text

    def data(self, step: str, entry: StepSpec, component: CommandComponentSpec | None,
             job_names: Mapping[str, str]) -> dict[str, Any]:
        """The command job data of ``step`` (its upstream steps' jobs named by ``job_names``)."""
        data: dict[str, Any] = _component_fields(component) if component is not None else {
            k: v for k, v in entry.model_dump(exclude_none=True, exclude_defaults=True).items()
            if k in (*_COMPONENT_FIELDS, "resources")}
        given = entry.model_dump(exclude_none=True, exclude_defaults=True)
        for key in _STEP_FIELDS:
            if key in given:
                data[key] = given[key]
        if entry.resources:
            data["resources"] = {**data.get("resources", {}), **entry.resources}
        data["tags"] = {**data.get("tags", {}), **self.spec.tags, **entry.tags}
        data["display_name"] = entry.display_name or step
        data["parent_job_name"] = self.pipeline_name
        if self.spec.experiment_name or entry.experiment_name:
            data["experiment_name"] = entry.experiment_name or self.spec.experiment_name
        compute = entry.compute or self.spec.settings.default_compute or self.spec.compute
        if compute:
            data["compute"] = compute
        job_name = job_names[step]
        data["inputs"] = self._inputs(step, entry, component, job_names)
        data["outputs"] = self._outputs(step, entry, component, job_name)
        return {k: v for k, v in data.items() if v not in (None, {}) or k in ("inputs", "outputs")}

    # ---- inputs -----------------------------------------------------------------------------------
    def _inputs(self, step: str, entry: StepSpec, component: CommandComponentSpec | None,
                job_names: Mapping[str, str]) -> dict[str, Any]:
        declared = component.to_yaml_dict().get("inputs", {}) if component is not None else {}
        inputs: dict[str, Any] = {}
        for name in [*declared, *(n for n in entry.inputs if n not in declared)]:
            decl = dict(declared[name]) if isinstance(declared.get(name), dict) else (
                {"value": declared[name]} if name in declared else None)
            if component is not None and decl is not None and isinstance(decl.get("path"), str):
                decl["path"] = _absolute(component.base_dir, decl["path"])  # a default: its YAML's folder
            if name not in entry.inputs:
                inputs[name] = decl if decl is not None else {}
                continue
            typed = component is not None and name in component.inputs and \
                "type" in component.inputs[name].model_fields_set
            inputs[name] = self._input(step, name, decl, entry.inputs[name], job_names, typed)
        return inputs

    def _input(self, step: str, name: str, decl: dict[str, Any] | None, value: Any,
               job_names: Mapping[str, str], typed: bool = False) -> Any:
        binding = whole_binding(value)
        if isinstance(value, dict):
            binding = whole_binding(value.get("path")) or whole_binding(value.get("value"))
            given = {k: v for k, v in value.items() if not (binding and k in ("path", "value"))}
        else:
            given = {}
        if binding is not None:
            return self._bound(step, name, decl, binding, given, job_names, typed)
        if isinstance(value, dict):
            value = {k: substitute_literals(v, self.literals) if has_binding(v) else v
                     for k, v in value.items()}
            return {**_without_value(decl), **normalize_input_value(value)} if decl else value
        if isinstance(value, str) and has_binding(value):
            value = substitute_literals(value, self.literals)
        return _literal_or_path(decl, value)

    def _bound(self, step: str, name: str, decl: dict[str, Any] | None, binding: Binding,
               given: dict[str, Any], job_names: Mapping[str, str], typed: bool = False) -> Any:
        declared_type = (decl or {}).get("type")
        if binding.kind == "step_output":
            path = f"azureml://jobs/{job_names[binding.step]}/outputs/{binding.name}"
            bound = {**_asset_decl(decl), **given, "path": path}
            if not typed and "type" not in bound:  # as in Azure ML: the type of the output it reads
                bound["type"] = output_type(self.spec, binding.step, binding.name,
                                            self.components.get(binding.step))
            return bound
        if binding.kind == "output":
            raise SpecError(f"step '{step}' input '{name}' is bound to the pipeline's output "
                            f"'{binding.name}'", field=f"jobs.{step}.inputs.{name}",
                            hint="an input reads ${{parent.inputs.<name>}} or "
                                 "${{parent.jobs.<step>.outputs.<output>}}")
        source = self.spec.inputs[binding.name]
        if isinstance(source, LiteralInput):
            if source.effective is None and decl is not None:  # an unset optional pipeline input
                return decl  # the declaration: its default, or no value (its $[[...]] dropped)
            if declared_type is not None and declared_type not in LITERAL_TYPES:
                return {**_asset_decl(decl), **given, "path": source.rendered()}
            return _literal_or_path(decl, source.effective)
        assert isinstance(source, AssetInput)
        if source.path is None and decl is not None:  # unset optional: not given; the declaration wins
            return decl
        parent = source.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        mode = given.get("mode") or (decl or {}).get("mode") or parent.get("mode")
        merged = {**_asset_decl(decl), **{k: v for k, v in parent.items() if k != "mode"}, **given}
        if declared_type is not None:
            merged["type"] = given.get("type", declared_type)
        if merged.get("path") and not Path(merged["path"]).is_absolute() and "://" not in merged["path"] \
                and not merged["path"].startswith("azureml:"):
            merged["path"] = str((self.spec.base_dir / merged["path"]).resolve())
        return {**merged, **({"mode": mode} if mode else {})}

    # ---- outputs ----------------------------------------------------------------------------------
    def _outputs(self, step: str, entry: StepSpec, component: CommandComponentSpec | None,
                 job_name: str) -> dict[str, Any]:
        declared = component.to_yaml_dict().get("outputs", {}) if component is not None else {}
        outputs: dict[str, Any] = {}
        for name in [*declared, *(n for n in entry.outputs if n not in declared)]:
            output = output_fields(self.spec, declared.get(name), entry.outputs.get(name))
            datastore = self.spec.settings.datastore
            if "path" not in output and datastore and datastore != DEFAULT_DATASTORE:
                # a uri_file's default is the file named after it in that folder, as in Azure ML
                file = name if output.get("type") == "uri_file" else ""
                output["path"] = f"azureml://datastores/{datastore}/paths/azureml/{job_name}/{name}/{file}"
            elif datastore and isinstance(output.get("path"), str):  # Azure: the pipeline's datastore
                output["path"] = _DEFAULT_DATASTORE_EXPR.sub(datastore, output["path"])
            outputs[name] = output
        return outputs


_DEFAULT_DATASTORE_EXPR = re.compile(r"\$\{\{\s*default_datastore\s*\}\}")


def output_fields(spec: PipelineJobSpec, decl: Mapping[str, Any] | None, value: Any) -> dict[str, Any]:
    """A step's output as the step writes it (before its default path): its component's declaration
    ``decl`` overlaid by the step's ``value``, a mapping or ``${{parent.outputs.y}}`` (y's settings)."""
    binding = whole_binding(value)
    if binding is not None:
        fields = spec.outputs[binding.name].model_dump(mode="json", exclude_unset=True, exclude_none=True)
        return {**(decl or {}), **fields}
    return {**(decl or {}), **value} if isinstance(value, dict) else dict(decl or {})


def output_type(spec: PipelineJobSpec, step: str, output: str, component: CommandComponentSpec | None) -> str:
    """The type step ``step`` writes its ``output`` as (uri_folder unless declared otherwise)."""
    decl = component.outputs[output].model_dump(mode="json", exclude_defaults=True, exclude_none=True) \
        if component is not None and output in component.outputs else None
    return str(output_fields(spec, decl, spec.jobs[step].outputs.get(output)).get("type") or "uri_folder")


def _without_value(decl: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (decl or {}).items() if k not in ("value", "path")}


def _asset_decl(decl: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (decl or {}).items()
            if k in ("type", "mode", "description", "optional") and not (k == "type" and v in LITERAL_TYPES)}


def _literal_or_path(decl: dict[str, Any] | None, value: Any) -> Any:
    """A plain value given for a declared input: a literal of its type, or a path for an asset input."""
    if decl is None:
        return value
    kind = decl.get("type")
    if kind is not None and kind not in LITERAL_TYPES:
        return {**_asset_decl(decl), "path": value}
    literal = {k: v for k, v in decl.items() if k in ("type", "min", "max", "enum", "description", "default")}
    coerced = normalize_input_value({"type": kind, "value": value}).get("value", value) if kind else value
    return {**literal, "value": coerced} if literal else value


def step_bindings(entry: StepSpec, step: str = "", spec: PipelineJobSpec | None = None
                  ) -> list[tuple[tuple[str, ...], Binding]]:
    """Every binding a step entry holds: (where in the entry: ``inputs.<name>[.<key>]``, binding). A
    binding of an unknown form is one ``SpecError``, at its line when the pipeline ``spec`` is given."""
    found: list[tuple[tuple[str, ...], Binding]] = []
    for group, values in (("inputs", entry.inputs), ("outputs", entry.outputs)):
        for name, value in values.items():
            texts = [((group, name), value)] if isinstance(value, str) else [
                ((group, name, key), v) for key, v in value.items() if isinstance(v, str)
            ] if isinstance(value, dict) else []
            for place, text in texts:
                path = place[0] == "outputs" and place[2:] == ("path",)
                try:
                    found += [(place, b) for b in find_bindings(text, output_path=path)]
                except SpecError as err:
                    if spec is None:
                        raise
                    field, where = spec.field_location("jobs", step, *place)
                    prefix = f"step '{step}' {group[:-1]} '{name}': "
                    raise err.reworded(prefix + err.message, field=field, where=where, hint=err.hint,
                                       **python_words(err, prefix, None)) from err
    return found


def python_words(err: RunnerError, prefix: str, python_field: str | None, *,
                 hint: bool = True) -> dict[str, str | None]:
    """The Python words (``runner.errors``) of ``err`` said again as a step's error: its ``python_message``
    after ``prefix`` (``step 's': ``), its ``python_hint`` (unless the step's error gives a hint of its
    own: ``hint=False``), and ``python_field``, the step's error's field in Python's words (None: its
    ``field``)."""
    return {"python_message": prefix + err.python_message if err.python_message else None,
            "python_hint": err.python_hint if hint else None, "python_field": python_field}
