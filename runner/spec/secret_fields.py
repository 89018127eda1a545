"""What a message may show of the fields that hold secrets, and the literal inputs that may not hold one.

    shown_set_value(("resources", "docker_args"), "-e API_TOKEN=abc --bogus")  # "-e API_TOKEN=*** --bogus"
    shown_set_value(("environment_variables", "HF_TOKEN"), "abc")              # "***"
    shape([1])                                                                # "a list"
    literal_secret("AccountName=a;AccountKey=k==")      # (message, hint): refused, the value never shown

``environment_variables`` and ``resources.docker_args`` (``SECRET_FIELDS``) hold secrets by the
environment-variable rule (``runner.spec.env_secret_rule.is_secret``: a name that says so, or a value
that looks like one), which ``runner.plan.env_secrets`` keeps out of a job's record. So a ``--set`` of
them is named with each such value as ``***`` (``shown_set_value``, for ``runner.spec.load.set_label``;
docker_args read as the backend reads them, ``masked_docker_args``), and a spec error about a value
written there names its shape, never the value (``shape``, ``shown_input``).

A literal input is kept as written: in the job's record, its plan's ``AZURE_ML_INPUT_<name>`` and the
command it is substituted into (``job show``, ``job list -o json``). One that holds a secret by its value
(``value_is_secret``: a connection string's key, a SAS signature, a URL's password, a PEM private key, a
token) is refused (``literal_secret``); by its name it is not (``sort_key``, ``api_token`` may be ordinary
inputs: a name is no value).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from runner.spec.docker_env import with_env_values
from runner.spec.env_secret_rule import is_secret, value_is_secret
from runner.url_secrets import without_secrets

MASK = "***"
SECRET_FIELDS = frozenset({"environment_variables", "docker_args"})


def shape(value: Any) -> str:
    """How a message names a value it does not show: ``a mapping``, ``a list``, ``a string``..."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "nothing (null)" if value is None else f"a {type(value).__name__}"


class _Shape(str):
    """A value as an error quotes it (its ``repr``): its shape."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def holds_secrets(loc: Sequence[str | int]) -> bool:
    """Whether a field path lies in a field that holds secrets (``SECRET_FIELDS``)."""
    return any(part in SECRET_FIELDS for part in loc if isinstance(part, str))


def shown_input(error: Mapping[str, Any], loc: Sequence[str | int]) -> Mapping[str, Any]:
    """A pydantic error with its ``input`` as its shape when ``loc`` (its cleaned path) is in a field that
    holds secrets, else as it is."""
    if not holds_secrets(loc) or "input" not in error:
        return error
    return {**error, "input": _Shape(shape(error["input"]))}


def shown_env_name(name: str) -> str:
    """An ``environment_variables`` name as a message (its field path, a ``--set`` of the mapping) shows
    it: what follows its first '=' (a value written into the name, ``"A=hunter2": x``) as ``***``, what
    comes before ``without_secrets``."""
    head, equals, _ = name.partition("=")
    return without_secrets(head) + (f"={MASK}" if equals else "")


def masked_docker_args(args: Sequence[str]) -> list[str]:
    """docker_args with each secret they set (``-e NAME=VALUE``, ``--env=NAME=VALUE``, read as the backend
    reads them: ``runner.spec.docker_env``) as ``NAME=***``; every other token as written."""
    return with_env_values(args, lambda name, value: MASK if is_secret(name, value) else None)


def _masked_at(path: Sequence[str], value: Any) -> Any:
    """``value`` as set at field ``path``, with what the environment-variable rule says is a secret as
    ``***``: a variable's value, a docker_args variable's, anything else that field holds in another shape
    (a list of variables, a mapping of docker_args)."""
    last, parent = (path[-1] if path else ""), (path[-2] if len(path) > 1 else "")
    if last == "environment_variables" and not isinstance(value, Mapping):
        return MASK if value not in (None, "") else value
    if last == "environment_variables":  # a name holding '=' (refused) shown without what follows it
        return {shown_env_name(str(key)): _masked_at([*path, str(key)], item) for key, item in value.items()}
    if parent == "environment_variables" and is_secret(last, value if isinstance(value, str)
                                                       else json.dumps(value)):
        return MASK
    if "docker_args" in (last, parent):
        if isinstance(value, str):
            return masked_docker_args([value])[0]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return masked_docker_args(value)
        return MASK if value not in (None, "") else value
    if isinstance(value, Mapping):
        return {key: _masked_at([*path, str(key)], item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_at([*path, str(index)], item) for index, item in enumerate(value)]
    return without_secrets(value) if isinstance(value, str) else value


def shown_set_value(path: Sequence[str | int], raw: str) -> str:
    """A ``--set``'s value (``raw``, as given) as a message shows it: a secret the field at ``path`` holds
    by the environment-variable rule as ``***`` (a JSON value shown as JSON again), and everything
    ``without_secrets``."""
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    if isinstance(value, str):
        value = raw  # as load's --set reads it: text is taken as given
    masked = _masked_at([str(part) for part in path], value)
    if masked == value:
        return without_secrets(raw)
    return without_secrets(masked if isinstance(masked, str) else json.dumps(masked))


def literal_secret(value: object) -> tuple[str, str] | None:
    """(message, hint) for a literal input's value (or default) that looks like a secret
    (``value_is_secret``), never showing it; None for one that does not."""
    if not isinstance(value, str) or not value_is_secret(value):
        return None
    return ("this literal input holds what looks like a secret (a connection string's key or password, a "
            "SAS token or signed URL, a URL with a password, a private key, a token), and a literal's value "
            "is kept as written: in the job's (a component's) record, its AZURE_ML_INPUT_<name> and the "
            "command it is substituted into (`job show`, `job list -o json`)",
            "pass the secret through environment_variables instead, which runner keeps out of its records "
            "(from your shell: --set environment_variables.<NAME>=\"$<NAME>\"; in Python: "
            "environment_variables={'<NAME>': os.environ['<NAME>']}), and have the command read $<NAME> in "
            "place of this input")
