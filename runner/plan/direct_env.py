"""The environment ``direct`` bindings give a job: every binding its own storage options, and the
variables adlfs and fsspec read by themselves only where the bindings agree on them.

adlfs reads one set of process-wide variables (``AZURE_STORAGE_ACCOUNT_NAME``, ``_ACCOUNT_KEY``,
``_SAS_TOKEN``, ``_CONNECTION_STRING``, ``_CLIENT_ID``/``_CLIENT_SECRET``/``_TENANT_ID``: adlfs/spec.py,
``AzureBlobFileSystem.__init__``) and fsspec one ``FSSPEC_<PROTOCOL>`` per protocol: they cannot
name two storage accounts. So each direct binding also gets ``AZURE_ML_INPUT_<name>_STORAGE_OPTIONS``
(``AZURE_ML_OUTPUT_<name>_STORAGE_OPTIONS`` for an output), a JSON object of the keyword arguments
that open its URL (``fsspec.open(url, **json.loads(...))``). When two bindings would set one of those
process-wide variables to different values, none of their variables is set (never the last one's
credentials for every binding): each is opened with its own options, and the plan says so.

Pure: no I/O. The values may be secrets: never recorded, never logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from runner.modes import Direction

INPUT_ENV_PREFIX = "AZURE_ML_INPUT_"
OUTPUT_ENV_PREFIX = "AZURE_ML_OUTPUT_"
OPTIONS_SUFFIX = "_STORAGE_OPTIONS"

# adlfs's keyword argument for each variable it reads
AZURE_OPTIONS = {
    "AZURE_STORAGE_ACCOUNT_NAME": "account_name", "AZURE_STORAGE_ACCOUNT_KEY": "account_key",
    "AZURE_STORAGE_SAS_TOKEN": "sas_token", "AZURE_STORAGE_CONNECTION_STRING": "connection_string",
    "AZURE_STORAGE_CLIENT_ID": "client_id", "AZURE_STORAGE_CLIENT_SECRET": "client_secret",
    "AZURE_STORAGE_TENANT_ID": "tenant_id",
}


def options_variable(name: str, direction: Direction) -> str:
    prefix = INPUT_ENV_PREFIX if direction is Direction.INPUT else OUTPUT_ENV_PREFIX
    return f"{prefix}{name}{OPTIONS_SUFFIX}"


def storage_options(env: Mapping[str, str]) -> dict[str, object]:
    """The fsspec keyword arguments a binding's variables stand for."""
    options: dict[str, object] = {AZURE_OPTIONS[k]: v for k, v in env.items() if k in AZURE_OPTIONS}
    for key, value in env.items():
        if key.startswith("FSSPEC_"):
            try:
                options.update(json.loads(value))
            except (ValueError, TypeError):
                continue
    return options


@dataclass
class DirectEnv:
    """The merged environment of a job's direct bindings."""

    env: dict[str, str] = field(default_factory=dict)
    # (first binding, second binding, variable) for each process-wide variable they disagree on
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)

    def warning(self) -> str | None:
        if not self.conflicts:
            return None
        pairs = sorted({f"'{a}' and '{b}'" for a, b, _ in self.conflicts})
        names = sorted({variable for _, _, variable in self.conflicts})
        return (f"direct bindings {', '.join(pairs)} use different storage credentials, which "
                f"{', '.join(names)} cannot hold at once: those variables are not set; open each "
                f"binding's URL with its own options (fsspec.open(url, **json.loads(os.environ["
                f"'AZURE_ML_INPUT_<name>{OPTIONS_SUFFIX}'])))")


def merge_direct_env(bindings: Iterable[tuple[str, Direction, Mapping[str, str]]]) -> DirectEnv:
    """``bindings``: (name, direction, the variables its store needs) for each direct binding."""
    merged = DirectEnv()
    owner: dict[str, str] = {}  # variable -> the binding that set it
    dropped: set[str] = set()
    for name, direction, env in bindings:
        if not env:
            continue
        merged.env[options_variable(name, direction)] = json.dumps(storage_options(env), sort_keys=True)
        for key, value in env.items():
            if key in owner and merged.env.get(key, value) != value:
                merged.conflicts.append((owner[key], name, key))
                dropped.update(k for k, o in owner.items() if o in (owner[key], name))
                dropped.update(env)
            owner.setdefault(key, name)
            if key not in dropped:
                merged.env.setdefault(key, value)
    for key in dropped:
        merged.env.pop(key, None)
    return merged
