"""Where a pipeline step's fields were written: a step is made of its entry in the pipeline file
(``jobs.<step>``) and of its component (another file, or a mapping inside the pipeline file), and an
error about the command job it becomes must point at the line the value came from.

    doc = StepDoc(data=merged, pipeline=pipeline_doc, step="train", component=component_doc)
    doc.where(("inputs", "lr"))     # jobs.train.inputs.lr in pipeline.yml if given there, else the
                                    # component's inputs.lr declaration

``StepDoc`` is a ``YamlDoc``: ``runner.spec.load.spec_from_doc`` validates a step like any job file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from runner.errors import SourceLocation, SpecError
from runner.spec.bindings import whole_binding
from runner.spec.yamlio import FieldPath, YamlDoc, split_field_path


def _deepest(doc: YamlDoc, prefix: FieldPath, parts: FieldPath) -> tuple[int, SourceLocation | None]:
    """How many of ``parts`` (under ``prefix``) ``doc`` has a position for, and that position."""
    for end in range(len(parts), -1, -1):
        pos = doc.positions.get((*prefix, *parts[:end]))
        if pos is not None:
            return end, SourceLocation(doc.file, pos[0], pos[1])
    return -1, None


@dataclass
class SubDoc(YamlDoc):
    """A mapping inside a document (an inline ``component:``) seen as a document of its own."""

    parent: YamlDoc | None = None
    prefix: FieldPath = ()

    def where(self, field_path: Sequence[str | int] | str = ()) -> SourceLocation:
        parts = split_field_path(field_path) if isinstance(field_path, str) else tuple(field_path)
        if self.parent is None:
            return super().where(parts)
        return self.parent.where((*self.prefix, *parts))

    def find(self, text: str, *, after: SourceLocation | None = None) -> SourceLocation | None:
        return self.parent.find(text, after=after) if self.parent is not None else None


@dataclass
class StepDoc(YamlDoc):
    """The command job a step becomes, with each field located where it was written."""

    pipeline: YamlDoc | None = None
    step: str = ""
    component: YamlDoc | None = None
    docs: list[YamlDoc] = field(default_factory=list, repr=False)

    def bound_field(self, parts: FieldPath) -> FieldPath | None:
        """``("outputs", <m>, *rest)`` for a field ``("outputs", <o>, *rest)`` of a step output bound to
        the pipeline's output ``m`` (``o: ${{parent.outputs.m}}``) when the pipeline file wrote it on
        ``m`` (its ``name``, ``version``, ``path``, ...): the step's output takes it from there. And
        ``("inputs", <m>, "path")`` (or ``m``'s ``value``, or ``m`` itself when it is written as a bare
        value) for the path of a step input bound to the pipeline's input ``m`` (``i:
        ${{parent.inputs.m}}``, or ``i: {path: ${{parent.inputs.m}}, ...}``): it is ``m``'s."""
        if self.pipeline is None or len(parts) < 3 or parts[0] not in ("outputs", "inputs"):
            return None
        data = self.pipeline.data
        jobs = data.get("jobs") if isinstance(data, dict) else None
        entry = jobs.get(self.step) if isinstance(jobs, dict) else None
        group = entry.get(parts[0]) if isinstance(entry, dict) else None
        value = group.get(parts[1]) if isinstance(group, dict) else None
        if parts[0] == "inputs":
            return self._parent_input_field(value, parts) if isinstance(data, dict) else None
        try:
            binding = whole_binding(value)
        except SpecError:  # a binding of an unknown form: refused where it is checked
            return None
        if binding is None or binding.kind != "output":
            return None
        moved = ("outputs", binding.name, *parts[2:])
        return moved if _deepest(self.pipeline, (), moved)[0] == len(moved) else None

    def _parent_input_field(self, value: object, parts: FieldPath) -> FieldPath | None:
        """Where the pipeline file wrote the pipeline input whose path the step input's ``path`` is."""
        assert self.pipeline is not None and isinstance(self.pipeline.data, dict)
        if parts[2:] != ("path",):
            return None
        try:
            binding = whole_binding(value.get("path") or value.get("value") if isinstance(value, dict)
                                    else value)
        except SpecError:  # a binding of an unknown form: refused where it is checked
            return None
        inputs = self.pipeline.data.get("inputs")
        if binding is None or binding.kind != "input" or not isinstance(inputs, dict):
            return None
        written = inputs.get(binding.name)
        if written is None:  # not given: the step's path is its component's default
            return None
        places = [("inputs", binding.name, "path"), ("inputs", binding.name, "value")] \
            if isinstance(written, dict) else [("inputs", binding.name)]
        return next((moved for moved in places if _deepest(self.pipeline, (), moved)[0] == len(moved)), None)

    def inline_field(self, parts: FieldPath) -> FieldPath | None:
        """``("jobs", <step>, "component", *parts)`` for a field whose value was written in the step's
        inline ``component:`` mapping rather than on the step itself (as ``where`` finds it)."""
        own = self.component
        if not isinstance(own, SubDoc) or self.pipeline is None or self.bound_field(parts) is not None:
            return None
        on_step = _deepest(self.pipeline, ("jobs", self.step), parts)[0]
        in_component = _deepest(self.pipeline, own.prefix, parts)[0]
        return (*own.prefix, *parts) if in_component > max(on_step, 0) else None

    def field_name(self, parts: FieldPath) -> str:
        """The dotted field as written in the pipeline file: ``jobs.<step>.<field>``, the pipeline
        output's field the step's output takes (``bound_field``), or ``jobs.<step>.component.<field>``
        for a value of an inline component (``inline_field``)."""
        moved = self.bound_field(parts) or self.inline_field(parts)
        return ".".join(str(p) for p in moved) if moved else f"jobs.{self.step}." + ".".join(map(str, parts))

    def where(self, field_path: Sequence[str | int] | str = ()) -> SourceLocation:
        parts = split_field_path(field_path) if isinstance(field_path, str) else tuple(field_path)
        moved = self.bound_field(parts)
        if moved is not None and self.pipeline is not None:
            return self.pipeline.where(moved)
        best: tuple[int, SourceLocation | None] = (-1, None)
        if self.pipeline is not None:
            found = _deepest(self.pipeline, ("jobs", self.step), parts)
            best = found if found[1] is not None else best
        if self.component is not None and not isinstance(self.component, SubDoc):
            found = _deepest(self.component, (), parts)
            if found[0] > best[0] and found[0] > 0:
                best = found
        elif isinstance(self.component, SubDoc) and self.pipeline is not None:
            found = _deepest(self.pipeline, (*self.component.prefix,), parts)
            if found[0] > best[0] and found[0] > 0:
                best = found
        if best[1] is not None:
            return best[1]
        return self.pipeline.where(("jobs", self.step)) if self.pipeline is not None else SourceLocation(None)

    def find(self, text: str, *, after: SourceLocation | None = None) -> SourceLocation | None:
        for doc in (self.component, self.pipeline):
            if doc is None or (after is not None and after.file is not None and doc.file != after.file):
                continue
            found = doc.find(text, after=after)
            if found is not None:
                return found
        return None
