"""Compute targets registered in the workspace: today one kind, a Ray cluster (``type: ray``). Azure's
compute YAML (``type: amlcompute``, ``computeinstance``) is taken by ``runner compute create`` and records
nothing (``runner.cli.compute``, as ``runner.client_compute`` takes its entities).

    runner compute create --name gpu-ray --type ray --address http://10.0.0.5:8265
    runner compute create --file compute.yml          # the same fields as YAML

A job that names ``compute: azureml:<name>`` of a registered Ray compute runs there (one Ray Job per
runner job, see ``runner.jobs.ray_submit``); a job naming a compute that is not registered runs on this
machine, as before. The ``computes`` table holds each compute's config as JSON (no secrets: a Ray
cluster's dashboard has no credentials, see docs/guides/ray.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner.errors import ResolveError, SourceLocation, SpecError
from runner.lazy_re import on_first_use
from runner.spec.yamlio import FieldPath, load_yaml
from runner.workspace.db import DEFAULT_DATASTORE, Workspace, utcnow

COMPUTE_TYPES = ("ray",)
_name_re = on_first_use(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,254}$")  # (runner.lazy_re: a compute's save only)


class RayCompute(BaseModel):
    """A Ray cluster reached through its dashboard's Jobs REST API (``address``)."""

    # its validator: at first use (a job naming a compute that is not registered builds none)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    name: str
    type: Literal["ray"] = "ray"
    address: str  # http://<head>:<dashboard port>
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # the datastore the nodes write a job's default outputs, artifacts and result record to; it must be
    # one they can reach (azure_blob / azure_data_lake_gen2 / a remote fsspec URL), never a local folder
    datastore: str = DEFAULT_DATASTORE
    # ship this runner (and mounts) to the nodes with each job (Ray's runtime_env py_modules); false
    # when the nodes' image has runner installed already
    ship_runner: bool = True
    python: str = "python"  # the interpreter the Ray Job's entrypoint runs on the node
    schema_: str | None = Field(default=None, alias="$schema")

    @field_validator("address")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(:\d+)?/?$", value):
            raise ValueError(f"address '{value}' is not http://<host>:<port> (the Ray dashboard's address, "
                             "e.g. http://127.0.0.2:8265)")
        return value.rstrip("/")

    def public_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"schema_"})


AnyCompute = RayCompute


def compute_name(reference: str) -> str:
    """``azureml:cpu-cluster`` -> ``cpu-cluster`` (a job's ``compute:`` value)."""
    return reference.removeprefix("azureml:").strip()


def compute_from_dict(data: dict[str, Any], where: Any = None) -> AnyCompute:
    """A checked compute config; the first problem as one ``SpecError`` naming the field."""
    kind = data.get("type", "ray")
    if kind not in COMPUTE_TYPES:
        raise SpecError(f"unknown compute type {kind!r}", field="type",
                        where=where(("type",)) if where else None,
                        hint="allowed types: " + ", ".join(COMPUTE_TYPES) + " (a Ray cluster)")
    try:
        return RayCompute.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown field '{field}'"
        elif first["type"] == "missing":
            message = f"missing required field '{field}'"
        allowed = ", ".join(n for n in RayCompute.model_fields if n != "schema_")
        raise SpecError(message, field=field, where=where((field,)) if where and field else None,
                        hint=f"a ray compute has: {allowed}") from exc


def read_compute_yaml(path: str | Path) -> tuple[dict[str, Any], Callable[[FieldPath], SourceLocation]]:
    """A compute YAML's mapping as written (a Ray compute's, or Azure's: ``runner.cli.compute``) and where
    each of its fields is (``where(("size",))``)."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise SpecError("a compute YAML must be a mapping (name, type, address, ...)", where=doc.where())
    return dict(doc.data), doc.where


def load_compute(path: str | Path) -> AnyCompute:
    """Load a Ray compute's YAML (``runner compute create --file``)."""
    data, where = read_compute_yaml(path)
    return compute_from_dict(data, where=where)


class ComputeStore:
    """Compute configs kept in the workspace database."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save(self, compute: AnyCompute) -> AnyCompute:
        """Create or replace a compute (Azure's ``begin_create_or_update``)."""
        if not _name_re().match(compute.name):
            raise SpecError(f"invalid compute name {compute.name!r}", field="name",
                            hint="use letters, digits, '_' and '-'")
        with self.workspace.transaction() as conn:
            conn.execute("INSERT INTO computes (name, type, config, created_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET type = excluded.type, config = excluded.config",
                         (compute.name, compute.type, json.dumps(compute.public_dict()),
                          utcnow().isoformat()))
        return compute

    def find(self, name: str) -> AnyCompute | None:
        with self.workspace.reading() as conn:
            row = conn.execute("SELECT config FROM computes WHERE name = ?", (name,)).fetchone()
        return None if row is None else compute_from_dict(json.loads(row["config"]))

    def get(self, name: str) -> AnyCompute:
        found = self.find(name)
        if found is None:
            known = ", ".join(self.names()) or "none"
            raise ResolveError(f"unknown compute '{name}'; computes in this workspace: {known}",
                               hint="register a Ray cluster with `runner compute create --name "
                                    f"{name} --type ray --address http://<head>:8265`",
                               python_hint="register a Ray cluster with `ml_client.compute.create_or_update("
                                           f"{{'name': '{name}', 'type': 'ray', 'address': 'http://<head>:8265'}})`")
        return found

    def names(self) -> list[str]:
        with self.workspace.reading() as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM computes ORDER BY name")]

    def list(self) -> list[AnyCompute]:
        return [self.get(name) for name in self.names()]

    def delete(self, name: str) -> None:
        """Forget a compute (the cluster itself, and jobs that ran on it, are not touched)."""
        self.get(name)
        with self.workspace.transaction() as conn:
            conn.execute("DELETE FROM computes WHERE name = ?", (name,))
