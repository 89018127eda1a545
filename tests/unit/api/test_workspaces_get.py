"""``ml_client.workspaces.get(ml_client.workspace_name)`` (Microsoft's "Connect to the workspace") gives the
client's workspace: its name, resource group and location as the client has them (location ``local``),
and the local folder it is (``workspace_dir``); ``get()`` without a name the same; ``list()`` that one. A
name that is not this client's is one ResourceNotFoundError saying which workspace the client uses.
Workspaces in tmp_path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError

from runner import MLClient


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(object(), subscription_id="00000000-0000-0000-0000-000000000000",
                    resource_group_name="rg-demo", workspace_name="ws-demo", workspace_dir=tmp_path / "ws")


def test_get_the_clients_workspace_as_the_docs_write_it(ml_client: MLClient, tmp_path: Path) -> None:
    ws = ml_client.workspaces.get(ml_client.workspace_name)
    assert (ws.name, ws.location, ws.resource_group) == ("ws-demo", "local", "rg-demo")
    assert ws.workspace_dir == (tmp_path / "ws").resolve()
    assert ml_client.workspaces.get().name == "ws-demo"
    assert ml_client.workspaces.get(name="ws-demo").workspace_dir == ws.workspace_dir
    assert [w.name for w in ml_client.workspaces.list()] == ["ws-demo"]


def test_a_client_without_azure_names_is_named_after_its_folder(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    client = MLClient(workspace_dir=tmp_path / "local-ws")
    with caplog.at_level(logging.WARNING):
        ws = client.workspaces.get()
    assert (ws.name, ws.resource_group, ws.location) == ("local-ws", None, "local")
    assert client.workspaces.get("local-ws").workspace_dir == (tmp_path / "local-ws").resolve()
    assert caplog.records == []


def test_another_name_is_not_found(ml_client: MLClient, tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFoundError) as info:
        ml_client.workspaces.get("prod-ws")
    said = str(info.value)
    assert "prod-ws" in said and "ws-demo" in said and str((tmp_path / "ws").resolve()) in said, said
    assert "workspace_dir" in said and "Traceback" not in said
