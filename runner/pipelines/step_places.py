"""Where each field of a pipeline step was written, kept in the pipeline's plan so that an error met when
the step is submitted (after its upstream steps ran, in the orchestrator, where the step's job is plain
data) names the pipeline file's line, as the checks before the run do.

    places = step_places(node.spec)       # at submission: {"inputs.i.path": [field, file, line, col], ...}
    raise locate(err, places) from err    # when the step is submitted: <file>:<line>:<col>: jobs.<step>...

A field is found by its longest recorded prefix (``inputs.i.path.x`` -> ``inputs.i.path``); an error
that names no field is placed at the step (``jobs.<step>``). An error that names a file already is kept.
A step's compute is placed where it was given (``compute_source``): its own ``compute:``, else
``settings.default_compute``, else the pipeline's ``compute:``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.errors import RegistryError, ResolveError, RunnerError, SourceLocation, SpecError
from runner.spec.job import CommandJobSpec
from runner.spec.pipeline import PipelineJobSpec

Places = dict[str, list[Any]]  # the step job's field ("" for the step) -> [field as written, file, line, col]

_LOCATED = (SpecError, ResolveError, RegistryError)  # errors about what the step's YAML says


def step_places(spec: CommandJobSpec) -> Places:
    """Every field of the step's job down to ``inputs.<name>.<key>`` (plain JSON data for a record)."""
    data = spec.to_yaml_dict()
    paths: list[tuple[str, ...]] = [()]
    for key, value in data.items():
        paths.append((key,))
        if not isinstance(value, dict):
            continue
        for name, inner in value.items():
            paths.append((key, name))
            if key in ("inputs", "outputs") and isinstance(inner, dict):
                paths += [(key, name, sub) for sub in inner]
    places: Places = {}
    for path in paths:
        field, where = spec.field_location(*path)
        where = where or SourceLocation(None)
        places[".".join(path)] = [field, str(where.file) if where.file else None, where.line, where.column]
    return places


def locate(err: RunnerError, places: Mapping[str, list[Any]] | None) -> RunnerError:
    """A copy of ``err`` at the pipeline file's line of the field it names (see the module docstring)."""
    if not places or "" not in places or (err.where is not None and err.where.file is not None):
        return err
    if err.field is None and not isinstance(err, _LOCATED):
        return err  # not about the step's YAML (the engine, storage): no line to point at
    parts = err.field.split(".") if err.field else []
    known = next(n for n in range(len(parts), -1, -1) if ".".join(parts[:n]) in places)
    field, file, line, column = places[".".join(parts[:known])]
    copied = copy.copy(err)
    copied.field = ".".join([field, *parts[known:]])
    copied.where = SourceLocation(Path(file) if file else None, line, column)
    return copied


def compute_source(spec: PipelineJobSpec, step: str) -> tuple[str, ...] | None:
    """Where the pipeline file gives ``step`` its compute (a field path of the pipeline; None: nowhere),
    as the step builder takes it (``runner.pipelines.steps``)."""
    if spec.jobs[step].compute:
        return ("jobs", step, "compute")
    if spec.settings.default_compute:
        return ("settings", "default_compute")
    return ("compute",) if spec.compute else None
