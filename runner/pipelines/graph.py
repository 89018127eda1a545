"""The pipeline as a graph of steps: each step's component found, every binding checked against what it
names, the steps ordered by their data dependencies, each step made the command job it will run as.

    graph = build_graph(spec, workspace, pipeline_name="p1")
    for node in graph.steps.values():      # in dependency order
        node.name, node.job_name, node.depends_on, node.spec     # spec: a checked CommandJobSpec

A step runs as the job ``<pipeline>-<step>``, so an input bound to an upstream step's output reads
``azureml://jobs/<pipeline>-<upstream>/outputs/<out>``: known before anything runs, resolved when the
step is submitted (the upstream job's record says where that output is; a reused step's record points at
the job it reuses). A bad binding (an unknown step, input or output, a cycle) is one ``SpecError`` naming
the file and line it was written on, raised before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.errors import ResolveError, RunnerError, SourceLocation, SpecError
from runner.file_urls import file_path
from runner.jobs.compute import choose_compute
from runner.pipelines.binding_types import check_binding_types, check_unset_optionals
from runner.pipelines.bound_settings import refuse_bound_settings
from runner.pipelines.step_files import check_step_files
from runner.pipelines.step_places import compute_source
from runner.pipelines.steps import StepBuilder, python_words, step_bindings
from runner.spec.bindings import Binding, whole_binding
from runner.spec.component import CommandComponentSpec, component_from_data, load_component_spec
from runner.spec.environment import not_found_kind
from runner.spec.job import CommandJobSpec
from runner.spec.job_io import AssetInput, LiteralInput
from runner.spec.load import spec_from_doc
from runner.spec.pipeline import PipelineJobSpec, StepSpec
from runner.spec.step_doc import StepDoc, SubDoc
from runner.spec.validation import did_you_mean
from runner.spec.yamlio import FieldPath, split_field_path
from runner.workspace.components import ComponentStore, parse_component_ref
from runner.workspace.db import Workspace


@dataclass(frozen=True)
class Edge:
    """Output ``output`` of step ``source`` read as input ``input`` of step ``target``."""

    source: str
    output: str
    target: str
    input: str


@dataclass
class StepNode:
    name: str
    job_name: str
    entry: StepSpec
    component: CommandComponentSpec | None
    component_label: str  # how the component was named ("./train.yml (train:10)", "azureml:train:1")
    depends_on: tuple[str, ...]
    spec: CommandJobSpec

    @property
    def deterministic(self) -> bool:
        return self.component is None or self.component.is_deterministic


@dataclass
class PipelineGraph:
    spec: PipelineJobSpec
    name: str
    steps: dict[str, StepNode]  # in dependency order
    edges: list[Edge]
    outputs: dict[str, tuple[str, str]]  # pipeline output -> (step, its output)
    warnings: list[str] = field(default_factory=list)


def step_job_name(pipeline: str, step: str) -> str:
    return f"{pipeline}-{step}"


def _error(spec: PipelineJobSpec, message: str, path: tuple[str | int, ...], hint: str) -> SpecError:
    field_name, where = spec.field_location(*path)
    return SpecError(message, field=field_name, where=where, hint=hint)


def _component(spec: PipelineJobSpec, step: str, entry: StepSpec, store: ComponentStore
               ) -> tuple[CommandComponentSpec | None, str]:
    ref = entry.component
    if ref is None:
        if entry.command is None:
            raise _error(spec, f"step '{step}' has neither a component nor a command", ("jobs", step),
                         "add component: ./<component>.yml, or command: and environment: for an inline step")
        return None, "inline command"
    if isinstance(ref, dict):
        doc = spec.doc
        sub = SubDoc(data=ref, file=doc.file if doc else None, lines=doc.lines if doc else [], parent=doc,
                     prefix=("jobs", step, "component"))
        try:
            return component_from_data(ref, base_dir=spec.base_dir, doc=sub), "inline component"
        except SpecError as err:  # named as written: jobs.<step>.component.<field>
            def named(field: str | None) -> str:
                return ".".join(map(str, (*sub.prefix, *split_field_path(field or ""))))

            raise err.reworded(f"step '{step}': {err.message}", field=named(err.field),
                               where=err.where or sub.where(()), hint=err.hint,
                               **python_words(err, f"step '{step}': ",
                                              named(err.python_field) if err.python_field else None)) from err
    loading = False  # a reference's error, or a file URL's (another host), keeps its own hint
    try:
        parsed = parse_component_ref(ref)
        if parsed is not None:
            record = store.get(*parsed)
            return store.load(record.name, record.version), record.reference
        path = spec.base_dir / file_path(ref, None)  # file:///x, file://localhost/x: /x (runner.file_urls)
        loading = True
        component = load_component_spec(path)
    except RunnerError as err:
        if err.where is not None:
            raise
        field_name, where = spec.field_location("jobs", step, "component")
        if loading:  # one hint for the CLI and Python alike; no file there: exit 1 (a missing code folder's)
            raise not_found_kind(path)(f"step '{step}': {err.message}", field=field_name, where=where,
                                       hint="component: is a file relative to the pipeline file, or "
                                            "azureml:<name>:<version>",
                                       **python_words(err, f"step '{step}': ", None, hint=False)) from err
        kind = ResolveError if isinstance(err, ResolveError) else SpecError  # unknown component: exit 1
        raise kind(f"step '{step}': {err.message}", field=field_name, where=where, hint=err.hint,
                   **python_words(err, f"step '{step}': ", None)) from err
    return component, f"{ref} ({component.name}:{component.version})" if component.name else ref


def _check_pipeline_inputs(spec: PipelineJobSpec) -> None:
    """A required pipeline input (not optional, no value or default) is refused, as Azure refuses it
    when the pipeline is submitted, whether a step reads it or not."""
    for name, value in spec.inputs.items():
        if value.optional or value.has_value:
            continue
        what, give = ("path", "path: <local path or azureml:// URI>") if isinstance(value, AssetInput) \
            else ("value", "default: <value> (or value: <value>)")
        field_name, where = spec.field_location("inputs", name)
        python = f"give job.inputs['{name}'] a {what}"
        key = f"'inputs.{name}.path': '<path>'" if what == "path" else f"'inputs.{name}': <value>"
        raise SpecError(f"pipeline input '{name}' is required and has no {what}", field=field_name,
                        where=where, hint=f"give it {give}, or --set inputs.{name}=<value>, or mark it "
                                          "optional: true" if spec.doc is not None else
                        f"{python}, or declare it Input(..., optional=True)",
                        python_hint=None if spec.doc is None else f"{python} (or {give} in the YAML, or "
                        f"load_job(..., params_override=[{{{key}}}])), or mark it optional: true")


def _declared_outputs(entry: StepSpec, component: CommandComponentSpec | None) -> list[str]:
    return list(component.outputs) if component is not None else list(entry.outputs)


def _check_names(spec: PipelineJobSpec, step: str, entry: StepSpec,
                 component: CommandComponentSpec | None) -> None:
    if component is None:
        return
    for group, declared in (("inputs", component.inputs), ("outputs", component.outputs)):
        for name in getattr(entry, group):
            if name not in declared:
                listed = ", ".join(declared) or "none"
                raise _error(spec, f"step '{step}' gives {group[:-1]} '{name}', which its component does "
                             f"not declare{did_you_mean(name, declared)}", ("jobs", step, group, name),
                             f"the component's {group}: {listed}")


def _check_required(spec: PipelineJobSpec, step: str, entry: StepSpec,
                    found: tuple[CommandComponentSpec | None, str]) -> None:
    """A required input of the component (not optional, no default) the step gives no value: one error at
    the step, naming the component and where it declares the input."""
    component, label = found
    if component is None:
        return
    for name, decl in component.inputs.items():
        if name in entry.inputs or decl.optional or decl.has_value:
            continue
        declared = component.where("inputs", name)
        at = f" (declared at {declared})" if declared.file is not None else ""
        value = "a path or ${{parent.jobs.<step>.outputs.<output>}}" if isinstance(decl, AssetInput) else \
            "a value or ${{parent.inputs.<input>}}"
        raise SpecError(f"step '{step}' gives no value for input '{name}', which its component {label} "
                        f"requires{at}", field=f"jobs.{step}.inputs.{name}", where=spec.where("jobs", step),
                        hint=f"add inputs: {name}: <{value}> to step '{step}', or declare '{name}' "
                             "optional: true (or give it a default:) in the component")


class _Checker:
    """Checks every binding and collects the edges and pipeline outputs."""

    def __init__(self, spec: PipelineJobSpec, outputs_of: Mapping[str, list[str]]) -> None:
        self.spec = spec
        self.outputs_of = outputs_of
        self.edges: list[Edge] = []
        self.pipeline_outputs: dict[str, tuple[str, str]] = {}

    def check(self, step: str, place: tuple[str, ...], binding: Binding, whole: bool) -> None:
        group, name = place[0], place[1]
        path = ("jobs", step, *place)
        if binding.kind == "input" and binding.name not in self.spec.inputs:
            close = did_you_mean(binding.name, self.spec.inputs)
            raise _error(self.spec, f"step '{step}' {group[:-1]} '{name}' reads pipeline input "
                         f"'{binding.name}', which is not defined{close}",
                         path, f"pipeline inputs: {', '.join(self.spec.inputs) or 'none'}")
        if binding.kind == "input" and not whole:
            self._embedded(step, name, binding, path)
        if group == "outputs":
            self._output(step, name, binding, path)
        elif binding.kind == "step_output":
            self._step_output(step, name, binding, path, whole)
        elif binding.kind == "output":
            raise _error(self.spec, f"step '{step}' input '{name}' reads the pipeline's output "
                         f"'{binding.name}'", path, "an input reads ${{parent.inputs.<name>}} or "
                                                    "${{parent.jobs.<step>.outputs.<output>}}")

    def _embedded(self, step: str, name: str, binding: Binding, path: tuple[str | int, ...]) -> None:
        """``${{parent.inputs.x}}`` inside other text: ``x`` must be a literal with a value."""
        source = self.spec.inputs[binding.name]
        if not isinstance(source, LiteralInput) or source.rendered() is None:
            raise _error(self.spec, f"step '{step}' input '{name}' holds '{binding.text}' inside other text, "
                         f"but pipeline input '{binding.name}' is not a literal with a value", path,
                         "only a literal can be written inside text; bind a path input as the whole value")

    def _output(self, step: str, name: str, binding: Binding, path: tuple[str | int, ...]) -> None:
        if binding.kind != "output":
            raise _error(self.spec, f"step '{step}' output '{name}' is bound to '{binding.text}'", path,
                         "a step output can only be bound to ${{parent.outputs.<name>}}")
        if binding.name not in self.spec.outputs:
            close = did_you_mean(binding.name, self.spec.outputs)
            raise _error(self.spec, f"step '{step}' output '{name}' is bound to pipeline output "
                         f"'{binding.name}', which is not defined{close}",
                         path, f"add it under the pipeline's outputs: (defined: "
                               f"{', '.join(self.spec.outputs) or 'none'})")
        if binding.name in self.pipeline_outputs:
            other = self.pipeline_outputs[binding.name]
            raise _error(self.spec, f"pipeline output '{binding.name}' is bound by two steps: "
                         f"{other[0]}.{other[1]} and {step}.{name}", path, "bind each pipeline output once")
        self.pipeline_outputs[binding.name] = (step, name)

    def _step_output(self, step: str, name: str, binding: Binding, path: tuple[str | int, ...],
                     whole: bool) -> None:
        if binding.step not in self.spec.jobs:
            raise _error(self.spec, f"step '{step}' input '{name}' reads step '{binding.step}', which is not "
                         f"in this pipeline{did_you_mean(binding.step, self.spec.jobs)}", path,
                         f"steps: {', '.join(self.spec.jobs)}")
        outputs = self.outputs_of[binding.step]
        if binding.name not in outputs:
            raise _error(self.spec, f"step '{step}' input '{name}' reads output '{binding.name}' of step "
                         f"'{binding.step}', which has no such output{did_you_mean(binding.name, outputs)}",
                         path, f"outputs of '{binding.step}': {', '.join(outputs) or 'none'}")
        if binding.step == step:
            raise _error(self.spec, f"step '{step}' input '{name}' reads the step's own output "
                         f"'{binding.name}'", path, "a step cannot read what it writes; split it in two")
        if not whole:
            raise _error(self.spec, f"step '{step}' input '{name}' holds '{binding.text}' inside other text",
                         path, "a step output binding is the whole value (or the whole path:)")
        self.edges.append(Edge(binding.step, binding.name, step, name))


def _order(spec: PipelineJobSpec, edges: list[Edge]) -> list[str]:
    """The steps in dependency order (stable: the order written among steps ready at once)."""
    waiting = {step: {e.source for e in edges if e.target == step} for step in spec.jobs}
    order: list[str] = []
    while len(order) < len(waiting):
        ready = [s for s in spec.jobs if s not in order and waiting[s] <= set(order)]
        if not ready:
            raise _cycle_error(spec, edges, [s for s in spec.jobs if s not in order])
        order.append(ready[0])
    return order


def _cycle_error(spec: PipelineJobSpec, edges: list[Edge], stuck: list[str]) -> SpecError:
    reads = {s: [e for e in edges if e.target == s and e.source in stuck] for s in stuck}
    path = [stuck[0]]
    while True:
        edge = reads[path[-1]][0]
        if edge.source in path:
            cycle = path[path.index(edge.source):] + [edge.source]
            break
        path.append(edge.source)
    first = next(e for e in edges if e.target == cycle[0] and e.source == cycle[1])
    shown = " <- ".join(cycle)
    return _error(spec, f"the steps' bindings make a cycle: {shown} (each reads the output of the next)",
                  ("jobs", first.target, "inputs", first.input),
                  "a step can only read outputs of steps that do not read its own outputs")


class _StepDoc(StepDoc):
    """A step's fields named as they were written: a value from the component's own file by the
    component's field path (``inputs.lr.default``, ``environment``) at its file:line there; any other as
    ``StepDoc`` names it (``jobs.<step>.<field>`` in the pipeline file)."""

    def from_component(self, where: SourceLocation | None) -> bool:
        own = self.component
        return (where is not None and own is not None and not isinstance(own, SubDoc)
                and own.file is not None and own.file != self.file and where.file == own.file)

    def field_name(self, parts: FieldPath) -> str:
        if self.bound_field(parts) is None and self.from_component(self.where(parts)):
            return ".".join(map(str, parts))
        return super().field_name(parts)


def _step_spec(spec: PipelineJobSpec, step: str, data: dict[str, object],
               component: CommandComponentSpec | None) -> CommandJobSpec:
    doc = spec.doc
    step_doc = _StepDoc(data=data, file=doc.file if doc else None, lines=doc.lines if doc else [],
                        pipeline=doc, step=step, component=component.doc if component is not None else None)
    step_doc.positions = {}
    try:
        built = spec_from_doc(step_doc)
    except SpecError as err:
        from_component = step_doc.from_component(err.where)

        def named(field: str | None) -> str:
            inline = step_doc.inline_field(split_field_path(field)) if field else None
            return field if field and from_component else \
                ".".join(map(str, inline)) if inline else f"jobs.{step}.{field}" if field else f"jobs.{step}"

        python_field = named(err.python_field) if err.python_field else None
        raise err.reworded(f"step '{step}': {err.message}", field=named(err.field), where=err.where,
                           hint=err.hint, **python_words(err, f"step '{step}': ", python_field)) from err
    if doc is None:
        built._base_dir = spec.base_dir
    built._overridden = dict(spec._overridden)  # its fields are named as the pipeline's: a --set is said
    check_step_files(built, step)  # code, conda_file: at their lines
    _compute_warning_at_its_source(spec, step, built)
    return built


def _compute_warning_at_its_source(spec: PipelineJobSpec, step: str, built: CommandJobSpec) -> None:
    """A step with no ``compute:`` of its own takes ``settings.default_compute`` (else the pipeline's
    ``compute:``): its "compute is ignored" warning points at that line, not at the step."""
    source = compute_source(spec, step)
    if source is None or source[0] == "jobs":
        return
    marker = ": compute is ignored ("
    at = str(spec.where(*source))
    warnings = []
    for warning in built.warnings:
        _, found, rest = warning.partition(marker)
        warnings.append(f"{at}{found}{rest}" if found else warning)
    built._warnings = warnings


def build_graph(spec: PipelineJobSpec, workspace: Workspace, *, pipeline_name: str) -> PipelineGraph:
    """Check the pipeline's components and bindings and make each step its command job (see the module
    docstring). Raises one ``SpecError`` with file:line for the first problem."""
    _check_pipeline_inputs(spec)
    store = ComponentStore(workspace)
    components: dict[str, tuple[CommandComponentSpec | None, str]] = {}
    for step, entry in spec.jobs.items():
        components[step] = _component(spec, step, entry, store)
        _check_names(spec, step, entry, components[step][0])
        _check_required(spec, step, entry, components[step])
    checker = _Checker(spec, {s: _declared_outputs(e, components[s][0]) for s, e in spec.jobs.items()})
    declared = {step: found[0] for step, found in components.items()}
    for step, entry in spec.jobs.items():
        refuse_bound_settings(spec, step, declared)  # a binding in mode:, type:, ...: before it is read
        for place, binding in step_bindings(entry, step, spec):
            value = getattr(entry, place[0])[place[1]]
            whole = whole_binding(value) is not None or (  # the value, its path: or its value:
                isinstance(value, dict) and place[-1] in ("path", "value")
                and whole_binding(value.get(place[-1])) is not None)
            checker.check(step, place, binding, whole)
    for step in spec.jobs:
        check_binding_types(spec, step, declared[step], declared)
        check_unset_optionals(spec, step, declared[step])
    order = _order(spec, checker.edges)
    job_names = {step: step_job_name(pipeline_name, step) for step in order}
    builder = StepBuilder(spec, pipeline_name, declared)
    steps: dict[str, StepNode] = {}
    warnings = spec.settings_warnings()
    reached: dict[str, list[str]] = {}  # a step job's warning -> the steps it is given for (once each)
    for step in order:
        entry, (component, label) = spec.jobs[step], components[step]
        step_spec = _step_spec(spec, step, builder.data(step, entry, component, job_names), component)
        choose_compute(workspace, step_spec)  # "compute is ignored" said as it is: not registered, or Ray
        depends = tuple(dict.fromkeys(e.source for e in checker.edges if e.target == step))
        steps[step] = StepNode(step, job_names[step], entry, component, label, depends, step_spec)
        for warning in step_spec.warnings:
            reached.setdefault(warning, []).append(step)
    warnings += [f"{w} (step{'s' if len(s) > 1 else ''} {', '.join(s)})" for w, s in reached.items()]
    for name in spec.outputs:
        if name not in checker.pipeline_outputs:
            warnings.append(f"{spec.where('outputs', name)}: pipeline output '{name}' is bound by no step "
                            "(bind one: <step>.outputs.<output>: ${{parent.outputs." + name + "}})")
    return PipelineGraph(spec, pipeline_name, steps, checker.edges, checker.pipeline_outputs, warnings)
