"""A version's tags given whole to an update: ``--set tags={json}`` on the CLI, ``set_values={"tags": ...}``
in Python (a JSON object's text, or a mapping). A number or flag becomes its text, as in a YAML file; a
list or mapping as a tag's value is refused, naming the tag. Errors carry the Python API's words too
(``runner.errors``: ``python_message``, ``python_hint``)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from runner.errors import RegistryError
from runner.spec.asset import scalar_text

_CLI, _PYTHON = "--set tags=...", "set_values={'tags': ...}"


def parse_tags_value(value: object) -> dict[str, str]:
    """The tags ``value`` gives (the whole set: it replaces the version's tags)."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise _not_a_mapping() from exc
    if not isinstance(parsed, Mapping):
        raise _not_a_mapping()
    tags = {str(k): scalar_text(v) for k, v in parsed.items()}
    for key, text in tags.items():  # as in a YAML file: a number or flag is its text, a list is refused
        if not isinstance(text, str):
            kind = "list" if isinstance(text, list) else "mapping"
            why = (f"tag '{key}' is a {kind}; a tag's value is text (a string, a number or true/false), as "
                   "in a model or data YAML")
            raise RegistryError(f"{_CLI}: {why}", field=f"tags.{key}", python_message=f"{_PYTHON}: {why}",
                                hint=f'give it as text, for example --set tags={{"{key}": "a,b"}}',
                                python_hint=f"give it as text, for example set_values={{'tags': {{'{key}': "
                                            "'a,b'}}")
    return tags


def _not_a_mapping() -> RegistryError:
    return RegistryError(f"{_CLI} needs a JSON object", hint="or use --set tags.<key>=<value>",
                         python_message=f"{_PYTHON} needs a JSON object or a dict",
                         python_hint="give set_values={'tags': {'<key>': '<value>'}} (every tag), or "
                                     "set_values={'tags.<key>': '<value>'} (one tag)")
