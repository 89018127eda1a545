"""The credentials a job's ``direct`` bindings get: for each datastore, credentials for its container
only (``AzureDatastore.direct_env``), read-only unless a direct output of the job writes there. Every
direct binding on one datastore gets the same credentials, so the variables adlfs reads by itself
agree (``runner.plan.direct_env``). The container a direct output writes to must hold no registered
asset version (``runner.workspace.protect``): nothing else keeps those credentials away from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from runner.modes import Mode
from runner.plan.types import Binding
from runner.workspace.datastores import DatastoreStore
from runner.workspace.resolved import ResolvedPath

Resolved = Mapping[str, ResolvedPath]


def written_datastores(outputs: tuple[Binding, ...], resolved: Resolved) -> set[str]:
    """The datastores a direct output writes to."""
    return {name for b in outputs if b.mode is Mode.DIRECT and (name := resolved[b.name].datastore)}


def with_direct_credentials(inputs: tuple[Binding, ...], outputs: tuple[Binding, ...], resolved_in: Resolved,
                            resolved_out: Resolved, datastores: DatastoreStore
                            ) -> tuple[dict[str, ResolvedPath], dict[str, ResolvedPath]]:
    """``resolved_in``/``resolved_out`` with each direct binding's ``env`` replaced by its datastore's
    direct credentials (one set per datastore). Raises ``StorageError`` for a datastore only read
    whose credentials cannot be narrowed to reading."""
    writes = written_datastores(outputs, resolved_out)
    creds: dict[str, dict[str, str]] = {}

    def narrowed(found: ResolvedPath) -> ResolvedPath:
        name = found.datastore
        if name is None:
            return found
        if name not in creds:
            creds[name] = datastores.get(name).direct_env(write=name in writes)
        return dataclasses.replace(found, env=creds[name])

    def apply(bindings: tuple[Binding, ...], resolved: Resolved) -> dict[str, ResolvedPath]:
        return {**resolved, **{b.name: narrowed(resolved[b.name]) for b in bindings if b.mode is Mode.DIRECT}}

    return apply(inputs, resolved_in), apply(outputs, resolved_out)
