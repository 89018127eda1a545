"""azure.ai.ml's Azure compute entities, ``AmlCompute`` (a cluster) and ``ComputeInstance``; exported by
``runner.entities``.

    cpu_cluster = AmlCompute(name="cpu-cluster", size="STANDARD_DS3_V2", min_instances=0, max_instances=4)
    cpu_cluster = ml_client.compute.begin_create_or_update(cpu_cluster).result()

No Azure compute is created here: ``ml_client.compute`` (``runner.client_compute``) returns the entity,
records nothing and says that a job naming it runs on this machine. Every azure.ai.ml keyword is taken and
kept as an attribute (``size``, ``tier``, ``idle_time_before_scale_down``...); a misspelled one is one
``SpecError``.
"""

from __future__ import annotations

from typing import Any

from runner.errors import SpecError
from runner.spec.asset import azure_keywords

# azure.ai.ml's Compute keywords (each kind's ``location``, ``resource_id`` and what a fetched one has)
_COMPUTE = ("type", "location", "resource_id", "id", "provisioning_state", "provisioning_errors",
            "created_on")
_AML_COMPUTE = {"min_instances": 0, "max_instances": 1, "idle_time_before_scale_down": None, "tier": None,
                "ssh_public_access_enabled": None, "ssh_settings": None, "network_settings": None,
                "identity": None, "enable_node_public_ip": True}
_COMPUTE_INSTANCE = {"ssh_public_access_enabled": None, "create_on_behalf_of": None,
                     "network_settings": None, "ssh_settings": None, "schedules": None, "identity": None,
                     "idle_time_before_shutdown": None, "idle_time_before_shutdown_minutes": None,
                     "setup_scripts": None,
                     "enable_node_public_ip": True, "custom_applications": None, "enable_sso": True,
                     "enable_root_access": True, "release_quota_on_stop": False, "enable_os_patching": False,
                     "state": None, "last_operation": None, "services": None}


class _AzureCompute:
    """An Azure compute as azure.ai.ml describes it; nothing here creates one."""

    type = ""
    _SETTINGS: dict[str, Any] = {}

    def __init__(self, *, name: str | None = None, size: str | None = None, description: str | None = None,
                 tags: dict[str, str] | None = None, **kwargs: Any) -> None:
        entity = type(self).__name__
        takes = ("name", "size", "description", "tags", *self._SETTINGS, "location")
        given = azure_keywords(entity, kwargs, (*takes, *_COMPUTE), listed=takes)
        if not isinstance(name, str) or not name:
            raise SpecError(f"{entity}() needs a name", field="name",
                            hint=f"{entity}(name='cpu-cluster', size=...): the name jobs give as compute=")
        given.pop("type", None)  # azure.ai.ml's own: each entity is its one type
        self.name, self.size, self.description, self.tags = name, size, description, tags or {}
        self.location: str | None = given.pop("location", None)
        self.resource_id: str | None = given.pop("resource_id", None)
        for key, default in self._SETTINGS.items():
            setattr(self, key, given.pop(key, default))
        self._extra = given  # what a fetched one has (id, provisioning_state...)

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        if item in _COMPUTE:
            return self._extra.get(item)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{item}'")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, type={self.type!r}, size={self.size!r})"


class AmlCompute(_AzureCompute):
    """azure.ai.ml's compute cluster (``type: amlcompute``): its settings are kept (``min_instances`` 0 and
    ``max_instances`` 1 unless given, as azure.ai.ml's); no cluster is created here."""

    type = "amlcompute"
    _SETTINGS = _AML_COMPUTE


class ComputeInstance(_AzureCompute):
    """azure.ai.ml's compute instance (``type: computeinstance``); none is created here."""

    type = "computeinstance"
    _SETTINGS = _COMPUTE_INSTANCE


AZURE_COMPUTES: dict[str, type[_AzureCompute]] = {"amlcompute": AmlCompute,
                                                  "computeinstance": ComputeInstance}
AnyAzureCompute = AmlCompute | ComputeInstance


def azure_compute_from_dict(data: dict[str, Any]) -> AmlCompute | ComputeInstance | None:
    """A dict with ``type: amlcompute`` (or ``computeinstance``) as its entity; None for another type."""
    kind = AZURE_COMPUTES.get(str(data.get("type", "")).lower())
    if kind is None:
        return None
    return kind(**{str(k): v for k, v in data.items() if k != "type"})  # type: ignore[return-value]
