"""A checked pipeline as text or JSON: what ``runner job validate -f pipeline.yml`` prints (the steps in
the order they can run, what each binding resolves to, the edges, where outputs go, what would be
reused). Either shows each value with its secrets masked, as a command job's printed plan does
(``runner.plan.render``, ``runner.url_secrets.without_secrets``): a pipeline input's literal or path, a
step's literal input, an input's path, an output's location, the command (``AccountKey=***``,
``?<query removed>``); a step's ``environment_variables`` are not shown (the steps' jobs get the values)."""

from __future__ import annotations

from typing import Any

from runner.modes import DEFAULT_MODE, Direction
from runner.pipelines.graph import PipelineGraph, StepNode
from runner.spec.bindings import whole_binding
from runner.spec.job_io import AssetInput, LiteralInput
from runner.url_secrets import masked_data, without_secrets

Locations = dict[str, dict[str, str]]
UNSET = "(optional, not set)"  # an optional input left without a value (the JSON form: null)


def _shown(value: object) -> str:
    """A value as shown; None only for an optional input (a required one without a value is refused
    before anything is rendered: ``_check_pipeline_inputs``, a step's ``check_input_values``)."""
    return str(value) if value is not None else UNSET


def _written(node: StepNode, group: str, name: str) -> str:
    value = getattr(node.entry, group).get(name)
    binding = whole_binding(value) or (whole_binding(value.get("path")) if isinstance(value, dict) else None)
    return binding.text if binding is not None else ""


def _inputs(node: StepNode) -> list[dict[str, Any]]:
    rows = []
    for name, value in node.spec.inputs.items():
        row: dict[str, Any] = {"name": name, "from": _written(node, "inputs", name)}
        if isinstance(value, LiteralInput):
            row.update(type=value.type or _kind(value.effective), value=value.rendered())
        else:
            assert isinstance(value, AssetInput)
            mode = value.mode or DEFAULT_MODE[Direction.INPUT]
            row.update(type=value.type.value, mode=mode.value, value=value.path)
        rows.append(row)
    return rows


def _kind(value: object) -> str:
    """A literal written without a type, named as Azure's types name it."""
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string"}.get(type(value), "literal")


def _outputs(node: StepNode, locations: Locations) -> list[dict[str, Any]]:
    rows = []
    for name, value in node.spec.outputs.items():
        mode = value.mode or DEFAULT_MODE[Direction.OUTPUT]
        rows.append({"name": name, "type": value.type.value, "mode": mode.value,
                     "location": locations.get(node.name, {}).get(name, ""),
                     "to": _written(node, "outputs", name),
                     **({"registers": f"{value.name}:{value.version or '<next>'}"} if value.name else {})})
    return rows


def pipeline_dict(graph: PipelineGraph, locations: Locations, reuse: dict[str, str]) -> dict[str, Any]:
    """The JSON form (``job validate -o json``): every string value masked as the text is."""
    spec = graph.spec
    return masked_data({
        "name": graph.name, "type": "pipeline", "display_name": spec.display_name,
        "file": str(spec.source) if spec.source else None,
        "settings": spec.settings.model_dump(mode="json"),
        "inputs": {k: v.model_dump(mode="json", exclude_none=True) for k, v in spec.inputs.items()},
        "outputs": {k: {"step": s, "output": o, "location": locations.get(s, {}).get(o)}
                    for k, (s, o) in graph.outputs.items()},
        "steps": [{"name": n.name, "job": n.job_name, "component": n.component_label,
                   "depends_on": list(n.depends_on), "environment": _environment(n),
                   "command": n.spec.command, "inputs": _inputs(n), "outputs": _outputs(n, locations),
                   "reuse": reuse.get(n.name)} for n in graph.steps.values()],
        "edges": [{"from": f"{e.source}.{e.output}", "to": f"{e.target}.{e.input}"} for e in graph.edges],
        "warnings": list(graph.warnings),
    })



def _environment(node: StepNode) -> str:
    env = node.spec.environment
    if isinstance(env, str):
        return env
    return env.image or f"build: {env.build.path if env.build else '?'}"


def _table(rows: list[list[str]], indent: str) -> list[str]:
    rows = [[without_secrets(cell) for cell in row] for row in rows]  # masked before they are measured
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]


def _step_lines(node: StepNode, locations: Locations, reuse: dict[str, str]) -> list[str]:
    lines = [f"  {node.name}", f"    job          {node.job_name}",
             f"    component    {node.component_label}",
             f"    after        {', '.join(node.depends_on) or '(nothing: can start at once)'}",
             f"    environment  {_environment(node)}"]
    if node.name in reuse:
        lines.append(f"    reuse        {reuse[node.name]}")
    lines = [without_secrets(line) for line in lines]  # a table's cells are masked on their own
    inputs = [[r["name"], r["type"], r.get("mode", "="),
               _shown(r["value"]), r["from"]] for r in _inputs(node)]
    if inputs:
        lines += ["    inputs", *_table(inputs, "      ")]
    outputs = [[r["name"], r["type"], r["mode"], r["location"],
                (f"-> {r['to']}" if r["to"] else "") + (f" registers {r['registers']}" if "registers" in r
                                                         else "")] for r in _outputs(node, locations)]
    if outputs:
        lines += ["    outputs", *_table(outputs, "      ")]
    lines += ["    command", *("      " + without_secrets(line) for line in node.spec.command.splitlines())]
    return lines


def render_pipeline(graph: PipelineGraph, locations: Locations, reuse: dict[str, str]) -> str:
    """The text form (``job validate`` / ``job create --dry-run`` of a pipeline)."""
    spec = graph.spec
    settings = spec.settings
    lines = [f"pipeline     {graph.name}  ({len(graph.steps)} step{'s' if len(graph.steps) != 1 else ''})"]
    if spec.source:
        lines.append(f"file         {spec.source}")
    lines.append(f"settings     default_compute={settings.default_compute or '-'} "
                 f"default_datastore={settings.datastore or 'workspaceblobstore'} "
                 f"continue_on_step_failure={str(settings.continue_on_step_failure).lower()} "
                 f"force_rerun={str(settings.force_rerun).lower()}")
    lines = [without_secrets(line) for line in lines]  # a table's cells are masked on their own
    if spec.inputs:
        rows = [[k, "=", _shown(v.rendered() if isinstance(v, LiteralInput) else v.path)]
                for k, v in spec.inputs.items()]
        lines += ["inputs", *_table(rows, "  ")]
    if graph.outputs:
        rows = [[k, "<-", f"{s}.{o}", locations.get(s, {}).get(o, "")] for k, (s, o) in graph.outputs.items()]
        lines += ["outputs", *_table(rows, "  ")]
    lines.append("steps (in the order they can run; steps with no edge between them run at once)")
    for node in graph.steps.values():
        lines += _step_lines(node, locations, reuse)
    if graph.edges:
        lines += ["edges", *(f"  {e.source}.{e.output} -> {e.target}.{e.input}" for e in graph.edges)]
    if graph.warnings:
        lines += ["warnings", *("  " + without_secrets(w) for w in graph.warnings)]
    return "\n".join(lines)
