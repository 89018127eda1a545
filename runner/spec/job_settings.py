"""azure.ai.ml's job setting entities, as the data runner's YAML fields take (exported by
``runner.entities``; the distributions by ``runner`` too, as ``azure.ai.ml`` exports them), and the same
entities read back from a job's stored spec (``setting_of``: what ``ml_client.jobs.get(...)``'s job says).

    command(..., resources=JobResourceConfiguration(instance_count=2, shm_size="2g"))  # = resources={...}
    command(..., distribution=PyTorchDistribution(process_count_per_instance=2))  # = {"type": "pytorch", ...}
    command(..., services={"lab": JupyterLabJobService(nodes="all")})  # = {"lab": {"type": "jupyter_lab"}}
    node.limits = CommandJobLimits(timeout=600)
    setting_of("distribution", {"type": "PyTorch", "process_count_per_instance": 2})  # PyTorchDistribution

Each takes azure.ai.ml's keywords (a misspelled one is one ``SpecError`` naming the close one) and means
what the YAML's field means here: ``resources``, ``limits`` and ``distribution`` are used (a distribution's
variables: ``runner.plan.distribution_env``); ``services`` and ``queue_settings`` are accepted and ignored
with the YAML's warning. ``JobResourceConfiguration`` takes runner's ``gpu_count`` too (the YAML's).
"""

from __future__ import annotations

from typing import Any

from runner.spec.entity import Entity, present


class _Setting(Entity):
    """Keyword-only: ``_KEYWORDS`` (each an attribute, None when not given) are the YAML's fields, written
    under ``type: _TYPE`` when the YAML's mapping has one."""

    _TYPE: str | None = None
    _KEYWORDS: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        from runner.spec.asset import azure_keywords  # start-up cost: the assets' models (a YAML has none)

        given = azure_keywords(type(self).__name__, kwargs, self._KEYWORDS)
        for key in self._KEYWORDS:
            setattr(self, key, given.get(key))

    def _to_data(self) -> dict[str, Any]:
        fields = present(**{key: getattr(self, key) for key in self._KEYWORDS})
        return {"type": self._TYPE, **fields} if self._TYPE else fields


class JobResourceConfiguration(_Setting):
    """``resources:`` (``instance_type``, ``locations``, ``properties``, ``max_instance_count``: ignored;
    ``gpu_count``: runner's, the GPUs the container gets)."""

    _KEYWORDS = ("instance_count", "instance_type", "shm_size", "docker_args", "properties", "locations",
                 "max_instance_count", "gpu_count")


class CommandJobLimits(_Setting):
    """``limits: {timeout: <seconds>}``."""

    _KEYWORDS = ("timeout",)


class QueueSettings(_Setting):
    """``queue_settings:`` (ignored: there is no queue here)."""

    _KEYWORDS = ("job_tier", "priority")


class PyTorchDistribution(_Setting):
    """``distribution: {type: pytorch}``: the job gets PyTorch's variables, as one process (``RANK`` 0 of
    ``WORLD_SIZE`` 1)."""

    _TYPE, _KEYWORDS = "pytorch", ("process_count_per_instance",)


class MpiDistribution(_Setting):
    """``distribution: {type: mpi}``: the job gets Open MPI's variables, as one process (rank 0 of 1)."""

    _TYPE, _KEYWORDS = "mpi", ("process_count_per_instance",)


class TensorFlowDistribution(_Setting):
    """``distribution: {type: tensorflow}``: the job gets ``TF_CONFIG``, as one worker."""

    _TYPE, _KEYWORDS = "tensorflow", ("parameter_server_count", "worker_count")


class RayDistribution(_Setting):
    """``distribution: {type: ray}`` (ignored: one machine; a Ray compute runs a job on a cluster)."""

    _TYPE, _KEYWORDS = "ray", ("port", "address", "include_dashboard", "dashboard_port",
                               "head_node_additional_args", "worker_node_additional_args")


_SERVICE = ("endpoint", "nodes", "status", "port", "properties")


class JobService(_Setting):
    """azure.ai.ml's generic ``JobService``: what a fetched job's ``services["Studio"]`` (``endpoint``: the
    command that shows the job) and ``services["Tracking"]`` (its MLflow folder) are, and a ``services:``
    entry of a type the specific services below do not have."""

    _KEYWORDS = ("endpoint", "type", *_SERVICE[1:])


class _Service(_Setting):
    """A specific job service: ``.type`` is its type, an attribute, as azure.ai.ml's (``jupyter_lab``...)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.type = self._TYPE


class JupyterLabJobService(_Service):
    """A ``services:`` entry of ``type: jupyter_lab`` (ignored: no interactive services here)."""

    _TYPE, _KEYWORDS = "jupyter_lab", _SERVICE


class SshJobService(_Service):
    """A ``services:`` entry of ``type: ssh`` (ignored: no interactive services here)."""

    _TYPE, _KEYWORDS = "ssh", (*_SERVICE, "ssh_public_keys")


class TensorBoardJobService(_Service):
    """A ``services:`` entry of ``type: tensor_board`` (ignored: no interactive services here)."""

    _TYPE, _KEYWORDS = "tensor_board", (*_SERVICE, "log_dir")


class VsCodeJobService(_Service):
    """A ``services:`` entry of ``type: vs_code`` (ignored: no interactive services here)."""

    _TYPE, _KEYWORDS = "vs_code", _SERVICE


_BY_FIELD: dict[str, type[_Setting]] = {"resources": JobResourceConfiguration, "limits": CommandJobLimits,
                                        "queue_settings": QueueSettings}
# by the YAML's ``type`` (as azure.ai.ml reads it: ``PyTorch`` is ``pytorch``)
_BY_TYPE: dict[str, type[_Setting]] = {cls._TYPE: cls for cls in (
    PyTorchDistribution, MpiDistribution, TensorFlowDistribution, RayDistribution, JupyterLabJobService,
    SshJobService, TensorBoardJobService, VsCodeJobService) if cls._TYPE}


def setting_of(field: str, data: Any) -> Any:
    """A stored spec's ``resources``, ``limits``, ``queue_settings``, ``distribution`` or one ``services``
    entry (``field``: ``services``; one of no known type: a ``JobService``) as its entity; None for none;
    data no entity holds (a type or a key the entity does not have) as it is, never an error: it is a
    record, read back."""
    if not isinstance(data, dict):
        return data
    cls = _BY_FIELD.get(field) or _BY_TYPE.get(str(data.get("type") or "").lower()) or (
        JobService if field == "services" else None)
    if cls is None:
        return dict(data)
    fields = {k: v for k, v in data.items() if k != "type" or cls._TYPE is None}
    if not set(fields) <= set(cls._KEYWORDS):
        return dict(data)
    return cls(**fields)


# a ``distribution``'s fields by its type (azure.ai.ml's: ``runner.plan.distribution_env`` checks them)
DISTRIBUTION_FIELDS: dict[str, tuple[str, ...]] = {cls._TYPE or "": cls._KEYWORDS for cls in (
    PyTorchDistribution, MpiDistribution, TensorFlowDistribution, RayDistribution)}
