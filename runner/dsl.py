"""``@pipeline``: a pipeline written as a Python function, mirroring ``azure.ai.ml.dsl.pipeline``.

    from runner import Input, load_component
    from runner.dsl import pipeline

    train = load_component(source="train.yml")
    score = load_component(source="score.yml")

    @pipeline(description="train and score", default_compute="local-process")
    def train_and_score(data, lr=0.1):
        trained = train(data=data, lr=lr)
        scored = score(model=trained.outputs.model, data=data)
        return {"model": trained.outputs.model, "scores": scored.outputs.scores}

    job = train_and_score(data=Input(type="uri_folder", path="./data"))
    job.settings.force_rerun = True
    ml_client.jobs.create_or_update(job, experiment_name="demo")

Calling the function builds a ``PipelineJob``: its parameters become the pipeline's inputs, each
component call a step (named after the variable it is assigned to, as azure.ai.ml does, else after the
component), and the returned mapping its outputs. Relative paths are relative to the current directory
when the job is built. ``load_job("pipeline.yml")`` gives the same ``PipelineJob`` from YAML.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from runner.dsl_nodes import (
    _BUILDING,
    CommandNode,
    NodeOutput,
    PipelineInput,
    nested_pipeline_error,
    only_output,
)
from runner.errors import SourceLocation, SpecError
from runner.inputs_outputs import Input, Output, _Fields, _plain
from runner.spec.names import check_job_name
from runner.spec.pipeline import PipelineJobSpec, pipeline_from_data
from runner.spec.yamlio import dump_yaml

__all__ = ["PipelineJob", "pipeline"]

_SETTINGS = {"default_compute": "default_compute", "default_compute_target": "default_compute",
             "default_datastore": "default_datastore", "continue_on_step_failure": "continue_on_step_failure",
             "force_rerun": "force_rerun"}


class PipelineJob:
    """A pipeline job (``azure.ai.ml.entities.PipelineJob``): from ``@pipeline`` or ``load_job``. Its
    ``settings`` (``default_compute``, ``default_datastore``, ``continue_on_step_failure``,
    ``force_rerun``), ``name``, ``display_name``, ``description``, ``experiment_name`` and ``tags`` can be
    changed before it is submitted."""

    def __init__(self, spec: PipelineJobSpec) -> None:
        self.__dict__["_spec"] = spec
        self.__dict__["_views"] = {}  # "inputs"/"outputs" -> (the entities handed out, their data then)

    def pipeline_spec(self) -> PipelineJobSpec:
        """The spec, with the edits made to its inputs and outputs (checked: one ``SpecError``)."""
        changes = {field: now for field, (view, seen) in self._views.items() if (now := _plain(view)) != seen}
        if changes:
            self.__dict__["_spec"] = _spec_with(self._spec, changes)
            for field, now in changes.items():
                self._views[field] = (self._views[field][0], now)
        return self._spec

    @property
    def inputs(self) -> _Fields:
        """``job.inputs.x = 5``, ``job.inputs["x"] = Input(...)``, ``job.inputs.x.path = ...``: a literal
        input reads as its value, a path input as an ``Input``."""
        return self._view("inputs", Input._from_spec)

    @inputs.setter
    def inputs(self, value: Mapping[str, Any]) -> None:
        self._set("inputs", value)

    @property
    def outputs(self) -> _Fields:
        """``job.outputs.x.mode = "upload"``, ``.path``, ``.name``/``.version``, or an ``Output``."""
        return self._view("outputs", Output._from_spec)

    @outputs.setter
    def outputs(self, value: Mapping[str, Any]) -> None:
        self._set("outputs", value)

    def _view(self, field: str, entity: Callable[[Any], Any]) -> _Fields:
        if field not in self._views:
            view = _CheckedFields({k: entity(v) for k, v in getattr(self._spec, field).items()},
                                  self.pipeline_spec)
            self._views[field] = (view, _plain(view))
        return self._views[field][0]  # type: ignore[no-any-return]

    def _set(self, field: str, value: Mapping[str, Any]) -> None:
        spec = self.pipeline_spec()  # pending edits first
        self.__dict__["_spec"] = _spec_with(spec, {field: _plain(value)})
        self._views.pop(field, None)

    @property
    def settings(self) -> Any:
        return self._spec.settings

    @property
    def name(self) -> str | None:
        return self._spec.name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None:
            check_job_name(value, "name")
        self._spec.name = value

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        if item in PipelineJobSpec.model_fields:
            return getattr(self.pipeline_spec(), item)
        raise AttributeError(f"'PipelineJob' has no attribute '{item}'")

    def __setattr__(self, key: str, value: Any) -> None:
        if key in ("display_name", "description", "experiment_name", "tags", "compute"):
            setattr(self.pipeline_spec(), key, value)
        else:
            super().__setattr__(key, value)

    def to_dict(self) -> dict[str, Any]:
        return self.pipeline_spec().to_yaml_dict()

    def dump(self, dest: Any) -> None:
        """Write the pipeline as YAML (``runner job create -f`` runs it)."""
        dump_yaml(self.to_dict(), dest)

    def __repr__(self) -> str:
        return f"PipelineJob(name={self.name!r}, steps={list(self._spec.jobs)})"


class _CheckedFields(_Fields):
    """A pipeline job's inputs or outputs: an entry assigned is checked at once (a value that is not an
    input or output is one ``SpecError``, and the entry keeps its previous value)."""

    def __init__(self, entries: dict[str, Any], check: Callable[[], Any]) -> None:
        super().__init__(entries)
        object.__setattr__(self, "_check", check)

    def __setitem__(self, key: str, value: Any) -> None:
        missing = object()
        before = self.get(key, missing)
        super().__setitem__(key, value)
        try:
            self._check()
        except SpecError:
            if before is missing:
                super().__delitem__(key)
            else:
                super().__setitem__(key, before)
            raise


def _spec_with(spec: PipelineJobSpec, changes: Mapping[str, Any]) -> PipelineJobSpec:
    """``spec`` with top-level fields replaced, checked as a pipeline built in Python (one ``SpecError``
    naming the field); its base folder and source document are kept."""
    changed = pipeline_from_data({**spec.to_yaml_dict(), **changes}, base_dir=spec.base_dir)
    changed._doc, changed._overridden = spec.doc, dict(spec._overridden)
    return changed


def _call_capturing_locals(func: Callable[..., Any], kwargs: dict[str, Any]
                           ) -> tuple[Any, dict[str, Any], SourceLocation | None]:
    """Run ``func`` and keep its local variables at return (the steps are named after them) and where it
    returned."""
    captured: dict[str, Any] = {}
    returned_at: list[SourceLocation] = []
    previous = sys.getprofile()

    def profiler(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "return" and frame.f_code is func.__code__:
            captured.update(frame.f_locals)
            returned_at[:] = [SourceLocation(Path(frame.f_code.co_filename), frame.f_lineno)]

    sys.setprofile(profiler)
    try:
        result = func(**kwargs)
    finally:
        sys.setprofile(previous)
    return result, captured, returned_at[0] if returned_at else None


def _check_returned(result: dict[str, Any], where: SourceLocation | None) -> None:
    """Every returned value is a step's output (a pipeline output is one): anything else is one error."""
    for key, value in result.items():
        if isinstance(value, NodeOutput):
            continue
        what = (f"pipeline input '{value.name}'" if isinstance(value, PipelineInput)
                else f"a plain {type(value).__name__} value ({value!r})")
        raise SpecError(f"the @pipeline function returns '{key}': {what}, but a pipeline's outputs are its "
                        "steps' outputs", field=key, where=where,
                        hint=f'return {{"{key}": <step>.outputs.<name>}} (a step output), or leave '
                             f"'{key}' out of the returned dict (a pipeline input or a value is not an "
                             "output)")


