"""The Register model form copies only files of the folder the UI serves (the folder `runner ui` was
started in): anyone who can open connections on the machine can use the UI, so a path outside it
(``/etc/shadow``, another user's home) or a link leading out of it is refused, and so are the
workspace's own secrets. Datastore, job and remote storage paths are taken as they are."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_support import Browserless, LiveUI, model_folder, start_ui

KEY = "c2VjcmV0LWFjY291bnQta2V5LW5ldmVyLXNob3du"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    model_folder(folder / "model")
    return folder


@pytest.fixture
def served(ui_extra: None, ui_workspace: Path, project: Path) -> Iterator[LiveUI]:
    ui = start_ui(ui_workspace, files_root=project)
    ui.client.datastores.create_or_update({"name": "azkey", "type": "azure_blob", "account_name": "a",
                                           "container_name": "c", "credentials": {"account_key": KEY}})
    yield ui
    if ui.thread.is_alive():
        ui.stop()


def _post(ui: LiveUI, path: str, name: str = "m") -> tuple[int, str]:
    web = Browserless(ui.address)
    status, _, text = web.request("/register/model", {"csrf_token": web.csrf(), "name": name, "path": path})
    return status, text


def _refused(ui: LiveUI, path: str, message: str) -> None:
    status, text = _post(ui, path)
    assert status == 422 and 'id="path-error"' in text and message in text, (path, status, text[-3000:])
    assert KEY not in text and "Traceback" not in text


def test_a_path_inside_the_served_folder_registers(served: LiveUI, project: Path) -> None:
    assert _post(served, "model", "rel")[0] == 303  # relative to the served folder
    assert _post(served, str(project / "model"), "abs")[0] == 303
    assert _post(served, f"file://{project / 'model' / 'model.pkl'}", "url")[0] == 303
    assert served.client.models.get("rel", label="latest").version == "1"


@pytest.mark.parametrize("outside", ["/etc/hostname", "file:///etc/hostname", "local:///etc/hostname",
                                     "../outside.bin"])
def test_a_host_path_outside_the_served_folder_is_refused(served: LiveUI, project: Path,
                                                          outside: str) -> None:
    (project.parent / "outside.bin").write_bytes(b"x")
    _refused(served, outside, "outside the folder the UI serves")
    assert served.client.models.list() == [] or list(served.client.models.list()) == []


def test_a_link_leading_out_of_the_served_folder_is_refused(served: LiveUI, project: Path) -> None:
    (project / "etc").symlink_to("/etc", target_is_directory=True)
    _refused(served, "etc/hostname", "outside the folder the UI serves")
    (project / "model" / "passwd").symlink_to("/etc/hostname")
    _refused(served, "model", "leads out of the folder the UI serves")
    os.unlink(project / "model" / "passwd")
    (project / "model" / "inside").symlink_to(project / "model" / "model.pkl")
    assert _post(served, "model")[0] == 303  # a link that stays inside is fine


def test_the_workspaces_secrets_are_refused_even_inside_the_served_folder(ui_extra: None, ui_workspace: Path,
                                                                           project: Path) -> None:
    ui = start_ui(ui_workspace, files_root=ui_workspace.parent)  # the workspace lies in the served folder
    try:
        ui.client.datastores.create_or_update({"name": "azkey", "type": "azure_blob", "account_name": "a",
                                               "container_name": "c", "credentials": {"account_key": KEY}})
        _refused(ui, str(ui_workspace / "secrets" / "datastore-azkey.json"), "the workspace&#39;s secrets")
        _refused(ui, str(ui_workspace), "the workspace&#39;s secrets")
    finally:
        ui.stop()


@pytest.mark.parametrize("url", ["memory://bucket/m", "git://repo/m", "zip://m::file:///tmp/x.zip"])
def test_other_fsspec_urls_are_refused_with_what_the_form_takes(served: LiveUI, url: str) -> None:
    _refused(served, url, "azureml://datastores/")


def test_datastore_and_remote_paths_are_taken_as_given(served: LiveUI) -> None:
    root = Path(served.client.workspace.root) / "datastores" / "workspaceblobstore" / "models"
    model_folder(root / "m")
    assert _post(served, "azureml://datastores/workspaceblobstore/paths/models/m")[0] == 303
