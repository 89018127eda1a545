"""Data bindings of a pipeline job: the ``${{parent...}}`` expressions a step's inputs and outputs are
written with. Pure parsing (no I/O).

| written                                      | means                                               |
|----------------------------------------------|-----------------------------------------------------|
| ``${{parent.inputs.x}}``                      | the pipeline's input ``x`` (a literal or a path)    |
| ``${{parent.outputs.y}}``                     | the pipeline's output ``y`` (a step output only)    |
| ``${{parent.jobs.<step>.outputs.<out>}}``     | output ``<out>`` of step ``<step>`` (an input only) |

A literal may hold ``${{parent.inputs.x}}`` inside other text (``"run-${{parent.inputs.n}}"``); a path
binding is the whole value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from runner.errors import SpecError
from runner.lazy_re import on_first_use

BindingKind = Literal["input", "output", "step_output"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_EXPRESSION = re.compile(r"\$\{\{(?P<body>.*?)\}\}", re.DOTALL)
_PARENT_INPUT = re.compile(rf"^\s*parent\.inputs\.(?P<name>{_IDENT})\s*$")
_PARENT_OUTPUT = re.compile(rf"^\s*parent\.outputs\.(?P<name>{_IDENT})\s*$")
_STEP_OUTPUT = re.compile(rf"^\s*parent\.jobs\.(?P<step>{_IDENT})\.outputs\.(?P<name>{_IDENT})\s*$")
# a command job's form written in a pipeline: for the error only (``runner.lazy_re``: compiled then)
_old_form_re = on_first_use(rf"^\s*(?P<rest>(?:inputs|outputs)\.{_IDENT}"
                            rf"|jobs\.{_IDENT}\.outputs\.{_IDENT})\s*$")

FORMS_HINT = ("write ${{parent.inputs.<name>}}, ${{parent.outputs.<name>}} or "
              "${{parent.jobs.<step>.outputs.<output>}}")


@dataclass(frozen=True)
class Binding:
    """One ``${{parent...}}`` expression."""

    kind: BindingKind
    name: str  # the pipeline input/output name, or the step's output name
    text: str  # as written
    step: str = ""  # for ``step_output``: the step whose output it is

    def __str__(self) -> str:
        if self.kind == "step_output":
            return f"${{{{parent.jobs.{self.step}.outputs.{self.name}}}}}"
        return f"${{{{parent.{self.kind}s.{self.name}}}}}"


def _parse(body: str, text: str) -> Binding:
    if m := _PARENT_INPUT.match(body):
        return Binding("input", m["name"], text)
    if m := _PARENT_OUTPUT.match(body):
        return Binding("output", m["name"], text)
    if m := _STEP_OUTPUT.match(body):
        return Binding("step_output", m["name"], text, m["step"])
    if m := _old_form_re().match(body):
        raise SpecError(f"'{text}' is not a pipeline binding", hint=f"inside a pipeline's jobs, write "
                        f"${{{{parent.{m['rest']}}}}}")
    raise SpecError(f"unknown binding '{text}'", hint=FORMS_HINT)


# Azure's server expressions, which an output's path may hold (``runner.spec.expressions``)
_PATH_EXPRESSION = re.compile(r"^\s*(name|output_name|default_datastore)\s*$")


def find_bindings(value: str, *, output_path: bool = False) -> list[Binding]:
    """Every ``${{...}}`` in ``value`` as a binding (``SpecError`` for an unknown form); in an output's
    path (``output_path``) ``${{name}}``, ``${{output_name}}`` and ``${{default_datastore}}`` are not
    bindings but substituted when the step is planned."""
    return [_parse(m["body"], m.group(0)) for m in _EXPRESSION.finditer(value)
            if not (output_path and _PATH_EXPRESSION.match(m["body"]))]


def whole_binding(value: object) -> Binding | None:
    """The binding ``value`` is, when it is one expression and nothing else; None for anything else
    (a literal, a path, text with an expression inside)."""
    if not isinstance(value, str):
        return None
    match = _EXPRESSION.fullmatch(value.strip())
    return _parse(match["body"], match.group(0)) if match else None


def has_binding(value: object) -> bool:
    return isinstance(value, str) and _EXPRESSION.search(value) is not None


def substitute_literals(value: str, literals: dict[str, str]) -> str:
    """``"run-${{parent.inputs.n}}"`` with ``n`` -> ``"run-3"`` (every binding must be a pipeline input
    in ``literals``; the caller checked that)."""
    return _EXPRESSION.sub(lambda m: literals[_parse(m["body"], m.group(0)).name], value)
