"""Expressions in a job's ``command``: pure parsing, validation and rendering (no I/O).

Supported, as in Azure ML command jobs:

| written                                   | means                                              |
|-------------------------------------------|----------------------------------------------------|
| ``${{inputs.x}}``, ``${{ inputs.x }}``    | the value of input ``x`` (a path, or a literal)    |
| ``${{outputs.x}}``                        | the path of output ``x``                           |
| ``$<<inputs.x>>``, ``$<<outputs.x>>``     | the same as ``${{...}}``                           |
| ``$[[ --lr ${{inputs.lr}} ]]``            | kept only when every input inside has a value      |
| ``${{name}}``                             | the job name                                       |

``environment_variables`` are never substituted (like Azure); ``env_var_warnings`` flags values that
look like they expect it.

An output's ``path`` takes Azure's server expressions (``expand_output_path``): ``${{name}}`` (the job;
a pipeline step's own job), ``${{output_name}}`` and ``${{default_datastore}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from runner.errors import SourceLocation, SpecError

RefKind = Literal["inputs", "outputs", "name"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"  # input/output names (``trained-model`` too)
_CURLY = re.compile(r"\$\{\{(?P<body>.*?)\}\}", re.DOTALL)
_ANGLE = re.compile(r"\$<<(?P<body>.*?)>>", re.DOTALL)
_OPTIONAL = re.compile(r"\$\[\[(?P<body>.*?)\]\]", re.DOTALL)
_BODY = re.compile(rf"^\s*(?:(?P<kind>inputs|outputs)\.(?P<name>{_IDENT})|(?P<job>name))\s*$")

# an expression's opener, its closer, and what an unclosed one shows (up to where its name ends)
_PAIRS = (("${{", "}}"), ("$<<", ">>"), ("$[[", "]]"))
_UNCLOSED_TEXT = {"${{": re.compile(r"\$\{\{[ \t]*[\w.-]*[ \t]*\}?"),
                  "$<<": re.compile(r"\$<<[ \t]*[\w.-]*[ \t]*>?"),
                  "$[[": re.compile(r"\$\[\[[^\n]{0,30}")}
_KINDS = ("inputs", "outputs", "name")

_FORMS_HINT = ("use ${{inputs.<name>}}, ${{outputs.<name>}} or ${{name}} "
               "(or $<<inputs.<name>>> / $<<outputs.<name>>>)")


@dataclass(frozen=True)
class Reference:
    """One expression found in a command."""

    kind: RefKind
    name: str  # the input/output name; "" for ${{name}}
    text: str  # exactly as written, e.g. "${{ inputs.x }}"
    optional: bool = False  # inside a $[[ ... ]] fragment


Locate = Callable[[str], SourceLocation | None]


def _nowhere(_text: str) -> SourceLocation | None:
    return None


def _parse_one(match: re.Match[str], *, optional: bool, locate: Locate = _nowhere) -> Reference:
    body = _BODY.match(match["body"])
    text = match.group(0)
    if body is None:
        raise SpecError(f"unknown expression '{text}' in command{_meant(match)}", field="command",
                        where=locate(text), hint=_FORMS_HINT)
    if body["job"]:
        return Reference("name", "", text, optional)
    kind: RefKind = "inputs" if body["kind"] == "inputs" else "outputs"
    return Reference(kind, body["name"], text, optional)


def _meant(match: re.Match[str]) -> str:
    """`` (did you mean '${{inputs.x}}'?)`` for a misspelled kind (``${{input.x}}``), else ``""``."""
    from runner.spec.validation import closest  # pydantic: only on this error path

    kind, dot, name = match["body"].strip().partition(".")
    close = closest(kind, _KINDS[:2] if dot else _KINDS)
    if close is None or close == kind or (dot and not re.fullmatch(_IDENT, name)):
        return ""
    opener, closer = match.group(0)[:3], match.group(0)[-2:]
    return f" (did you mean '{opener}{close}{dot}{name}{closer}'?)"


def _refuse_unclosed(command: str, locate: Locate) -> None:
    """One ``SpecError`` for an expression opened (``${{``, ``$<<``, ``$[[``) and not closed before the
    next one opens or the command ends: bash would fail on it at run time ("bad substitution"). A shell
    ``${VAR}`` opens none."""
    for opener, closer in _PAIRS:
        start = command.find(opener)
        while start != -1:
            end = command.find(closer, start + len(opener))
            again = command.find(opener, start + len(opener))
            if end == -1 or -1 < again < end:
                _unclosed(command, start, opener, closer, locate)
            start = command.find(opener, end + len(closer))


def _unclosed(command: str, start: int, opener: str, closer: str, locate: Locate) -> None:
    found = _UNCLOSED_TEXT[opener].match(command, start)
    shown = found.group(0).rstrip() if found else opener
    inner = shown[len(opener):].strip(" \t}>")
    fixed = f"write {opener}{inner}{closer}" if inner and opener != "$[[" else f"end it with '{closer}'"
    raise SpecError(f"the expression '{shown}' in command is not closed: '{opener}' needs its '{closer}'",
                    field="command", where=locate(shown), hint=f"{fixed} (a shell variable is ${{VAR}})")


def _scan(text: str, *, optional: bool, locate: Locate = _nowhere) -> list[Reference]:
    found = [(m.start(), _parse_one(m, optional=optional, locate=locate)) for m in _CURLY.finditer(text)]
    found += [(m.start(), _parse_one(m, optional=optional, locate=locate)) for m in _ANGLE.finditer(text)]
    return [ref for _, ref in sorted(found, key=lambda pair: pair[0])]


def find_references(command: str, *, locate: Locate = _nowhere) -> list[Reference]:
    """Every expression in ``command``, in order; raises ``SpecError`` for an unknown ``${{...}}``."""
    _refuse_unclosed(command, locate)
    refs: list[Reference] = []
    position = 0
    for fragment in _OPTIONAL.finditer(command):
        refs += _scan(command[position:fragment.start()], optional=False, locate=locate)
        inner = _scan(fragment["body"], optional=True, locate=locate)
        if not any(ref.kind == "inputs" for ref in inner):
            raise SpecError(f"the optional fragment '{fragment.group(0)}' refers to no input",
                            field="command", where=locate(fragment.group(0)),
                            hint="a $[[ ... ]] fragment must contain at least one ${{inputs.<name>}}")
        refs += inner
        position = fragment.end()
    refs += _scan(command[position:], optional=False, locate=locate)
    return refs


def validate_command(
    command: str,
    *,
    inputs: Mapping[str, bool],
    outputs: Collection[str],
    locate: Locate = _nowhere,
) -> list[Reference]:
    """Check every reference in ``command`` against the job's inputs and outputs.

    ``inputs`` maps each input name to whether it has a value (a path, a literal or a default).
    ``locate`` turns the text of an expression into where it was written (for the error).
    """
    refs = find_references(command, locate=locate)
    for ref in refs:
        if ref.kind == "inputs" and ref.name not in inputs:
            raise SpecError(f"Inputs to job does not contain '{ref.name}' referenced in command",
                            field="command", where=locate(ref.text),
                            hint=_define_hint("inputs", ref.name, inputs))
        if ref.kind == "outputs" and ref.name not in outputs:
            raise SpecError(f"Outputs to job does not contain '{ref.name}' referenced in command",
                            field="command", where=locate(ref.text),
                            hint=_define_hint("outputs", ref.name, outputs))
        if ref.kind == "inputs" and not ref.optional and not inputs[ref.name]:
            raise SpecError(f"input '{ref.name}' has no value but is used outside an optional "
                            "$[[ ... ]] fragment of the command", field="command",
                            where=locate(ref.text),
                            hint=f"give inputs.{ref.name} a path or default, or wrap the argument: "
                                 f"$[[--{ref.name} ${{{{inputs.{ref.name}}}}}]]")
    return refs


def _define_hint(kind: str, name: str, defined: Collection[str]) -> str:
    listed = ", ".join(sorted(defined)) if defined else "none"
    return f"add '{name}' under {kind}: in the job, or fix the name (defined {kind}: {listed})"


def render_command(
    command: str,
    *,
    inputs: Mapping[str, str | None],
    outputs: Mapping[str, str],
    job_name: str,
) -> str:
    """Substitute every expression. An input mapped to ``None`` has no value: the ``$[[...]]``
    fragments that use it are dropped (whole), other fragments lose only their brackets."""

    def substitute(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            ref = _parse_one(match, optional=False)
            if ref.kind == "name":
                return job_name
            if ref.kind == "outputs":
                return outputs[ref.name]
            value = inputs[ref.name]
            if value is None:
                raise SpecError(f"input '{ref.name}' has no value", field=f"inputs.{ref.name}",
                                hint="give it a path or default, or use it inside $[[ ... ]]")
            return value

        return _ANGLE.sub(one, _CURLY.sub(one, text))

    def fragment(match: re.Match[str]) -> str:
        inner = _scan(match["body"], optional=True)
        if any(ref.kind == "inputs" and inputs.get(ref.name) is None for ref in inner):
            return ""
        return substitute(match["body"])

    parts: list[str] = []
    position = 0
    for match in _OPTIONAL.finditer(command):
        parts.append(substitute(command[position:match.start()]))
        parts.append(fragment(match))
        position = match.end()
    parts.append(substitute(command[position:]))
    return "".join(parts)


def env_var_warnings(environment_variables: Mapping[str, str]) -> list[str]:
    """Warnings for environment variables that contain expressions (Azure does not substitute them)."""
    return [
        f"environment_variables.{key} contains '${{{{' but environment variables are not substituted "
        f"(as in Azure ML); the job sees the text as written. Pass the value on the command line instead, "
        f"or read AZURE_ML_INPUT_<name> / AZURE_ML_OUTPUT_<name>"
        for key, value in environment_variables.items()
        if "${{" in value or "$<<" in value
    ]


_PATH_NAMES = ("name", "output_name", "default_datastore")


def expand_output_path(path: str, *, job_name: str, output_name: str, default_datastore: str,
                       field: str | None = None) -> str:
    """``path`` with ``${{name}}``, ``${{output_name}}`` and ``${{default_datastore}}`` substituted, as
    Azure does when the job runs (``azureml://datastores/${{default_datastore}}/paths/${{name}}/...``
    gives every run its own folder); any other expression in a path is refused."""
    values = {"name": job_name, "output_name": output_name, "default_datastore": default_datastore}

    def one(match: re.Match[str]) -> str:
        body = match["body"].strip()
        if body not in values:
            raise SpecError(f"unknown expression '{match.group(0)}' in an output path", field=field,
                            hint="an output path may use " + ", ".join(f"${{{{{n}}}}}" for n in _PATH_NAMES))
        return values[body]

    return _CURLY.sub(one, path)
