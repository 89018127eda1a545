"""``ml_client.compute``: the Ray clusters jobs can run on (``compute: azureml:<name>``), and what Azure's
compute entities mean here.

    ml_client.compute.create_or_update({"name": "gpu-ray", "type": "ray", "address": "http://<head>:8265"})
    cpu_cluster = ml_client.compute.begin_create_or_update(AmlCompute(name="cpu-cluster", ...)).result()

An ``AmlCompute`` or ``ComputeInstance`` (or its dict, ``type: amlcompute``) creates nothing and records
nothing: the call returns it, as Azure's poller would, and logs one note (logger ``runner.client``) that a
job naming it runs on this machine, in the words such a job is told (``runner.jobs.compute``); ``get`` of
that name still raises, as for any name not registered. A Ray compute registered under the name stays.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from runner.entities_compute import AnyAzureCompute, _AzureCompute, azure_compute_from_dict
from runner.errors import RunnerError
from runner.jobs.compute import not_created_note
from runner.not_found import raises_not_found
from runner.poller import Done
from runner.workspace.computes import ComputeStore, RayCompute, compute_from_dict

logger = logging.getLogger("runner.client")

ComputeArgument = RayCompute | AnyAzureCompute | dict[str, Any]


@raises_not_found("get", "delete", "begin_delete", "cluster_state")
class ComputeOperations:
    """``ml_client.compute``: the Ray clusters jobs can run on (``compute: azureml:<name>``); Azure's
    ``AmlCompute`` and ``ComputeInstance`` are taken and create nothing (jobs naming them run here)."""

    def __init__(self, store: ComputeStore) -> None:
        self._store = store

    def create_or_update(self, compute: ComputeArgument, **_: Any) -> RayCompute | AnyAzureCompute:
        """A Ray compute registered (replacing one of that name); an Azure compute returned as given, not
        recorded (one note says a job naming it runs on this machine)."""
        if isinstance(compute, dict):
            compute = azure_compute_from_dict(compute) or compute_from_dict(compute)
        if isinstance(compute, _AzureCompute):
            self._tell_not_created(compute)
            return compute
        return self._store.save(compute)

    def begin_create_or_update(self, compute: ComputeArgument, **_: Any) -> Done:
        """Azure's long-running form: ``.result()`` is the compute (registering one is immediate)."""
        return Done(self.create_or_update(compute))

    def get(self, name: str) -> RayCompute:
        return self._store.get(name)

    def list(self, **_: Any) -> Iterator[RayCompute]:
        return iter(self._store.list())

    def delete(self, name: str) -> None:
        self._store.delete(name)

    def begin_delete(self, name: str) -> Done:
        self.delete(name)
        return Done(None)

    def cluster_state(self, name: str) -> dict[str, Any]:
        """Whether the compute's cluster answers, its Ray version and its nodes' resources."""
        from runner.backends.ray_jobs import RayJobsClient  # urllib: only when a cluster is asked

        compute = self._store.get(name)
        ray = RayJobsClient(compute.address, timeout=5)
        try:
            version = ray.version().get("ray_version")
            nodes = ray.nodes()
        except RunnerError as err:
            return {"state": "unreachable", "error": err.message}
        return {"state": "ready", "ray_version": version, "nodes": [
            {"ip": n.get("node_ip"), "head": bool(n.get("is_head_node")),
             "resources": {k: v for k, v in n.get("resources_total", {}).items()
                           if not k.startswith("node:")}}
            for n in nodes]}

    def _tell_not_created(self, compute: _AzureCompute) -> None:
        """The one note for an Azure compute given: nothing is created, and where a job naming it runs."""
        ray = self._store.find(str(compute.name))
        logger.warning("%s", not_created_note(type(compute).__name__, str(compute.name),
                                              ray.address if ray is not None else None, python=True))
