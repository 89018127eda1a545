"""Turn a pydantic ``ValidationError`` into ONE ``SpecError``: where (file:line:col), which field, what
was expected, and how to fix it. Also the "did you mean" helper used across spec validation."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import PydanticCustomError

from runner.errors import ModeError, SourceLocation, SpecError
from runner.spec.secret_fields import shown_env_name, shown_input
from runner.spec.yamlio import YamlDoc
from runner.url_secrets import without_secrets

RUNNER_ERROR = "runner_error"  # PydanticCustomError type for messages written by our validators
RUNNER_MODE_ERROR = "runner_mode"  # ... for the supported-modes matrix (becomes ModeError)

_EXPECTED = {
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "a whole number",
    "float_parsing": "a number", "float_type": "a number", "bool_parsing": "true or false",
    "bool_type": "true or false", "string_type": "text (a string)", "dict_type": "a mapping of "
    "'key: value' lines", "model_type": "a mapping of 'key: value' lines", "model_attributes_type":
    "a mapping of 'key: value' lines", "list_type": "a list ('- item' lines)", "tuple_type": "a list",
}


MISSING_HINTS = {
    "command": "add command: <the shell command to run>, e.g. command: python train.py",
    "environment": "add environment: with an image (environment: {image: python:3.11}), a build "
                   "context (environment: {build: {path: docker/}}) or a reference "
                   "(environment: azureml:<name>@latest)",
}


def runner_error(message: str, hint: str | None = None,
                 python_hint: str | None = None) -> PydanticCustomError:
    """A validator's own message (raise it inside a pydantic validator; it becomes one ``SpecError``);
    ``python_hint``: ``hint`` in the Python API's words, where ``hint`` names CLI commands or flags."""
    return PydanticCustomError(RUNNER_ERROR, message, {k: v for k, v in (("hint", hint),
                                                                        ("python_hint", python_hint)) if v})


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely meant, or None: the only one it begins (ignoring case), else the
    nearest spelling (``difflib``'s, ratio 0.6 or more). The one rule behind every "did you mean"."""
    names = list(choices)
    folded = word.casefold()
    starting = [name for name in names if folded and name.casefold().startswith(folded)]
    close = starting if len(starting) == 1 else difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` (``closest``) or ``""``."""
    close = closest(word, choices)
    return f" (did you mean '{close}'?)" if close else ""


def _edits(a: str, b: str) -> int:
    """Edits (a character added, dropped or changed, two neighbours swapped) turning ``a`` into ``b``."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[-1]


_DIGITS = "0123456789"


def typo_of(word: str, names: Iterable[str]) -> str | None:
    """The name in ``names`` that ``word`` is a slip of, or None: equal ignoring case and ``-``/``_``, or
    one edit away (a character added, dropped or changed, two swapped; two edits when both names have 8
    characters or more). Names under 3 characters are never taken for slips (``nn`` may be a new name
    beside ``n``), nor numbered siblings, names differing only in their trailing digits (``data2`` beside
    ``data1`` or ``data``, ``model_v2`` beside ``model_v1``). Stricter than ``did_you_mean``: a slip is
    an error where a suggestion is a hint."""
    key = word.lower().replace("-", "_")
    found: tuple[int, str] | None = None
    for name in names:
        other = name.lower().replace("-", "_")
        if key != other and key.rstrip(_DIGITS) == other.rstrip(_DIGITS):
            continue
        shorter = min(len(key), len(other))
        allowed = 0 if shorter < 3 else 1 if shorter < 8 else 2
        edits = _edits(key, other) if abs(len(key) - len(other)) <= allowed else allowed + 1
        if edits <= allowed and (found is None or edits < found[0]):
            found = (edits, name)
    return found[1] if found else None


def field_location(field: str, where: SourceLocation | None, overridden: Mapping[str, str]
                   ) -> tuple[str, SourceLocation | None]:
    """``(field, where)`` for an error, or ``("<field> (from --set k=v)", None)`` when a ``--set``
    override gave that field (or a field around it): the YAML line would not be where the value is.
    ``overridden``: {key: how a message names its override} (``runner.spec.load.set_label``)."""
    for key, label in overridden.items():
        if field == key or field.startswith(key + ".") or key.startswith(field + "."):
            return f"{field} (from {label})", None
    return field, where


def shown_field(loc: Sequence[str | int]) -> str | None:
    """A cleaned path as an error names its field, never a secret in it: the key after an
    ``environment_variables`` as ``shown_env_name`` shows it, every other part ``without_secrets``."""
    parts: list[str] = []
    for index, part in enumerate(loc):
        named = index > 0 and loc[index - 1] == "environment_variables"
        parts.append(shown_env_name(str(part)) if named else without_secrets(str(part)))
    return ".".join(parts) or None


def _is_tag(part: object) -> bool:
    if not isinstance(part, str):
        return False
    return part.startswith("<") or "[" in part or part in {"str", "int", "float", "bool", "none"}


def clean_loc(loc: Sequence[int | str], data: Any) -> tuple[str | int, ...]:
    """Drop pydantic's union tags and ``[key]`` markers, keeping the keys that are in the user's data."""
    parts: list[str | int] = []
    current = data
    for part in loc:
        present = isinstance(current, Mapping) and part in current or (
            isinstance(current, list) and isinstance(part, int) and part < len(current))
        if present:
            parts.append(part)
            current = current[part]  # type: ignore[index]
            continue
        if _is_tag(part):
            continue
        parts.append(part)
        current = None
    return tuple(parts)


def _unwrap(annotation: Any, tag: str | None = None) -> list[tuple[type[BaseModel], str | None]]:
    """The model classes an annotation can hold (through Optional, Union, Annotated), with their
    discriminator tag (``Tag("<asset>")``) when they have one."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        args = typing.get_args(annotation)
        tags = [m.tag for m in args[1:] if isinstance(m, Tag)]
        return _unwrap(args[0], tags[0] if tags else tag)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg, tag)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, tag)]
    return []


def allowed_fields(root: type[BaseModel], parent: Sequence[str | int]) -> list[str]:
    """Field names (YAML spelling) allowed at ``parent``, a raw pydantic loc (tags pick the union member;
    dict levels like ``inputs.<name>`` are stepped over)."""
    names: list[str] = []
    for model in _models_at(root, parent):
        for name, field in model.model_fields.items():
            shown = field.alias or name
            if not field.exclude and shown not in names:
                names.append(shown)
    return names


def _field(model: type[BaseModel], part: str | int) -> Any:
    found = model.model_fields.get(str(part))
    return found or next((f for f in model.model_fields.values() if f.alias == part), None)


def _models_at(root: type[BaseModel], parent: Sequence[str | int]) -> list[type[BaseModel]]:
    models: list[tuple[type[BaseModel], str | None]] = [(root, None)]
    pending: list[tuple[type[BaseModel], str | None]] | None = None  # values of a dict level
    for part in parent:
        if isinstance(part, str) and part.startswith("<"):
            models = [(m, t) for m, t in models if t == part] or models
            continue
        if pending is not None:
            models, pending = pending, None
            continue
        nxt: list[tuple[type[BaseModel], str | None]] = []
        for model, _tag in models:
            field = _field(model, part)
            if field is None:
                continue
            if typing.get_origin(field.annotation) is dict:
                pending = (pending or []) + _unwrap(typing.get_args(field.annotation)[1])
            else:
                nxt += _unwrap(field.annotation)
        models = nxt
    return [m for m, _ in models] if pending is None else []


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _choices(ctx: Mapping[str, Any]) -> list[str]:
    expected = str(ctx.get("expected", ""))
    return re.findall(r"'([^']*)'", expected)


def _expected(error: Mapping[str, Any]) -> str | None:
    """What one error says was expected, for combining a union's alternatives."""
    kind = error["type"]
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in ("enum", "literal_error"):
        return " or ".join(f"'{c}'" for c in _choices(error.get("ctx") or {}))
    return None


def _union_message(errors: Sequence[Mapping[str, Any]], last: str) -> tuple[str, str] | None:
    """Several alternatives refused the same value (e.g. ``gpu_count: int | 'all'``): one message."""
    if len(errors) < 2:
        return None
    wanted = [_expected(e) for e in errors]
    if any(w is None for w in wanted):
        return None
    unique = list(dict.fromkeys(w for w in wanted if w))
    text = ", ".join(unique[:-1]) + f" or {unique[-1]}" if len(unique) > 1 else unique[0]
    return f"expected {text}, got {_got(errors[0].get('input'))}", f"give '{last}' {text}"


def _describe(error: Mapping[str, Any], root: type[BaseModel], loc: tuple[str | int, ...]
              ) -> tuple[str, str | None]:
    kind = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    last = str(loc[-1]) if loc else ""
    if kind in (RUNNER_ERROR, RUNNER_MODE_ERROR):
        return error["msg"], ctx.get("hint")
    if kind == "missing":
        return f"'{last}' is required", MISSING_HINTS.get(last, f"add '{last}:' here")
    if kind == "extra_forbidden":
        allowed = allowed_fields(root, tuple(error["loc"])[:-1])
        return (f"unknown field '{last}'{did_you_mean(last, allowed)}",
                "allowed here: " + ", ".join(allowed) if allowed else "remove it")
    if kind in ("enum", "literal_error"):
        choices = _choices(ctx)
        return (f"{_got(value)} is not allowed{did_you_mean(str(value), choices)}",
                "use one of: " + ", ".join(choices))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
                 "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}[kind]
        return (f"expected a number {bound[0]} {ctx.get(bound[1])}, got {_got(value)}",
                f"give '{last}' a number {bound[0]} {ctx.get(bound[1])}")
    if kind in _EXPECTED and not loc:
        return (f"a job file must be {_EXPECTED[kind]}, got {_got(value)}",
                "start with 'command: <shell command>' and 'environment: <image or reference>' lines")
    if kind in _EXPECTED:
        return (f"expected {_EXPECTED[kind]}, got {_got(value)}",
                f"give '{last}' {_EXPECTED[kind]}" + (" (quote numbers meant as text)"
                                                      if kind == "string_type" else ""))
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message, f"fix '{last}'" if last else None


def from_validation_error(
    exc: ValidationError,
    *,
    root: type[BaseModel],
    data: Any,
    doc: YamlDoc | None,
    overridden: Mapping[str, str] | None = None,
) -> SpecError:
    """The first problem in ``exc`` as one ``SpecError`` (more problems are counted in the hint); a
    value it quotes is shown without a secret (``without_secrets``)."""
    # typos first; a value in a field that holds secrets (environment_variables, docker_args) as its shape
    errors = [shown_input(e, clean_loc(e["loc"], data))
              for e in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")]
    error = errors[0]
    loc = clean_loc(error["loc"], data)
    same_place = [e for e in errors if clean_loc(e["loc"], data) == loc]
    combined = _union_message(same_place, str(loc[-1]) if loc else "")
    message, hint = combined or _describe(error, root, loc)
    if combined:
        errors = [error] + [e for e in errors if e not in same_place]
    field = shown_field(loc)
    where: SourceLocation | None = doc.where(loc) if doc is not None else SourceLocation(None)
    if field:
        field, where = field_location(field, where, overridden or {})
    more = len([e for e in errors[1:] if not (error["type"] == "extra_forbidden" and e["type"] == "missing")])
    python = (error.get("ctx") or {}).get("python_hint") if error["type"] == RUNNER_ERROR and not combined \
        else None
    if more:
        hint = (hint + "; " if hint else "") + f"{more} more problem(s) may follow once this is fixed"
        python = python and f"{python}; {more} more problem(s) may follow once this is fixed"
    cls = ModeError if error["type"] == RUNNER_MODE_ERROR else SpecError
    # the value a message quotes is the user's ("'AccountKey=...' is not a mode"): never a secret in it
    return cls(without_secrets(message), field=field, where=where, hint=hint and without_secrets(hint),
               python_hint=python and without_secrets(python))