def _step_names(nodes: list[CommandNode], local_vars: dict[str, Any]) -> dict[int, str]:
    names: dict[int, str] = {}
    by_id = {id(v): k for k, v in reversed(list(local_vars.items())) if isinstance(v, CommandNode)}
    taken: set[str] = set()
    for node in nodes:
        base = node.name or by_id.get(id(node)) or (node.component.spec.name or "step").replace("-", "_")
        name, count = base, 1
        while name in taken:
            count += 1
            name = f"{base}_{count}"
        taken.add(name)
        names[id(node)] = name
    return names


def _returned_output(output: NodeOutput) -> dict[str, Any]:
    """A returned step output as the pipeline's output: its settings, and the step's type unless one
    was set (as azure.ai.ml's pipeline output is typed by its component's output)."""
    settings = output.settings()
    declared = output.node.component.spec.outputs.get(output.port)
    if "type" not in settings and declared is not None:
        settings["type"] = declared.type.value
    return settings


def _pipeline_input(value: Any) -> Any:
    if isinstance(value, Input):
        data = value._to_data()
        path = data.get("path")
        if isinstance(path, str) and "://" not in path and not path.startswith(("azureml:", "runs:")):
            data["path"] = str(Path(path).expanduser().resolve())
        return data
    return value


def _build(func: Callable[..., Any], options: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
           ) -> PipelineJob:
    if _BUILDING:  # called inside another @pipeline function: no pipeline components here
        raise nested_pipeline_error(func.__name__)
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    values = {k: v for k, v in bound.arguments.items() if v is not None}
    _BUILDING.append([])
    try:
        result, local_vars, returned_at = _call_capturing_locals(
            func, {k: PipelineInput(k, values[k]) if k in values else None for k in bound.arguments})
    finally:
        nodes = _BUILDING.pop()
    if result is not None and not isinstance(result, dict):
        raise SpecError(f"a @pipeline function returns a dict of outputs, not {type(result).__name__}",
                        hint='return {"model": train_step.outputs.model}')
    result = {k: only_output(k, v, returned=True) if isinstance(v, CommandNode) else v
              for k, v in (result or {}).items()}
    _check_returned(result, returned_at)
    returned = {id(v): k for k, v in result.items() if isinstance(v, NodeOutput)}
    names = _step_names(nodes, local_vars)
    data: dict[str, Any] = {
        "type": "pipeline", "display_name": options.get("display_name") or func.__name__,
        "description": options.get("description") or inspect.getdoc(func),
        "experiment_name": options.get("experiment_name"), "tags": options.get("tags"),
        "compute": options.get("compute"),
        "settings": {v: options[k] for k, v in _SETTINGS.items() if options.get(k) is not None},
        "inputs": {k: _pipeline_input(v) for k, v in values.items()},
        "outputs": {k: _returned_output(v) for k, v in result.items() if isinstance(v, NodeOutput)},
        "jobs": {names[id(n)]: n.entry(names, returned) for n in nodes}}
    return PipelineJob(pipeline_from_data({k: v for k, v in data.items() if v is not None}))


def pipeline(func: Callable[..., Any] | None = None, *, name: str | None = None, version: str | None = None,
             display_name: str | None = None, description: str | None = None,
             experiment_name: str | None = None, tags: dict[str, str] | None = None,
             **kwargs: Any) -> Any:
    """Build a pipeline from a function (see the module docstring); ``compute``, ``default_compute``,
    ``default_datastore``, ``continue_on_step_failure`` and ``force_rerun`` are its settings."""
    del name, version  # the pipeline component's name and version: no pipeline components here
    options = {"display_name": display_name, "description": description, "experiment_name": experiment_name,
               "tags": tags, **kwargs}

    def decorate(function: Callable[..., Any]) -> Callable[..., PipelineJob]:
        @functools.wraps(function)
        def wrapper(*args: Any, **call_kwargs: Any) -> PipelineJob:
            return _build(function, options, args, call_kwargs)

        return wrapper

    return decorate(func) if func is not None else decorate
