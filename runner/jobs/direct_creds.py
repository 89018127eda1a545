"""The credentials a job's ``direct`` bindings get: for each datastore, credentials for its container
only (``AzureDatastore.direct_env``), read-only unless a direct output of the job writes there. Every
direct binding on one datastore gets the same credentials, so the variables adlfs reads by itself
agree (``runner.plan.direct_env``). The container a direct output writes to must hold no registered
asset version (``runner.workspace.protect``): nothing else keeps those credentials away from it.

A SAS expires ``sas_validity`` after it is made, and ``limits.timeout`` counts from the container's start:
the credentials are checked when the job is resolved (a refusal fails it before anything is fetched) but
made when the job first reads them (``DirectCredentials``), which ``runner.jobs.materialize`` does once
every other input is materialized, however long that took, just before the container starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from runner.jobs.stored_datastores import binding_datastore
from runner.modes import Mode
from runner.plan.network import needs_network
from runner.plan.types import Binding, RunPlan
from runner.workspace.datastores import DatastoreStore
from runner.workspace.resolved import ResolvedPath
from runner.workspace.store_endpoints import datastore_endpoints

Resolved = Mapping[str, ResolvedPath]
Pair = tuple[dict[str, ResolvedPath], dict[str, ResolvedPath]]  # the inputs and the outputs

# a job without limits.timeout: a day (a SAS that leaks with a job's logs or environment opens the
# container for at most that long; a longer job sets limits.timeout and gets that plus the margin)
DEFAULT_SAS_S = 24 * 3600
MAX_SAS_S = 7 * 24 * 3600  # however long limits.timeout is: a SAS is never valid longer than a week
# after limits.timeout (from the moment the SAS is made, once the inputs are materialized): the outputs
# entered and the container made, and clock skew between this machine and the storage service
SAS_MARGIN_S = 3600


def sas_validity(timeout_s: float | None) -> float:
    """How long (s) the SAS a job's direct bindings (inputs and outputs) get stays valid: ``SAS_MARGIN_S``
    after the job's ``limits.timeout`` (``timeout_s``), at most ``MAX_SAS_S``; ``DEFAULT_SAS_S`` without
    a timeout."""
    return DEFAULT_SAS_S if not timeout_s else min(MAX_SAS_S, timeout_s + SAS_MARGIN_S)


class DirectCredentials(Mapping[str, str]):
    """A datastore's credentials for a job's direct bindings, made (``make``) when first read: a SAS
    then counts from the end of the materialization, not from when the job was resolved. Never shown."""

    def __init__(self, make: Callable[[], dict[str, str]]) -> None:
        self._make: Callable[[], dict[str, str]] | None = make
        self._made: dict[str, str] = {}

    def _env(self) -> dict[str, str]:
        if self._make is not None:
            self._made, self._make = self._make(), None
        return self._made

    def __getitem__(self, key: str) -> str:
        return self._env()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env())

    def __len__(self) -> int:
        return len(self._env())

    def __repr__(self) -> str:
        return "DirectCredentials(<secret>)"


def written_datastores(outputs: tuple[Binding, ...], resolved: Resolved) -> set[str]:
    """The datastores a direct output writes to."""
    return {name for b in outputs if b.mode is Mode.DIRECT and (name := resolved[b.name].datastore)}


def direct_store_endpoints(inputs: tuple[Binding, ...], outputs: tuple[Binding, ...], resolved_in: Resolved,
                           resolved_out: Resolved, datastores: DatastoreStore) -> tuple[str, ...]:
    """The ``host:port`` of the datastores the direct bindings reach (``RunPlan.store_endpoints``), from
    their records: no credential is made (``runner.workspace.store_endpoints``: no secret either)."""
    found: dict[str, tuple[str, ...]] = {}  # each datastore's endpoints, looked up once
    for bindings, resolved in ((inputs, resolved_in), (outputs, resolved_out)):
        for b in bindings:
            name = resolved[b.name].datastore if b.mode is Mode.DIRECT else None
            if name and name not in found:
                with binding_datastore(b):  # gone since it was queued: the error names the binding
                    found[name] = datastore_endpoints(datastores.get(name))
    return tuple(sorted({e for endpoints in found.values() for e in endpoints}))


def with_stored_endpoints(stored: Mapping[str, Any], plan: RunPlan, resolved_in: Resolved,
                          resolved_out: Resolved, datastores: DatastoreStore) -> RunPlan:
    """``plan``, read back from its record's ``stored`` plan, with the ``store_endpoints`` a runner from
    before that field did not record (a job Queued across an upgrade): found now from the datastores'
    records by the plan-time rule (``direct_store_endpoints``; no credential made), so a direct binding
    on a loopback store gets its relay, not the engine's default network. A datastore gone raises one
    ``ResolveError`` naming the binding (``runner.jobs.stored_datastores.gone_datastore``): the job fails;
    it never gets a wider network than its plan needs."""
    if "store_endpoints" in stored or not needs_network(plan):
        return plan
    return dataclasses.replace(plan, store_endpoints=direct_store_endpoints(
        plan.inputs, plan.outputs, resolved_in, resolved_out, datastores))


def with_direct_credentials(inputs: tuple[Binding, ...], outputs: tuple[Binding, ...], resolved_in: Resolved,
                            resolved_out: Resolved, datastores: DatastoreStore, *,
                            timeout_s: float | None = None) -> Pair:
    """``resolved_in``/``resolved_out`` with each direct binding's ``env`` replaced by its datastore's
    direct credentials (one ``DirectCredentials`` per datastore: a SAS expires ``sas_validity(timeout_s)``
    after the job first reads it, ``timeout_s`` being the job's ``limits.timeout``). Raises
    ``StorageError`` now for a datastore only read whose credentials cannot be narrowed to reading."""
    valid_s = sas_validity(timeout_s)
    writes = written_datastores(outputs, resolved_out)
    creds: dict[str, DirectCredentials] = {}

    def narrowed(b: Binding, found: ResolvedPath) -> ResolvedPath:
        name = found.datastore
        if name is None:
            return found
        if name not in creds:
            with binding_datastore(b):  # gone since it was resolved: the error names the binding
                datastore, write = datastores.get(name), name in writes
            datastore.direct_env(write=write, valid_s=valid_s)  # a refusal fails the job before any fetch
            creds[name] = DirectCredentials(lambda: datastore.direct_env(write=write, valid_s=valid_s))
        return dataclasses.replace(found, env=creds[name])

    def apply(bindings: tuple[Binding, ...], resolved: Resolved) -> dict[str, ResolvedPath]:
        return {**resolved, **{b.name: narrowed(b, resolved[b.name]) for b in bindings
                               if b.mode is Mode.DIRECT}}

    return apply(inputs, resolved_in), apply(outputs, resolved_out)
