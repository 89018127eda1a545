"""What every datastore kind has (``DatastoreBase``): the kinds (``runner.workspace.datastore_kinds``,
``runner.workspace.azure_datastore``) build on it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class DatastoreBase(BaseModel):
    """What every datastore kind has: a name, a description, tags."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    schema_: str | None = Field(default=None, alias="$schema")

    def host_root(self, workspace_root: Path) -> str | None:
        """Its folder on this machine, resolved (None: remote): a job binds it, and writes there follow
        no link below it (``mounts.transfer.nofollow``), whatever the kind."""
        return None
