"""``ml_client.workspaces``: the client's one workspace, as Azure's ``WorkspaceOperations`` gives one.

    ws = ml_client.workspaces.get(ml_client.workspace_name)
    print(ws.name, ws.location, ws.resource_group, ws.workspace_dir)

A client has one workspace here, a local folder: its ``name`` is the client's ``workspace_name`` (else the
folder's name), its ``resource_group`` the client's ``resource_group_name``, its ``location`` ``local``, and
``workspace_dir`` the folder. ``get`` of another name raises ``ResolveError`` (azure.core's
``ResourceNotFoundError``) naming the folder; another local workspace is another client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import ResolveError
from runner.not_found import raises_not_found

LOCATION = "local"  # an Azure region's place: this machine


@dataclass
class WorkspaceInfo:
    """What ``ml_client.workspaces.get`` returns: azure.ai.ml's ``Workspace`` attributes that mean
    something here, and the folder (``workspace_dir``)."""

    name: str
    workspace_dir: Path
    resource_group: str | None = None
    subscription_id: str | None = None
    location: str = LOCATION
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str | None:
        """Azure's resource id, when the client has the subscription and resource group."""
        if not (self.subscription_id and self.resource_group):
            return None
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.MachineLearningServices/workspaces/{self.name}")


@raises_not_found("get")
class WorkspaceOperations:
    """``ml_client.workspaces``: ``get`` and ``list`` of the client's one workspace."""

    def __init__(self, folder: Path, *, workspace_name: str | None, resource_group_name: str | None,
                 subscription_id: str | None) -> None:
        name = workspace_name or folder.name
        self._workspace = WorkspaceInfo(name, folder, resource_group=resource_group_name,
                                        subscription_id=subscription_id, display_name=name)

    def get(self, name: str | None = None, **_: Any) -> WorkspaceInfo:
        """The client's workspace: ``name`` None, its name or its folder's name."""
        ws = self._workspace
        if name is None or name in (ws.name, ws.workspace_dir.name):
            return ws
        raise ResolveError(
            f"unknown workspace '{name}': this client's workspace is '{ws.name}', the local folder "
            f"{ws.workspace_dir}",
            hint="`--workspace <folder>` (or RUNNER_WORKSPACE) chooses another local workspace",
            python_hint=f"ml_client.workspaces.get() gives '{ws.name}'; another local workspace is another "
                        "client: MLClient(workspace_dir=...) (or RUNNER_WORKSPACE)")

    def list(self, **_: Any) -> Iterator[WorkspaceInfo]:
        """The client's one workspace."""
        return iter([self._workspace])
