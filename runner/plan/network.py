"""The network a job's container gets, from its plan alone (no daemon, no credentials made): what
``runner job validate`` prints and what the docker backend gives the container
(``runner.backends.container_args.choose_network``), so the two never disagree.

- ``none``: no ``direct`` binding reaches a store over the network (a folder here is bound instead);
- ``relayed``: every store endpoint is on loopback (Azurite): a namespace of its own with exactly those
  endpoints relayed in (``runner.backends.netns_relay``);
- ``default``: a store elsewhere: the engine's default network, the host's when the engine has none.

The endpoints are the direct bindings' http(s) URLs and their datastores' endpoints (``RunPlan.
store_endpoints``: ``runner.workspace.store_endpoints``, set when the job is planned). Pure.

    network = plan_network(plan)
    network.kind, network.endpoints, network.reason  # "relayed", (("127.0.0.1", 10000),), "relayed to ..."
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.lazy_re import on_first_use
from runner.modes import Mode
from runner.plan.types import RunPlan
from runner.workspace.store_endpoints import endpoint_text, endpoints_in, parse_endpoint

NONE, RELAYED, DEFAULT = "none", "relayed", "default"
NO_CONTAINER = "the host's network: the process backend runs the job on this machine, in no container"
_loopback_re = on_first_use(r"^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$", re.IGNORECASE)


def needs_network(plan: RunPlan) -> bool:
    """A direct-mode binding on a remote store (its value is a URL, not a path) must reach its store."""
    return any(b.mode is Mode.DIRECT and "://" in b.value for b in plan.bindings)


def store_endpoints(plan: RunPlan) -> list[tuple[str, int]]:
    """Every endpoint the direct bindings reach: the ``http(s)://host[:port]`` their URLs name and their
    datastores' (``RunPlan.store_endpoints``), sorted, a port the scheme's when none is written."""
    found = set(endpoints_in(b.value for b in plan.bindings if b.mode is Mode.DIRECT))
    found.update(parse_endpoint(text) for text in plan.store_endpoints)
    return sorted(found)


@dataclass(frozen=True)
class PlannedNetwork:
    kind: str  # NONE, RELAYED or DEFAULT
    endpoints: tuple[tuple[str, int], ...] = ()
    reason: str = ""  # what the job record's ``extra.network`` says too (``DEFAULT``: with the engine's)

    def as_data(self, *, in_container: bool = True) -> dict[str, Any]:
        """``job validate -o json``'s ``network``."""
        if not in_container:
            return {"kind": "host", "endpoints": [], "description": NO_CONTAINER}
        return {"kind": self.kind, "endpoints": [endpoint_text(h, p) for h, p in self.endpoints],
                "description": self.reason}


def plan_network(plan: RunPlan) -> PlannedNetwork:
    """The network ``plan``'s container gets (see the module)."""
    if not needs_network(plan):
        return PlannedNetwork(NONE, (), "none: no binding needs one")
    endpoints = tuple(store_endpoints(plan))
    if endpoints and all(_loopback_re().match(host) for host, _ in endpoints):
        shown = ", ".join(endpoint_text(h, p) for h, p in endpoints)
        return PlannedNetwork(RELAYED, endpoints, f"relayed to {shown} only: a direct binding's store is on "
                                                  "loopback; the container has no other network")
    return PlannedNetwork(DEFAULT, endpoints, "the engine's default network (host when it has none): a "
                                              "direct binding's store is not on this machine's loopback")
