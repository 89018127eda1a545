"""The datastores a job's stored plan (``record.extra["plan"]``) names, looked up again after it was queued:
when the job starts (``runner.jobs.run``: each binding resolved again, a direct binding's credentials and
store endpoints), and when a job not yet started is shown (``runner job show``, the UI's job page).

- A datastore deleted since the job was queued: the run fails with one error naming the binding
  (``inputs.<name>`` / ``outputs.<name>``), its location (no secret) and the fix (``binding_datastore``).
- A plan from a runner that recorded no ``store_endpoints`` (a job Queued across an upgrade): its network
  is found for display as the run will find it (``runner.jobs.direct_creds.with_stored_endpoints``), from
  the datastores' records, read-only: no credential made, nothing written, no filesystem opened
  (``queued_network``). A datastore gone: the page says so, and that the network is decided when it starts.

    with binding_datastore(binding):
        found = resolver.resolve(binding.uri, field=f"inputs.{binding.name}")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from runner.errors import ResolveError, RunnerError
from runner.modes import Mode
from runner.plan.network import NO_CONTAINER, needs_network, plan_network
from runner.plan.types import Binding, RunPlan
from runner.uris import DatastorePath, FsspecUrl, parse_path
from runner.url_secrets import without_secrets
from runner.workspace.datastores import UnknownDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.store_endpoints import datastore_endpoints

DECIDED = "decided when the job starts"


def binding_field(b: Binding) -> str:
    """``inputs.<name>`` or ``outputs.<name>``."""
    return f"{b.direction.value}s.{b.name}"


def gone_datastore(b: Binding, err: UnknownDatastore) -> ResolveError:
    """The error of a stored plan's binding ``b`` whose datastore was deleted after the job was queued."""
    field, name = binding_field(b), err.datastore
    return ResolveError(
        f"datastore '{name}' of this {b.direction.value} ({without_secrets(b.uri)}) is not in this workspace "
        f"any more: it was deleted after the job was queued; datastores in this workspace: "
        f"{', '.join(err.known) or 'none'}", field=field,
        hint=f"create datastore '{name}' again (`runner datastore create --file <datastore.yml>`, the same "
             f"name) and submit the job again (`runner job create --file <job.yml>`), or submit it again "
             f"with {field} on one of the datastores listed",
        python_hint=f"create datastore '{name}' again (`ml_client.datastores.create_or_update("
                    f"load_datastore('<datastore.yml>'))`, the same name) and submit the job again "
                    f"(`ml_client.jobs.create_or_update(load_job('<job.yml>'))`), or submit it again with "
                    f"{field} on one of the datastores listed")


@contextmanager
def binding_datastore(b: Binding) -> Iterator[None]:
    """Around a look-up for binding ``b`` of a stored plan: a datastore gone raises ``gone_datastore``; any
    other error that says not where it is, located at the binding."""
    try:
        yield
    except UnknownDatastore as err:
        raise gone_datastore(b, err) from err
    except RunnerError as err:
        if err.field or err.where:
            raise
        raise err.located(binding_field(b), None) from err


def _datastore_of(resolver: Resolver, b: Binding) -> str | None:
    """The datastore binding ``b`` reaches, as resolving it again finds it: its canonical URI names it
    (``azureml://datastores/<ds>/...``), or an ``abfs://`` URL names an Azure datastore's container."""
    ref = parse_path(b.uri)
    if isinstance(ref, DatastorePath):
        return ref.datastore
    if isinstance(ref, FsspecUrl) and (found := resolver.azure_datastore_for(ref.url)) is not None:
        return found.name
    return None


def queued_network(ws: Workspace, stored: Mapping[str, Any], plan: RunPlan) -> str | None:
    """The network the container of a job not yet started will get, when its stored plan (``stored``, read
    back as ``plan``) recorded no ``store_endpoints``; None when it did, or needs no network (its plan's
    own is right). Each direct binding's datastore read from its record (no filesystem opened, no storage
    contacted, no credential made); a datastore gone (or unusable): ``DECIDED``, and why."""
    if "store_endpoints" in stored or not needs_network(plan):
        return None
    resolver, endpoints = Resolver(ws), set[str]()
    try:
        for b in plan.bindings:
            if b.mode is Mode.DIRECT and "://" in b.value:  # it reaches a store (``needs_network``'s)
                with binding_datastore(b):
                    if (name := _datastore_of(resolver, b)) is not None:
                        endpoints.update(datastore_endpoints(resolver.datastores.get(name)))
    except RunnerError as err:
        cause = err.__cause__ if isinstance(err.__cause__, UnknownDatastore) else None
        why = f"datastore '{cause.datastore}' that {err.field} uses is not in this workspace any more: the " \
              "job fails when it starts unless a datastore of that name is created again" if cause else \
            f"{err.location() or 'its plan'}: {without_secrets(err.message)}"
        return f"{DECIDED} ({why})"
    return plan_network(dataclasses.replace(plan, store_endpoints=tuple(sorted(endpoints)))).reason


def shown_network(ws: Workspace, extra: Mapping[str, Any], plan: RunPlan, *, terminal: bool,
                  in_container: bool) -> str | None:
    """The network to show for a job (``job show``, the UI): the one its container got (``extra``'s
    ``network``), else, not yet started, the one it will get (``queued_network``), or None: its plan's."""
    recorded = extra.get("network")
    if isinstance(recorded, str) and recorded:
        return recorded
    if terminal:
        return None
    if not in_container:
        return NO_CONTAINER
    return queued_network(ws, extra.get("plan") or {}, plan)
